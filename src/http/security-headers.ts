/**
 * Standard security headers on every response, by helmet: no MIME sniffing, no referrer, no framing, no
 * cross-domain policy files, HSTS when served over TLS. Helmet's own Content-Security-Policy is off here:
 * the JSON API forbids every content source (`default-src 'none'`, below), so a response rendered by
 * mistake runs nothing, and the HTML pages (the docs page, the demo) set their own policy. The resource
 * policy is cross-origin: EHR pages on other origins call the service (CORS decides who may read).
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** For JSON-only routes: nothing may load or run if a response is ever rendered as a document. */
export function apiContentSecurityPolicy(): RequestHandler {
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  });
}
