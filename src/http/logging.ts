/**
 * One log line per request: method, route pattern, service id, status, duration and hookInstance.
 * Never the body, the query, headers, tokens or anything about the patient (the raw path is not
 * logged either: only the route it matched, set by the handlers in res.locals).
 */
import type { RequestHandler, Response } from 'express';
import type { Logger } from '../log';

export interface LogLocals {
  /** The matched route pattern, e.g. `POST /cds-services/:id`. */
  route?: string;
  /** A known service id (never an arbitrary path segment). */
  serviceId?: string;
  /** An id-like hookInstance (see loggableId). */
  hookInstance?: string;
  /** X-Request-Id of the request (src/ops/http.ts). */
  requestId?: string;
}

export const logLocals = (res: Response): LogLocals => res.locals as LogLocals;

export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      const { route, serviceId, hookInstance, requestId } = logLocals(res);
      logger.info(
        {
          event: 'http.request',
          method: req.method,
          route: route ?? 'unmatched',
          ...(serviceId ? { serviceId } : {}),
          ...(hookInstance ? { hookInstance } : {}),
          ...(requestId ? { requestId } : {}),
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    };
    res.on('finish', log);
    res.on('close', log);
    next();
  };
}
