/**
 * GET /reports/effectiveness (JSON and CSV) and its page, over HTTP on the known calls and feedback
 * (test/support/report-fixture.ts) in a real SQLite store: access needs the reports credential (401
 * without), every number of the JSON and CSV is exact, no identifier of the fed data ever appears, bad
 * parameters are 400s naming the parameter, a store that cannot answer is a 503, and the page is static
 * under a strict Content-Security-Policy. Then the program as composed: REPORTS_TOKEN wires the routes,
 * and without it only the demo's loopback clients may read.
 */
import type { Application, Request } from 'express';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config/env';
import { OperationOutcomeError } from '../../src/errors';
import { createApp } from '../../src/http/app';
import { compose } from '../../src/main';
import { REPORT_PAGE_CSP, reportAccess, type ReportsConfig } from '../../src/report/http';
import type { Store } from '../../src/store';
import {
  EXPECTED_CSV,
  EXPECTED_REPORT,
  feedReportFixture,
  IDENTIFIERS,
  PRIVATE_TEXTS,
  REPORT_PERIOD,
} from '../support/report-fixture';
import { harness } from '../support/service';
import { sqliteBackend, type StoreBackend } from '../support/stores';

const TOKEN = 'report-token-0123456789abcdef0123456789abcdef';
const QUERY = `from=${REPORT_PERIOD.from}&to=${REPORT_PERIOD.to}`;
const URL_ = `/reports/effectiveness?${QUERY}`;

let backend: StoreBackend;
let store: Store;
beforeAll(async () => {
  backend = sqliteBackend();
  store = await backend.open();
  await feedReportFixture(store);
});
afterAll(() => backend.cleanup());

const appWith = (reports: Partial<ReportsConfig> = {}): Application =>
  createApp(harness({ store, reports: { source: store, token: TOKEN, openOnLoopback: false, ...reports } }).deps);

describe('access to the reports', () => {
  it('when no credential is sent, the answer is a 401 OperationOutcome asking for a bearer token, and no data', async () => {
    const res = await request(appWith()).get(URL_);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.text).not.toContain('cardsShown');
  });

  it('when a wrong token or another scheme is sent, the answer is 401', async () => {
    for (const authorization of [`Bearer ${TOKEN}x`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, TOKEN])
      expect((await request(appWith()).get(URL_).set('Authorization', authorization)).status).toBe(401);
    expect((await request(appWith()).get(`${URL_}&format=csv`)).status).toBe(401);
  });

  it('when no REPORTS_TOKEN is configured, reports are off (401), also for this machine, unless in demo mode', async () => {
    const off = await request(appWith({ token: null }))
      .get(URL_)
      .set('Authorization', `Bearer ${TOKEN}`);
    expect(off.status).toBe(401);
    expect(off.body.issue[0].diagnostics).toMatch(/REPORTS_TOKEN/);
    // demo mode: supertest connects over loopback
    expect((await request(appWith({ token: null, openOnLoopback: true })).get(URL_)).status).toBe(200);
  });

  it('when in demo mode without a token, a client on another machine or interface is refused (401)', () => {
    const access = reportAccess({ source: store, token: null, openOnLoopback: true });
    const call = (remoteAddress: string, localAddress: string): unknown => {
      let passed: unknown = 'not called';
      access({ socket: { remoteAddress, localAddress }, headers: {} } as unknown as Request, {} as never, (err) => {
        passed = err;
      });
      return passed;
    };
    expect(call('127.0.0.1', '127.0.0.1')).toBeUndefined();
    for (const [remote, local] of [
      ['10.0.0.7', '10.0.0.2'],
      ['127.0.0.1', '192.168.1.5'],
      ['192.168.1.9', '127.0.0.1'],
    ] as const) {
      const err = call(remote, local);
      expect(err).toBeInstanceOf(OperationOutcomeError);
      expect((err as OperationOutcomeError).status).toBe(401);
    }
  });
});

describe('the report with the credential', () => {
  const get = (url: string) => request(appWith()).get(url).set('Authorization', `Bearer ${TOKEN}`);

  it('when the JSON is asked for, every number is the one worked out by hand, and it is never cached', async () => {
    const res = await get(URL_);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual(EXPECTED_REPORT);
  });

  it('when the CSV is asked for (format=csv or Accept: text/csv), every field is the one worked out by hand', async () => {
    const byFormat = await get(`${URL_}&format=csv`);
    expect(byFormat.status).toBe(200);
    expect(byFormat.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(byFormat.headers['content-disposition']).toBe(
      'attachment; filename="cds-effectiveness_2026-03-01_2026-03-15_all-versions.csv"',
    );
    expect(byFormat.text).toBe(EXPECTED_CSV);
    const byAccept = await get(URL_).set('Accept', 'text/csv');
    expect(byAccept.text).toBe(EXPECTED_CSV);
    expect((await get(URL_).set('Accept', 'application/json, text/csv')).body).toEqual(EXPECTED_REPORT);
  });

  it('when the JSON, the CSV and the page are searched, no patient id, request id, hook instance, card uuid, comment or EHR text appears', async () => {
    const outputs = [
      (await get(URL_)).text,
      (await get(`${URL_}&format=csv`)).text,
      (await get(`/reports/effectiveness?format=json`)).text,
      (await get('/reports/effectiveness/page')).text,
      (await get('/reports/effectiveness/assets/report.js')).text,
    ];
    expect(IDENTIFIERS.length).toBeGreaterThan(40);
    for (const output of outputs)
      for (const secret of [...IDENTIFIERS, ...PRIVATE_TEXTS, 'report-patient', 'report-request'])
        expect(output).not.toContain(secret);
  });

  it('when a parameter cannot be read, the answer is a 400 OperationOutcome naming it', async () => {
    const cases: Array<[string, string[]]> = [
      ['from=2026-02-30', ['from']],
      ['to=03/15/2026', ['to']],
      ['from=2026-03-15&to=2026-03-01', ['from', 'to']],
      ['version=1.1.0%3Bdrop', ['version']],
      ['format=xml', ['format']],
      ['from=2026-03-01&from=2026-03-02', ['from']],
    ];
    for (const [query, expression] of cases) {
      const res = await get(`/reports/effectiveness?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].expression).toEqual(expression);
    }
  });

  it('when the store cannot answer, the answer is a 503 OperationOutcome without the error', async () => {
    const failing = { reportRows: () => Promise.reject(new Error('connection refused to db.internal:5432')) };
    const res = await request(appWith({ source: failing }))
      .get(URL_)
      .set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(503);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.text).not.toContain('db.internal');
  });
});

describe('the report page', () => {
  it('when the page is asked for, it is static HTML under a strict CSP: no inline script, style or handler', async () => {
    const res = await request(appWith()).get('/reports/effectiveness/page');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toBe(REPORT_PAGE_CSP);
    expect(REPORT_PAGE_CSP).toContain("script-src 'self'");
    expect(REPORT_PAGE_CSP).not.toContain('unsafe');
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.toMatch(/\sstyle=|\son[a-z]+=/);
  });

  it("when the page's files are asked for, its script, style and Chart.js are served, anything else is a 404", async () => {
    const app = appWith();
    const js = await request(app).get('/reports/effectiveness/assets/report.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect((await request(app).get('/reports/effectiveness/assets/report.css')).headers['content-type']).toMatch(/css/);
    const chart = await request(app).get('/reports/effectiveness/assets/chart.umd.min.js');
    expect(chart.status).toBe(200);
    expect(chart.text).toContain('Chart');
    const other = await request(app).get('/reports/effectiveness/assets/..%2F..%2F..%2Fpackage.json');
    expect(other.status).toBe(404);
    expect(other.body.resourceType).toBe('OperationOutcome');
  });
});

describe('REPORTS_TOKEN in the program', () => {
  const ENV = { PORT: '0', DEMO: 'off', FEEDBACK_DB: ':memory:', LOG_LEVEL: 'silent', EVAL_WORKERS: '0' };

  it('when REPORTS_TOKEN is shorter than 32 characters, the program refuses to start, without quoting it', () => {
    let error: unknown;
    try {
      loadConfig({ ...ENV, REPORTS_TOKEN: 'short-secret' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/REPORTS_TOKEN must be at least 32 characters without spaces/);
    expect((error as ConfigError).message).not.toContain('short-secret');
    expect(() => loadConfig({ ...ENV, REPORTS_TOKEN: `${TOKEN} ${TOKEN}` })).toThrow(/without spaces/);
    expect(loadConfig({ ...ENV, REPORTS_TOKEN: TOKEN }).config.reportsToken).toBe(TOKEN);
    expect(loadConfig(ENV).config.reportsToken).toBeNull();
  });

  it('when the program runs with REPORTS_TOKEN, the report answers 401 without it and 200 with it', async () => {
    const composed = await compose({ ...ENV, REPORTS_TOKEN: TOKEN });
    try {
      expect((await request(composed.app).get(URL_)).status).toBe(401);
      const res = await request(composed.app).get(URL_).set('Authorization', `Bearer ${TOKEN}`);
      expect(res.status).toBe(200);
      expect(res.body.totals.calls).toBe(0);
    } finally {
      await composed.close();
    }
  });

  it('when the program runs without REPORTS_TOKEN, the report is off (401); in demo mode a loopback client reads it', async () => {
    const off = await compose(ENV);
    try {
      expect((await request(off.app).get(URL_)).status).toBe(401);
    } finally {
      await off.close();
    }
    const demo = await compose({ ...ENV, DEMO: 'on' });
    try {
      expect((await request(demo.app).get(URL_)).status).toBe(200);
    } finally {
      await demo.close();
    }
  });
});
