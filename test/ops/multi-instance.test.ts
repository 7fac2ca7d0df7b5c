/**
 * Two instances of the service on one PostgreSQL database (two apps, two store objects, two
 * authenticators): feedback and audit from both are visible to both, and a JWT used at one instance is
 * refused (401) when replayed to the other. Also the request id on every log line of a hook call.
 */
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/log';
import { createAuthenticator } from '../../src/security/jwt';
import { createStoreReplayCache } from '../../src/security/replay-cache';
import type { Store } from '../../src/store';
import { defaultClaims, loadJose, makeKey, signToken, type Jose, type SigningKey } from '../security/jwt-fixtures';
import { harness, patientViewRequest, PATIENT_VIEW, PUBLIC_BASE } from '../support/service';
import { postgresBackend, type StoreBackend } from '../support/stores';

const ISS = 'https://ehr.example.org';
const CARD = '1f6f3d8e-2f4b-4c5e-9a8b-0c1d2e3f4a5b';

let jose: Jose;
let key: SigningKey;
let backend: StoreBackend;

beforeAll(async () => {
  jose = await loadJose();
  key = await makeKey(jose, 'ES384');
});
beforeEach(() => {
  backend = postgresBackend();
});
afterEach(() => backend.cleanup());

function instance(store: Store) {
  const h = harness({
    store,
    authenticate: createAuthenticator({
      trustedIssuers: [{ iss: ISS, jwks_uri: `${ISS}/jwks.json` }],
      fetchJwks: async () =>
        new Response(JSON.stringify({ keys: [key.publicJwk] }), { headers: { 'content-type': 'application/json' } }),
      logger: createLogger({ level: 'silent' }),
      jtiCache: createStoreReplayCache(store),
    }),
  });
  return { app: createApp(h.deps), log: h.log };
}

const token = (path: string) =>
  signToken(jose, key, defaultClaims(ISS, `${PUBLIC_BASE}${path}`, Math.floor(Date.now() / 1000)));

describe('CH-B8 two instances on one database', () => {
  it('CH-J5 when a token used at one instance is replayed to the other, the other answers 401', async () => {
    const a = instance(await backend.open());
    const b = instance(await backend.open());
    const path = `/cds-services/${PATIENT_VIEW}`;
    const jwt = await token(path);
    const first = await request(a.app).post(path).set('Authorization', `Bearer ${jwt}`).send(patientViewRequest('p1'));
    expect(first.status).toBe(200);
    const replayed = await request(b.app)
      .post(path)
      .set('Authorization', `Bearer ${jwt}`)
      .send(patientViewRequest('p1'));
    expect(replayed.status).toBe(401);
    const fresh = await request(b.app)
      .post(path)
      .set('Authorization', `Bearer ${await token(path)}`)
      .send(patientViewRequest('p1'));
    expect(fresh.status).toBe(200);
  });

  it('CH-F3 when feedback and hook calls go to both instances, both see all of it', async () => {
    const storeA = await backend.open();
    const storeB = await backend.open();
    const a = instance(storeA);
    const b = instance(storeB);
    const feedbackPath = `/cds-services/${PATIENT_VIEW}/feedback`;
    const item = (minute: number) => ({
      feedback: [{ card: CARD, outcome: 'overridden', outcomeTimestamp: `2026-03-10T12:0${minute}:00Z` }],
    });
    for (const [app, minute] of [
      [a.app, 1],
      [b.app, 2],
    ] as const) {
      const res = await request(app)
        .post(feedbackPath)
        .set('Authorization', `Bearer ${await token(feedbackPath)}`)
        .send(item(minute));
      expect(res.status).toBe(200);
    }
    const hookPath = `/cds-services/${PATIENT_VIEW}`;
    for (const [app, hookInstance] of [
      [a.app, 'call-at-a'],
      [b.app, 'call-at-b'],
    ] as const) {
      const res = await request(app)
        .post(hookPath)
        .set('Authorization', `Bearer ${await token(hookPath)}`)
        .send(patientViewRequest('p1', { hookInstance }));
      expect(res.status).toBe(200);
    }
    await Promise.all([storeA.flush(), storeB.flush()]);
    for (const store of [storeA, storeB]) {
      expect((await store.listFeedback({ card: CARD })).map((f) => f.outcomeAt)).toEqual([
        '2026-03-10T12:01:00.000Z',
        '2026-03-10T12:02:00.000Z',
      ]);
      expect((await store.listAudit({ patientId: 'p1' })).map((r) => r.hookInstance).sort()).toEqual([
        'call-at-a',
        'call-at-b',
      ]);
    }
  });
});

describe('the request id on log lines', () => {
  it('when a hook call comes with X-Request-Id, every log line of that call carries it', async () => {
    const store = await backend.open();
    const h = harness({ store });
    const res = await request(createApp(h.deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .set('X-Request-Id', 'trace-42')
      .send(patientViewRequest('p1'));
    expect(res.status).toBe(200);
    const lines = h.log.entries().filter((e) => e.event === 'service.call' || e.event === 'http.request');
    expect(lines.map((e) => e.event).sort()).toEqual(['http.request', 'service.call']);
    for (const line of lines) expect(line.requestId).toBe('trace-42');
    await store.flush();
    expect(await store.listAudit({ requestId: 'trace-42' })).toHaveLength(1);
  });
});
