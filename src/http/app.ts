/**
 * The HTTP adapter: express only adapts (body → callService → status + JSON). Endpoints:
 *   GET  /cds-services                 discovery (CH-D1, CH-D2, CH-D4)
 *   POST /cds-services/:id             a hook call (CH-R1…CH-R6, CH-C1)
 *   POST /cds-services/:id/feedback    feedback (CH-F1…CH-F3)
 *   GET  /healthz                      liveness (no authentication)
 *   GET  /readyz                       readiness: ELM loaded, store reachable (src/ops/http.ts)
 *   GET  /metrics                      Prometheus metrics (src/ops/metrics.ts), when metrics are given
 *   GET  /docs/protocol                the protocol page the cards link to (no authentication, no patient data)
 *   GET  /reports/effectiveness[/page] the CDS effectiveness report (src/report/http.ts: its own credential)
 * With an authenticator every /cds-services endpoint needs a valid JWT whose `aud` is the exact URL
 * called, built from the configured public base URL (CH-J1). One error handler answers every error with
 * an OperationOutcome (CH-B1).
 */
import express, { type Application, type Request, type RequestHandler, type Response } from 'express';
import { demoClockFor } from '../demo/clock';
import { notFound, OperationOutcomeError, tooLarge } from '../errors';
import { audienceFor, type Authenticate } from '../security/jwt';
import { countRequests, metricsHandler, readinessHandler, requestId, requestLog, storeUnavailable } from '../ops/http';
import type { ReadinessCheck } from '../ops/http';
import type { Metrics } from '../ops/metrics';
import { reportsRouter, type ReportsConfig } from '../report/http';
import { validateFeedback, type FeedbackItem, type FeedbackTextLimits } from '../store';
import { callService, loggableId } from '../service/call-service';
import { discoveryDocument } from '../service/definitions';
import type { ServiceDeps } from '../service/deps';
import { cors } from './cors';
import { errorHandler } from './errors';
import { logLocals, requestLogger } from './logging';
import { rateLimitPerMinute } from './rate-limit';
import { apiContentSecurityPolicy, securityHeaders } from './security-headers';

export const JSON_TYPES = ['application/json', 'application/fhir+json'];

interface HttpConfig {
  /** External base URL, no trailing slash: the JWT audience is this + the path called. */
  publicBaseUrl: string;
  requestLimitBytes: number;
  corsOrigins: string[];
  /** Most feedback items in one POST …/feedback (default DEFAULT_FEEDBACK_MAX_ITEMS); more → 413, nothing stored. */
  feedbackMaxItems?: number;
  /** Requests per minute per client on /cds-services (RATE_LIMIT_PER_MINUTE); absent or 0 = no limit. */
  rateLimitPerMinute?: number;
  /** express `trust proxy` (TRUST_PROXY): a hop count or the proxies' addresses; absent/false = the TCP peer. */
  trustProxy?: false | number | string[];
  /** Longest feedback comment and override-reason code (FEEDBACK_MAX_TEXT_LENGTH, …_CODE_LENGTH). */
  feedbackTextLimits?: FeedbackTextLimits;
}

export const DEFAULT_FEEDBACK_MAX_ITEMS = 100;

export interface AppDeps extends ServiceDeps {
  store: ServiceDeps['store'] & {
    /** Resolves once committed; rejects when the store is unreachable (→ 503, the EHR retries). */
    recordFeedback(
      serviceId: string,
      items: FeedbackItem[],
    ): { stored: number; duplicates: number } | Promise<{ stored: number; duplicates: number }>;
  };
  /** Prometheus metrics (GET /metrics); absent = no metrics endpoint. */
  metrics?: Metrics;
  /** What /readyz checks (default: nothing, always ready). */
  readiness?: ReadinessCheck[];
  http: HttpConfig;
  /** Absent = authentication off (development only; main.ts warns). */
  authenticate?: Authenticate;
  /** The HTML of /docs/protocol (src/http/docs.ts); absent = no docs page. */
  docsHtml?: string;
  /** Extra public routes (e.g. the demo page), mounted before the 404 handler. */
  mount?: (app: Application) => void;
  /** Demo mode only: a hook call may carry its scenario time in X-Demo-Now (src/demo/clock.ts). */
  demoClock?: boolean;
  /** The effectiveness report (GET /reports/effectiveness…); absent = no report routes. */
  reports?: ReportsConfig;
}

const route =
  (pattern: string): RequestHandler =>
  (_req, res, next) => {
    logLocals(res).route = pattern;
    next();
  };

export function createApp(deps: AppDeps): Application {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.http.trustProxy ?? false);
  const discovery = discoveryDocument(deps.definitions);

  app.use(requestId(deps.logger));
  app.use(requestLogger(deps.logger));
  app.use(securityHeaders());
  if (deps.metrics) app.use(countRequests(deps.metrics));
  app.use(cors(deps.http.corsOrigins));

  app.get('/healthz', route('GET /healthz'), apiContentSecurityPolicy(), (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', route('GET /readyz'), readinessHandler(deps.readiness ?? []));
  if (deps.metrics) app.get('/metrics', route('GET /metrics'), metricsHandler(deps.metrics));
  if (deps.docsHtml !== undefined) {
    const html = deps.docsHtml;
    app.get('/docs/protocol', route('GET /docs/protocol'), (_req, res) => {
      res.type('html').send(html);
    });
  }

  const cds = express.Router();
  cds.use(apiContentSecurityPolicy());
  cds.use(labelCdsRoute(deps.definitions)); // before anything that can refuse: 401/413/415/429 keep their service
  if (deps.http.rateLimitPerMinute) cds.use(rateLimitPerMinute(deps.http.rateLimitPerMinute));
  if (deps.authenticate) cds.use(authentication(deps.authenticate, deps.http.publicBaseUrl));
  cds.use(jsonBody(deps.http.requestLimitBytes));

  cds.get('/', route('GET /cds-services'), (_req, res) => {
    res.json(discovery);
  });

  cds.post('/:id', route('POST /cds-services/:id'), async (req, res) => {
    const id = serviceId(req, res, deps);
    const hookInstance = loggableId((req.body as { hookInstance?: unknown } | undefined)?.hookInstance);
    if (hookInstance) logLocals(res).hookInstance = hookInstance;
    const clock = deps.demoClock ? demoClockFor(req, deps.clock) : deps.clock;
    const requestId = logLocals(res).requestId;
    const logger = requestLog(res, deps.logger);
    const callDeps = requestId ? { ...deps, clock, requestId, logger } : { ...deps, clock, logger };
    const response = await callService(id, req.body, callDeps);
    res.status(200).json(response);
  });

  cds.post('/:id/feedback', route('POST /cds-services/:id/feedback'), async (req, res) => {
    const id = serviceId(req, res, deps);
    if (!deps.definitions.has(id)) throw notFound('No CDS service with this id');
    const maxItems = deps.http.feedbackMaxItems ?? DEFAULT_FEEDBACK_MAX_ITEMS;
    const sent = (req.body as { feedback?: unknown } | undefined)?.feedback;
    if (Array.isArray(sent) && sent.length > maxItems) {
      deps.metrics?.feedback.inc({ outcome: 'rejected' });
      throw tooLarge(`At most ${maxItems} feedback items per request (got ${sent.length}); nothing was stored`);
    }
    const { metrics } = deps;
    let items: FeedbackItem[];
    try {
      items = validateFeedback(req.body, deps.http.feedbackTextLimits);
    } catch (err) {
      metrics?.feedback.inc({ outcome: 'rejected' });
      throw err;
    }
    let result: { stored: number; duplicates: number };
    try {
      result = await deps.store.recordFeedback(id, items);
    } catch (err) {
      // Not acknowledged, so not lost: the EHR retries on 503 (the store is idempotent on repeats).
      metrics?.feedback.inc({ outcome: 'unavailable' }, items.length);
      metrics?.storeError('feedback');
      requestLog(res, deps.logger).error(
        { event: 'feedback.failed', serviceId: id, error: (err as Error).name },
        'feedback not stored: answering 503',
      );
      res.setHeader('Retry-After', '5');
      throw storeUnavailable();
    }
    const { stored, duplicates } = result;
    metrics?.feedback.inc({ outcome: 'stored' }, stored);
    if (duplicates > 0) metrics?.feedback.inc({ outcome: 'duplicate' }, duplicates);
    requestLog(res, deps.logger).info(
      { event: 'feedback', serviceId: id, items: items.length, stored, duplicates },
      'feedback recorded',
    );
    res.status(200).end();
  });

  app.use('/cds-services', cds);
  if (deps.reports) app.use('/reports', reportsRouter(deps.reports, deps));
  deps.mount?.(app);

  app.use((_req, _res, next) => {
    next(notFound('Not found'));
  });
  app.use(errorHandler(deps.logger));
  return app;
}

/** The :id parameter; remembered for the request log only when it names a known service. */
function serviceId(req: Request, res: Response, deps: ServiceDeps): string {
  const id = String(req.params.id ?? '');
  if (deps.definitions.has(id)) logLocals(res).serviceId = id;
  return id;
}

/**
 * The route pattern and the known service id of a /cds-services request, from its method and path, set
 * before the rate limiter, the authenticator and the body parser: a request they refuse (429, 401, 413,
 * 415) is counted and logged under its service, not as unmatched. Other paths stay unmatched.
 */
function labelCdsRoute(definitions: ServiceDeps['definitions']): RequestHandler {
  return (req, res, next) => {
    const locals = logLocals(res);
    if (req.method === 'GET' && /^\/?$/.test(req.path)) locals.route = 'GET /cds-services';
    const match = req.method === 'POST' ? /^\/([^/]+)(\/feedback)?\/?$/.exec(req.path) : null;
    if (match?.[1]) {
      locals.route = match[2] ? 'POST /cds-services/:id/feedback' : 'POST /cds-services/:id';
      if (definitions.has(match[1])) locals.serviceId = match[1];
    }
    next();
  };
}

/** CH-J1: Bearer JWT on every CDS endpoint; `aud` must be the exact URL called (never built from Host). */
function authentication(authenticate: Authenticate, publicBaseUrl: string): RequestHandler {
  return async (req, res, next) => {
    const { requestId } = logLocals(res);
    await authenticate({
      authorization: req.headers.authorization,
      audience: audienceFor(publicBaseUrl, req.originalUrl),
      ...(requestId ? { requestId } : {}),
    });
    next();
  };
}

/**
 * CH-R5: `application/json` and `application/fhir+json` (any charset the parser reads) up to the limit
 * (CH-R4: larger → 413). A POST with another media type is a 415; a POST without a body reaches
 * validation, which answers 400.
 */
function jsonBody(limit: number): RequestHandler {
  const parse = express.json({ limit, type: JSON_TYPES, strict: true });
  return (req, res, next) => {
    if (req.method === 'POST' && req.headers['content-type'] !== undefined && !req.is(JSON_TYPES)) {
      next(
        new OperationOutcomeError(
          'not-supported',
          'The request body must be application/json or application/fhir+json',
          { status: 415 },
        ),
      );
      return;
    }
    parse(req, res, next);
  };
}
