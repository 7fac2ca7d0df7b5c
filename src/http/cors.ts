/**
 * CORS (CH-J8), so a browser-based CDS client (the CDS Hooks Sandbox, an EHR web front end) can call
 * the service. `['*']` allows any origin and never sends credentials; a list of origins echoes the
 * caller's origin when listed (with credentials allowed). Preflights are answered before authentication:
 * a browser never sends the Authorization header on a preflight.
 */
import type { RequestHandler } from 'express';

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Content-Type';
/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function cors(origins: readonly string[]): RequestHandler {
  const anyOrigin = origins.includes('*');
  const listed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (anyOrigin || listed.has(origin));
    if (origin !== undefined) res.vary('Origin');
    if (allowed) {
      if (anyOrigin) {
        res.setHeader('Access-Control-Allow-Origin', '*');
      } else {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      }
    }
    const preflight =
      req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) {
      next();
      return;
    }
    if (allowed) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
    }
    res.status(204).end();
  };
}
