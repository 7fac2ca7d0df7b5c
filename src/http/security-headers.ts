/**
 * Standard security headers on every response (what helmet would set for a JSON API; helmet itself is not
 * a dependency): no MIME sniffing, no referrer, no framing, no cross-domain policy files. The JSON API
 * additionally forbids every content source (`default-src 'none'`): a response rendered by mistake runs
 * nothing. HTML pages (the docs page, the demo) set their own Content-Security-Policy.
 */
import type { RequestHandler } from 'express';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Permitted-Cross-Domain-Policies', 'none');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    next();
  };
}

/** For JSON-only routes: nothing may load or run if a response is ever rendered as a document. */
export function apiContentSecurityPolicy(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', API_CSP);
    next();
  };
}
