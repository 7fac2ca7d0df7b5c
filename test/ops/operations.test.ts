/**
 * Operations on the app as production composes it, on the real PostgreSQL (through a TCP proxy that can
 * take the database down): /healthz and /readyz, /metrics, the request id, and a database outage —
 * hook calls still answered with cards (the lost audit rows logged and counted), feedback refused with
 * 503 so the EHR retries, readiness 503 until the database is back.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Application } from 'express';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/log';
import { compose, type Composed } from '../../src/main';
import { createMetrics } from '../../src/ops/metrics';
import { testEhr } from '../support/ehr-jwt';
import { harness, PATIENT_VIEW, patientViewRequest } from '../support/service';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../support/stores';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const EXAMPLE = path.resolve(__dirname, '../fixtures/requests/patient-view-example.json');
const SERVICE = 'ketamine-protocol-patient-view';
const CARD = '1f6f3d8e-2f4b-4c5e-9a8b-0c1d2e3f4a5b';
const feedback = (minute: number) => ({
  feedback: [
    { card: CARD, outcome: 'overridden', outcomeTimestamp: `2026-03-10T12:${String(minute).padStart(2, '0')}:00Z` },
  ],
});

let proxy: TcpProxy;
let schema: string;
let composed: Composed;

beforeAll(async () => {
  proxy = await startTcpProxy(TEST_DATABASE_URL);
  schema = uniqueSchema('ops');
  composed = await compose({
    PORT: '0',
    DEMO: 'off',
    LOG_LEVEL: 'silent',
    CDS_PUBLIC_BASE_URL: 'https://cds.example.org',
    DATABASE_URL: proxy.url,
    DATABASE_SCHEMA: schema,
  });
});

afterAll(async () => {
  await composed?.close();
  await proxy?.stop();
  await dropSchema(schema);
});

const hookCall = (requestId?: string) => {
  const call = request(composed.app).post(`/cds-services/${SERVICE}`).set('Content-Type', 'application/json');
  return (requestId ? call.set('X-Request-Id', requestId) : call).send(readFileSync(EXAMPLE, 'utf8'));
};

/** The value of one sample line of /metrics (0 when absent). */
async function metric(
  name: string,
  labels: Record<string, string> = {},
  app: Application = composed.app,
): Promise<number> {
  const text = (await request(app).get('/metrics')).text;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `) ? wanted.every((w) => l.includes(w)) : false));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('health and readiness', () => {
  it('when the store is reachable, /healthz and /readyz answer 200', async () => {
    expect((await request(composed.app).get('/healthz')).status).toBe(200);
    const ready = await request(composed.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { elm: 'ok', store: 'ok' } });
  });
});

describe('the request id', () => {
  it('when a sane X-Request-Id comes in, it is echoed and written on the audit row', async () => {
    const res = await hookCall('ehr-req-0001');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('ehr-req-0001');
    await composed.store.flush();
    expect(await composed.store.listAudit({ requestId: 'ehr-req-0001' })).toHaveLength(1);
  });

  it('when none (or an unsafe one) comes in, a fresh uuid is generated instead', async () => {
    const none = await request(composed.app).get('/healthz');
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await request(composed.app).get('/healthz').set('X-Request-Id', 'x'.repeat(129));
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const injected = await request(composed.app).get('/healthz').set('X-Request-Id', 'a b"c');
    expect(injected.headers['x-request-id']).not.toBe('a b"c');
  });
});

describe('metrics', () => {
  it('when hook calls and feedback come in, the request, card and feedback counters move', async () => {
    const labels = { route: 'POST /cds-services/:id', service: SERVICE, status: '200' };
    const before = await metric('ketamine_cds_http_requests_total', labels);
    const histogramBefore = await metric('ketamine_cds_http_request_duration_seconds_count', labels);
    const cardsBefore = await metric('ketamine_cds_cards_total', { service: SERVICE });
    const res = await hookCall();
    const card = res.body.cards[0];
    const rule = card.extension['ketamine-protocol'].ruleId as string;
    expect(await metric('ketamine_cds_http_requests_total', labels)).toBe(before + 1);
    expect(await metric('ketamine_cds_http_request_duration_seconds_count', labels)).toBe(histogramBefore + 1);
    expect(await metric('ketamine_cds_cards_total', { service: SERVICE })).toBe(cardsBefore + 1);
    expect(
      await metric('ketamine_cds_cards_total', { service: SERVICE, rule_id: rule, indicator: card.indicator }),
    ).toBeGreaterThanOrEqual(1);

    const stored = await metric('ketamine_cds_feedback_total', { outcome: 'stored' });
    expect((await request(composed.app).post(`/cds-services/${SERVICE}/feedback`).send(feedback(1))).status).toBe(200);
    expect(await metric('ketamine_cds_feedback_total', { outcome: 'stored' })).toBe(stored + 1);
    const rejected = await metric('ketamine_cds_feedback_total', { outcome: 'rejected' });
    expect((await request(composed.app).post(`/cds-services/${SERVICE}/feedback`).send({ feedback: [] })).status).toBe(
      400,
    );
    expect(await metric('ketamine_cds_feedback_total', { outcome: 'rejected' })).toBe(rejected + 1);
  });

  it('the metrics are Prometheus text with the process metrics', async () => {
    const res = await request(composed.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('# TYPE ketamine_cds_http_request_duration_seconds histogram');
    expect(res.text).toContain('ketamine_cds_process_cpu_seconds_total');
  });
});

describe('FHIR fetch failures, counted whatever the log level', () => {
  /** The example request without its `conditions` key, to be fetched from `fhirServer`. */
  const withoutConditions = (fhirServer: string) => {
    const body = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { prefetch: Record<string, unknown> };
    delete body.prefetch.conditions;
    return { ...body, fhirServer };
  };

  it('when LOG_LEVEL is silent and a key cannot be fetched, the failure is counted by kind and the call as degraded', async () => {
    // a loopback port nobody listens on: the connection is refused
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const refused = { kind: 'network-error' };
    const offList = { kind: 'server-refused' };
    const degraded = { service: SERVICE, cause: 'fhir-unavailable' };
    const before = {
      refused: await metric('ketamine_cds_fhir_fetch_failures_total', refused),
      offList: await metric('ketamine_cds_fhir_fetch_failures_total', offList),
      degraded: await metric('ketamine_cds_degraded_calls_total', degraded),
    };
    const call = (body: object) => request(composed.app).post(`/cds-services/${SERVICE}`).send(body);

    expect((await call(withoutConditions(`http://127.0.0.1:${port}/fhir`))).status).toBe(412);
    expect(await metric('ketamine_cds_fhir_fetch_failures_total', refused)).toBe(before.refused + 1);
    expect(await metric('ketamine_cds_degraded_calls_total', degraded)).toBe(before.degraded + 1);

    // a fhirServer off the allowlist (loopback only here) is refused before any request
    expect((await call(withoutConditions('https://fhir.elsewhere.example/r4'))).status).toBe(412);
    expect(await metric('ketamine_cds_fhir_fetch_failures_total', offList)).toBe(before.offList + 1);
    expect(await metric('ketamine_cds_fhir_fetch_failures_total', refused)).toBe(before.refused + 1);
    expect(await metric('ketamine_cds_degraded_calls_total', degraded)).toBe(before.degraded + 2);
  });

  it('when the FHIR server answers 500, the failure is counted as http-500', async () => {
    const failing = http.createServer((_req, res) => void res.writeHead(500).end());
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      const app = createApp(harness({ metrics, logger: createLogger({ level: 'silent' }) }).deps);
      const body = patientViewRequest('p1') as { prefetch: Record<string, unknown> };
      delete body.prefetch.vitals;
      const port = (failing.address() as net.AddressInfo).port;
      const res = await request(app)
        .post(`/cds-services/${PATIENT_VIEW}`)
        .send({ ...body, fhirServer: `http://127.0.0.1:${port}/fhir` });
      expect(res.status).toBe(412);
      expect(await metric('ketamine_cds_fhir_fetch_failures_total', { kind: 'http-500' }, app)).toBe(1);
    } finally {
      failing.closeAllConnections();
      await new Promise<void>((resolve) => failing.close(() => resolve()));
    }
  });

  it('when a FHIR server is still being read at the deadline, the failure is counted as deadline and the call as degraded', async () => {
    // accepts connections and never answers
    const held = new Set<net.Socket>();
    const silent = net.createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      const { deps } = harness(
        { metrics, logger: createLogger({ level: 'silent' }) },
        { deadlineMs: 200, fhirTimeoutMs: 10_000 },
      );
      const app = createApp(deps);
      const body = patientViewRequest('p1') as { prefetch: Record<string, unknown> };
      delete body.prefetch.vitals;
      const port = (silent.address() as net.AddressInfo).port;
      const res = await request(app)
        .post(`/cds-services/${PATIENT_VIEW}`)
        .send({ ...body, fhirServer: `http://127.0.0.1:${port}/fhir` });
      expect(res.status).toBe(200);
      expect(await metric('ketamine_cds_fhir_fetch_failures_total', { kind: 'deadline' }, app)).toBe(1);
      expect(await metric('ketamine_cds_degraded_calls_total', { service: PATIENT_VIEW, cause: 'deadline' }, app)).toBe(
        1,
      );
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('refused requests keep their route and service in the request metrics', () => {
  it('when a POST to a service is refused (401 bad token, 415 media type, 413 too large, 429 rate limit), it is counted under that service', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const ehr = await testEhr();
    const { deps } = harness({ metrics, authenticate: ehr.authenticate });
    deps.http = { ...deps.http, requestLimitBytes: 1024, rateLimitPerMinute: 3 };
    const app = createApp(deps);
    const url = `/cds-services/${PATIENT_VIEW}`;
    const labels = (route: string, status: string) => ({ route, service: PATIENT_VIEW, status });
    const hook = 'POST /cds-services/:id';

    expect((await request(app).post(url).set('Authorization', 'Bearer not.a.jwt').send({})).status).toBe(401);
    expect(await metric('ketamine_cds_http_requests_total', labels(hook, '401'), app)).toBe(1);

    const signed = async () => `Bearer ${await ehr.token(`https://cds.example.org${url}`)}`;
    const asText = await request(app)
      .post(url)
      .set('Authorization', await signed())
      .set('Content-Type', 'text/plain')
      .send('x');
    expect(asText.status).toBe(415);
    expect(await metric('ketamine_cds_http_requests_total', labels(hook, '415'), app)).toBe(1);

    const large = await request(app)
      .post(`${url}/feedback`)
      .set('Authorization', `Bearer ${await ehr.token(`https://cds.example.org${url}/feedback`)}`)
      .send({ feedback: [], padding: 'x'.repeat(2048) });
    expect(large.status).toBe(413);
    expect(
      await metric('ketamine_cds_http_requests_total', labels('POST /cds-services/:id/feedback', '413'), app),
    ).toBe(1);

    expect((await request(app).post(url).send({})).status).toBe(429);
    expect(await metric('ketamine_cds_http_requests_total', labels(hook, '429'), app)).toBe(1);
    expect(await metric('ketamine_cds_http_requests_total', { route: 'unmatched' }, app)).toBe(0);
  });
});

describe('a database outage', () => {
  afterEach(() => proxy.start().catch(() => undefined));

  it('when the database is down: not ready, hook calls still get cards (audit loss counted), feedback is 503 and nothing acknowledged is lost', async () => {
    const acknowledged = await request(composed.app).post(`/cds-services/${SERVICE}/feedback`).send(feedback(2));
    expect(acknowledged.status).toBe(200);
    await composed.store.flush(); // the earlier calls' audit rows are written before the outage
    await proxy.stop();

    const ready = await request(composed.app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
    expect(ready.body.issue[0].diagnostics).toContain('store');

    const lostBefore = await metric('ketamine_cds_audit_rows_lost_total');
    const call = await hookCall('during-outage');
    expect(call.status).toBe(200);
    expect(call.body.cards.length).toBeGreaterThan(0);
    await composed.store.flush();
    expect(await metric('ketamine_cds_store_errors_total', { operation: 'audit' })).toBeGreaterThanOrEqual(1);
    expect(await metric('ketamine_cds_audit_rows_lost_total')).toBe(lostBefore + 1);

    const refused = await request(composed.app).post(`/cds-services/${SERVICE}/feedback`).send(feedback(3));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(await metric('ketamine_cds_feedback_total', { outcome: 'unavailable' })).toBe(1);

    await proxy.start();
    expect((await request(composed.app).get('/readyz')).status).toBe(200);
    // the EHR's retry succeeds; the acknowledged item from before the outage is still there
    expect((await request(composed.app).post(`/cds-services/${SERVICE}/feedback`).send(feedback(3))).status).toBe(200);
    const rows = await composed.store.listFeedback({ card: CARD });
    expect(rows.map((r) => r.outcomeAt)).toEqual(
      expect.arrayContaining(['2026-03-10T12:02:00.000Z', '2026-03-10T12:03:00.000Z']),
    );
  });
});
