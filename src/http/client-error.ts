/**
 * Requests node's HTTP parser refuses before express sees them (headers over `maxHeaderSize`, malformed
 * HTTP, a header timeout) still get the service's one error vocabulary: an OperationOutcome JSON body with
 * a 4xx status (431 for oversized headers), then the connection is closed. Node's own answer is an empty
 * body. Nothing from the refused request is echoed or logged.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { OperationOutcomeError } from '../errors';

function outcomeFor(code: string | undefined): OperationOutcomeError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new OperationOutcomeError('too-costly', 'The request headers are larger than the service accepts', {
        status: 431,
      });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new OperationOutcomeError('timeout', 'The request was not received in time', { status: 408 });
    default:
      return new OperationOutcomeError('invalid', 'The request is not valid HTTP', { status: 400 });
  }
}

/** The raw HTTP/1.1 response for a parser-level error: status line, JSON headers, the OperationOutcome. */
function clientErrorResponse(code: string | undefined): string {
  const error = outcomeFor(code);
  const body = JSON.stringify(error.outcome);
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`,
    'Content-Type: application/fhir+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Answers node's 'clientError's with an OperationOutcome instead of an empty body. */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err.code));
  });
}
