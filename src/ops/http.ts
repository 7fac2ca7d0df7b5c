/**
 * Operations endpoints and middleware: the request id, request metrics, /readyz and /metrics.
 *   X-Request-Id  a sane incoming id (letters, digits, . _ : -; up to 128) is kept, anything else replaced
 *                 by a fresh uuid; echoed in the response, on every log line of the request (requestLog) and
 *                 in its audit row.
 *   /readyz       200 when every readiness check passes (ELM loaded, store reachable), else 503 with an
 *                 OperationOutcome naming what is not ready (a load balancer stops sending traffic).
 *   /metrics      Prometheus text format (metrics.ts).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { OperationOutcomeError } from '../errors';
import { logLocals } from '../http/logging';
import type { Logger } from '../log';
import type { Metrics } from './metrics';

const REQUEST_ID_HEADER = 'X-Request-Id';
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** res.locals of a request: its logger, bound to its request id (see requestLog). */
interface RequestLogLocals {
  requestLog?: Logger;
}

/** Sets the request id (header, log locals) and the request's logger, `logger` bound to the id. */
export function requestId(logger: Logger, generate: () => string = randomUUID): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : generate();
    logLocals(res).requestId = id;
    (res.locals as RequestLogLocals).requestLog = logger.child({ requestId: id });
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}

/**
 * The logger of the request `res` answers: every line it writes carries the request id. Everything that
 * logs while handling a request logs through it (the hook call, feedback, the error handler, the report);
 * `fallback` only before requestId() ran.
 */
export function requestLog(res: Response, fallback: Logger): Logger {
  return (res.locals as RequestLogLocals).requestLog ?? fallback;
}

/** Counts every response and its latency by route pattern, service id and status. */
export function countRequests(metrics: Metrics): RequestHandler {
  return (_req, res, next) => {
    const stop = metrics.requestSeconds.startTimer();
    res.once('finish', () => {
      const { route, serviceId } = logLocals(res);
      const labels = { route: route ?? 'unmatched', service: serviceId ?? '', status: String(res.statusCode) };
      metrics.requests.inc(labels);
      stop(labels);
    });
    next();
  };
}

export function metricsHandler(metrics: Metrics): RequestHandler {
  return async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

export interface ReadinessCheck {
  /** e.g. 'elm', 'store'. */
  name: string;
  /** Resolves when ready; rejects (or exceeds the timeout) when not. */
  check(): Promise<void> | void;
}

/** A check slower than this counts as failed (a hung database must not hang the probe). */
const READINESS_TIMEOUT_MS = 2_000;

export function readinessHandler(checks: ReadinessCheck[], timeoutMs = READINESS_TIMEOUT_MS): RequestHandler {
  return async (_req, res) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => ({ name, ok: await passes(check, timeoutMs) })),
    );
    const failing = results.filter((r) => !r.ok).map((r) => r.name);
    res.setHeader('Cache-Control', 'no-store');
    if (failing.length === 0) {
      res.json({ status: 'ready', checks: Object.fromEntries(results.map((r) => [r.name, 'ok'])) });
      return;
    }
    const error = new OperationOutcomeError('transient', `Not ready: ${failing.join(', ')} unavailable`, {
      status: 503,
    });
    res.status(503).json(error.outcome);
  };
}

async function passes(check: ReadinessCheck['check'], timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(check)
        .then(() => true),
      timeout,
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** 503 for feedback the store could not commit: the EHR retries, nothing acknowledged is lost. */
export const storeUnavailable = () =>
  new OperationOutcomeError('transient', 'The feedback could not be stored now; retry later', { status: 503 });
