/**
 * Optional per-client rate limiting of the CDS endpoints (express-rate-limit), off unless a limit is set
 * (RATE_LIMIT_PER_MINUTE): requests per minute per client address. Over it → 429 with an OperationOutcome
 * and the standard RateLimit headers; an EHR retries later. Behind a proxy, set TRUST_PROXY (express's `trust proxy`)
 * (or rate-limit at the proxy) so the client address is the EHR's, not the proxy's.
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { OperationOutcomeError } from '../errors';

const MINUTE_MS = 60_000;

export function rateLimitPerMinute(limit: number): RequestHandler {
  return rateLimit({
    windowMs: MINUTE_MS,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(
        new OperationOutcomeError('throttled', `More than ${limit} requests per minute from this client: retry later`, {
          status: 429,
        }),
      ),
  });
}
