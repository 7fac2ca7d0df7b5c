/**
 * The effectiveness report over HTTP, mounted at /reports:
 *   GET /reports/effectiveness?from=YYYY-MM-DD&to=YYYY-MM-DD&version=…   JSON; CSV of the table by rule with
 *       `format=csv` or `Accept: text/csv`
 *   GET /reports/effectiveness/page                                       the page with the charts (static: it
 *       fetches the JSON itself, sending the credential the user types)
 * Reports need their own credential: `Authorization: Bearer $REPORTS_TOKEN`. Without REPORTS_TOKEN they are
 * off (401), except in demo mode for a client on this machine (both ends of the connection on loopback).
 * Every refusal is an OperationOutcome; bad parameters are 400s naming the parameter.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { packageRoot } from '../config/paths';
import { badRequest, OperationOutcomeError } from '../errors';
import { isLoopbackAddress } from '../http/loopback';
import { logLocals } from '../http/logging';
import { apiContentSecurityPolicy } from '../http/security-headers';
import type { Logger } from '../log';
import type { Metrics } from '../ops/metrics';
import { requestLog, storeUnavailable } from '../ops/http';
import { buildReport } from './aggregate';
import { csvFileName, toCsv } from './csv';
import type { ReportQuery, ReportRows } from './types';

export interface ReportsConfig {
  /** The store (its reportRows). */
  source: { reportRows(query: ReportQuery): Promise<ReportRows> };
  /** REPORTS_TOKEN: the bearer credential of the reports; null = none configured. */
  token: string | null;
  /** Without a token, clients on loopback may read the reports (demo mode only). */
  openOnLoopback: boolean;
}

/** The page's files: URL name → file (the page's own, or Chart.js from node_modules). */
function assetFiles(root: string): Record<string, string> {
  const publicDir = path.join(root, 'src', 'report', 'public');
  return {
    'report.js': path.join(publicDir, 'report.js'),
    'report.css': path.join(publicDir, 'report.css'),
    // the look the report shares with the sandbox page
    'base.css': path.join(root, 'src', 'demo', 'public', 'css', 'base.css'),
    'chart.umd.min.js': path.join(root, 'node_modules', 'chart.js', 'dist', 'chart.umd.min.js'),
  };
}

/** Same-origin files only: no inline script or style, no framing, fetches to this origin. */
export const REPORT_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/;

const route =
  (pattern: string): RequestHandler =>
  (_req, res, next) => {
    logLocals(res).route = pattern;
    next();
  };

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Bearer REPORTS_TOKEN, or (no token configured, demo mode) a loopback client; else 401. */
export function reportAccess(config: ReportsConfig): RequestHandler {
  const expected = config.token !== null ? digest(config.token) : null;
  return (req, _res, next) => {
    if (expected) {
      const bearer = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
      if (bearer !== undefined && timingSafeEqual(digest(bearer), expected)) {
        next();
        return;
      }
      next(new OperationOutcomeError('login', 'Reports need Authorization: Bearer <REPORTS_TOKEN>', { status: 401 }));
      return;
    }
    const { remoteAddress, localAddress } = req.socket;
    if (config.openOnLoopback && isLoopbackAddress(remoteAddress) && isLoopbackAddress(localAddress)) {
      next();
      return;
    }
    next(
      new OperationOutcomeError('login', 'Reports are off: the service has no REPORTS_TOKEN configured', {
        status: 401,
      }),
    );
  };
}

/** One query parameter as a string; absent → undefined; repeated → 400. */
function single(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`${name} must be given once`, [name]);
  return value;
}

function day(req: Request, name: string): string | null {
  const value = single(req, name);
  if (value === undefined) return null;
  const ms = DAY.test(value) ? Date.parse(`${value}T00:00:00.000Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value)
    throw badRequest(`${name} must be a day YYYY-MM-DD (UTC)`, [name]);
  return value;
}

/** The period and version asked for; 400 naming the parameter when one is unreadable. */
function reportQuery(req: Request): ReportQuery {
  const from = day(req, 'from');
  const to = day(req, 'to');
  if (from !== null && to !== null && from > to) throw badRequest('from must not be after to', ['from', 'to']);
  const version = single(req, 'version') ?? null;
  if (version !== null && !VERSION.test(version))
    throw badRequest('version must be a protocol version like 1.1.0', ['version']);
  return { from, to, version };
}

/** 'csv' with format=csv or an Accept preferring text/csv; 'json' otherwise. */
function format(req: Request): 'json' | 'csv' {
  const asked = single(req, 'format');
  if (asked !== undefined) {
    if (asked !== 'json' && asked !== 'csv') throw badRequest('format must be json or csv', ['format']);
    return asked;
  }
  return req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json';
}

export function reportsRouter(config: ReportsConfig, deps: { logger: Logger; metrics?: Metrics }): Router {
  const router = express.Router();
  const files = assetFiles(packageRoot());
  const pageFile = path.join(packageRoot(), 'src', 'report', 'public', 'index.html');

  router.get(
    '/effectiveness',
    route('GET /reports/effectiveness'),
    apiContentSecurityPolicy(),
    reportAccess(config),
    async (req: Request, res: Response) => {
      const query = reportQuery(req);
      const as = format(req);
      let rows: ReportRows;
      try {
        rows = await config.source.reportRows(query);
      } catch (err) {
        deps.metrics?.storeError('report');
        requestLog(res, deps.logger).error(
          { event: 'report.failed', error: err instanceof Error ? err.name : typeof err },
          'effectiveness report not read: answering 503',
        );
        throw storeUnavailable();
      }
      const report = buildReport(rows, query);
      res.set('Cache-Control', 'no-store');
      if (as === 'csv') {
        res.type('text/csv; charset=utf-8');
        res.set('Content-Disposition', `attachment; filename="${csvFileName(report)}"`);
        res.send(toCsv(report));
        return;
      }
      res.json(report);
    },
  );

  const page: RequestHandler = (_req, res, next) => {
    res.set('Content-Security-Policy', REPORT_PAGE_CSP);
    next();
  };
  router.get('/effectiveness/page', route('GET /reports/effectiveness/page'), page, (_req, res, next) => {
    res.type('html');
    res.sendFile(pageFile, { maxAge: 0 }, (err) => {
      if (err) next(err);
    });
  });
  router.get(
    '/effectiveness/assets/:file',
    route('GET /reports/effectiveness/assets/:file'),
    page,
    (req, res, next) => {
      const file = files[String(req.params.file)];
      if (!file) {
        next();
        return;
      }
      res.sendFile(file, { maxAge: '1h' }, (err) => {
        if (err) next(err);
      });
    },
  );
  return router;
}
