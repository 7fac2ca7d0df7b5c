/**
 * The one place where errors become HTTP responses (CH-B1): an OperationOutcome JSON body with the
 * status its issue code maps to, never a stack or an upstream message. Errors from the body parser
 * (malformed JSON, too large, bad charset) are mapped to fixed texts: their own messages can quote the
 * body, so they are neither sent nor logged.
 */
import type { ErrorRequestHandler } from 'express';
import { badRequest, OperationOutcomeError, toOperationOutcomeError, tooLarge } from '../errors';
import type { Logger } from '../log';
import { requestLog } from '../ops/http';

const unsupportedMediaType = (diagnostics: string) =>
  new OperationOutcomeError('not-supported', diagnostics, { status: 415 });

/** Errors of body-parser / http-errors carry a `type` and a `status`; everything else is ours or a bug. */
function toHttpError(err: unknown): OperationOutcomeError {
  if (err instanceof OperationOutcomeError) return err;
  const { type, status } = (typeof err === 'object' && err !== null ? err : {}) as { type?: unknown; status?: unknown };
  switch (type) {
    case 'entity.too.large':
      return tooLarge('The request body is larger than the service accepts');
    case 'entity.parse.failed':
      return badRequest('The request body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return unsupportedMediaType('The request body charset or encoding is not supported (use UTF-8 JSON)');
    case 'request.aborted':
    case 'request.size.invalid':
      return badRequest('The request body was incomplete');
    default:
      break;
  }
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new OperationOutcomeError('invalid', 'The request is invalid', { status });
  return toOperationOutcomeError(err);
}

/** The stack frames of an unexpected error, without its message (which could quote request data). */
function framesOf(err: unknown): string | undefined {
  return err instanceof Error ? err.stack?.split('\n').slice(1).join('\n') : undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const error = toHttpError(err);
    const log = requestLog(res, logger); // the request id on the line
    if (error.status >= 500 && !(err instanceof OperationOutcomeError)) {
      log.error(
        { event: 'http.error', errorName: err instanceof Error ? err.name : typeof err, frames: framesOf(err) },
        'unexpected error',
      );
    } else if (error.status >= 500) {
      log.error({ event: 'http.error', status: error.status, diagnostics: error.message }, 'request failed');
    }
    if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(error.status).json(error.outcome);
  };
}
