/**
 * A database outage that hangs rather than refuses (a partitioned network, a frozen server: connections
 * accepted, nothing answered), with JWT authentication on, on the app as production composes it. The
 * jti claim is bounded by REPLAY_STORE_TIMEOUT_MS and falls back to the instance's memory: a hook call
 * still answers within its deadline (plus a margin that tests boundedness, not speed), a token replayed
 * to the same instance is still 401, and the fallback is counted as a store error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { compose, type Composed } from '../../src/main';
import {
  defaultClaims,
  loadJose,
  makeKey,
  signToken,
  startJwksServer,
  type Jose,
  type JwksServer,
  type SigningKey,
} from '../security/jwt-fixtures';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../support/stores';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(30_000);

const EXAMPLE = path.resolve(__dirname, '../fixtures/requests/patient-view-example.json');
const SERVICE = 'ketamine-protocol-patient-view';
const ISS = 'https://ehr.example.org';
const PUBLIC_BASE = 'https://cds.example.org';
const HOOK_PATH = `/cds-services/${SERVICE}`;
/**
 * Below the pool's 3 s connection timeout even with the margin, so that waiting on the pool shows; the
 * margin is generous on purpose: the point is that the answer is bounded by the deadline, not its speed.
 */
const DEADLINE_MS = 1000;
const MARGIN_MS = 1500;

let jose: Jose;
let key: SigningKey;
let jwks: JwksServer;
let proxy: TcpProxy;
let schema: string;
let composed: Composed;

beforeAll(async () => {
  jose = await loadJose();
  key = await makeKey(jose, 'ES384');
  jwks = await startJwksServer();
  jwks.serve('/jwks', { keys: [key.publicJwk] });
  proxy = await startTcpProxy(TEST_DATABASE_URL);
  schema = uniqueSchema('hang');
  composed = await compose({
    PORT: '0',
    DEMO: 'off',
    LOG_LEVEL: 'silent',
    EVAL_WORKERS: '1',
    DEADLINE_MS: String(DEADLINE_MS),
    CDS_PUBLIC_BASE_URL: PUBLIC_BASE,
    CDS_TRUSTED_ISSUERS: JSON.stringify([{ iss: ISS, jwks_uri: jwks.url('/jwks') }]),
    DATABASE_URL: proxy.url,
    DATABASE_SCHEMA: schema,
  });
});

afterAll(async () => {
  await proxy?.stop(); // the held connections fail now, so closing the store does not wait for them
  await proxy?.start();
  await composed?.close();
  await proxy?.stop();
  await jwks?.close();
  await dropSchema(schema);
});

const token = () =>
  signToken(jose, key, defaultClaims(ISS, `${PUBLIC_BASE}${HOOK_PATH}`, Math.floor(Date.now() / 1000)));

async function hookCall(jwt: string): Promise<{ status: number; ms: number; cards: number }> {
  const started = performance.now();
  const res = await request(composed.app)
    .post(HOOK_PATH)
    .set('Content-Type', 'application/json')
    .set('Authorization', `Bearer ${jwt}`)
    .send(readFileSync(EXAMPLE, 'utf8'));
  return { status: res.status, ms: performance.now() - started, cards: (res.body.cards ?? []).length };
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = (await request(composed.app).get('/metrics')).text;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('CH-J5 CH-B2 a database that hangs, with JWT authentication on', () => {
  it('when the database hangs, hook calls with a valid JWT answer within the deadline and a replay to the same instance is still 401', async () => {
    // warm: the ELM, the JWK Set and a pooled connection, while the database answers
    expect((await hookCall(await token())).status).toBe(200);
    const errorsBefore = await metric('ketamine_cds_store_errors_total', { operation: 'jti' });

    proxy.hang();
    const jwt = await token();
    const first = await hookCall(jwt);
    expect(first.status).toBe(200);
    expect(first.cards).toBeGreaterThan(0);
    expect(first.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);

    const replayed = await hookCall(jwt);
    expect(replayed.status).toBe(401);
    expect(replayed.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);

    const again = await hookCall(await token());
    expect(again.status).toBe(200);
    expect(again.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);

    expect(await metric('ketamine_cds_store_errors_total', { operation: 'jti' })).toBeGreaterThan(errorsBefore);
  });
});
