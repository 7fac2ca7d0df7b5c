/**
 * The demo's scenario clock: the sandbox page (and `ketamine-cds hook --now`) send the scenario time in
 * an `X-Demo-Now` header, and in demo mode ONLY the service takes "now" from it for that one request.
 *
 * Wiring (src/http, demo mode only), in the hook handler after the body is parsed:
 *   const clock = deps.demoClock ? demoClockFor(req, deps.clock) : deps.clock;
 *   await callService(id, req.body, { ...deps, clock });
 * The clock is chosen per request (not through AsyncLocalStorage: body parsing loses that context).
 * Outside demo mode nothing reads the header, and it is ignored like any unknown header.
 */
import { badRequest } from '../errors';

export const DEMO_NOW_HEADER = 'X-Demo-Now';

/** Full ISO 8601 date-time with a zone (Z or ±hh:mm); a bare date or a local time is refused. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** The header's time; undefined when absent; a 400 OperationOutcomeError when unreadable. */
export function parseDemoNow(value: string | undefined): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = ISO_DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw badRequest(`${DEMO_NOW_HEADER} must be an ISO 8601 date-time with a time zone`, [DEMO_NOW_HEADER]);
  return new Date(ms);
}

/** Anything with express's `req.get(name)`. */
export interface HeaderSource {
  get(name: string): string | undefined;
}

/** The scenario time a request carries, if any (throws 400 when the header is unreadable). */
export function demoNowOf(req: HeaderSource): Date | undefined {
  return parseDemoNow(req.get(DEMO_NOW_HEADER));
}

/** The clock for one request: the scenario time when the request carries one, else `base`. */
export function demoClockFor(req: HeaderSource, base: () => Date): () => Date {
  const now = demoNowOf(req);
  return now ? () => new Date(now.getTime()) : base;
}
