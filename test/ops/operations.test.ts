/**
 * Operations on the app as production composes it, on the real PostgreSQL (through a TCP proxy that can
 * take the database down): /healthz and /readyz, /metrics, the request id, and a database outage —
 * hook calls still answered with cards (the lost audit rows logged and counted), feedback refused with
 * 503 so the EHR retries, readiness 503 until the database is back.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { compose, type Composed } from '../../src/main';
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
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await request(composed.app).get('/metrics')).text;
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
