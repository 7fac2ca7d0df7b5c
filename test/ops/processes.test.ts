/**
 * Two real service processes on one PostgreSQL database, as behind a load balancer: feedback and audit
 * from both are visible; a JWT used at one is refused (401) at the other; and when one is killed
 * (SIGKILL) in the middle of a burst of feedback posts, every feedback item it acknowledged is in the
 * database and the other instance keeps answering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { openPostgresStore, type Store } from '../../src/store';
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
import { patientViewRequest, PATIENT_VIEW } from '../support/service';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../support/stores';

jest.setTimeout(60_000);

const ISS = 'https://ehr.example.org';
const PUBLIC_BASE = 'https://cds.example.org';
const ENTRY = path.resolve(__dirname, '../support/service-process.js');

let jose: Jose;
let key: SigningKey;
let jwks: JwksServer;
let schema: string;
let store: Store;
const children: ChildProcess[] = [];

/** The two instances' ports, as each announced in its "listening" log line (ephemeral: parallel runs never collide). */
const ports: number[] = [];

/** Start one service process on a free port; resolves with its port once it logs that it is listening. */
function startInstance(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [ENTRY], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      DEMO: 'off',
      LOG_LEVEL: 'info',
      CDS_PUBLIC_BASE_URL: PUBLIC_BASE,
      CDS_TRUSTED_ISSUERS: JSON.stringify([{ iss: ISS, jwks_uri: jwks.url('/jwks') }]),
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.includes('"event":"listening"')) return;
      resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
    child.once('exit', (code) => reject(new Error(`instance exited (${code}): ${stderr}`)));
  });
}

const url = (port: number, p: string) => `http://127.0.0.1:${port}${p}`;
const token = (p: string) =>
  signToken(jose, key, defaultClaims(ISS, `${PUBLIC_BASE}${p}`, Math.floor(Date.now() / 1000)));

async function post(port: number, p: string, body: unknown, jwt?: string): Promise<Response> {
  return fetch(url(port, p), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt ?? (await token(p))}` },
    body: JSON.stringify(body),
  });
}

const feedbackPath = `/cds-services/${PATIENT_VIEW}/feedback`;
const hookPath = `/cds-services/${PATIENT_VIEW}`;
const feedbackItem = (n: number) => ({
  feedback: [
    {
      card: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
      outcome: 'overridden',
      outcomeTimestamp: '2026-03-10T12:00:00Z',
    },
  ],
});

beforeAll(async () => {
  jose = await loadJose();
  key = await makeKey(jose, 'ES384');
  jwks = await startJwksServer();
  jwks.serve('/jwks', { keys: [key.publicJwk] });
  schema = uniqueSchema('proc');
  // one after the other, so that children[0] is the instance on ports[0]
  for (let i = 0; i < 2; i++) ports.push((await startInstance()).port);
  store = await openPostgresStore(TEST_DATABASE_URL, { schema });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await store?.close();
  await jwks?.close();
  await dropSchema(schema);
});

describe('two service processes on one database', () => {
  it('CH-J5 CH-F3 feedback and audit from both are visible, and a token replayed to the other instance is 401', async () => {
    const [a, b] = ports as [number, number];
    expect((await post(a, feedbackPath, feedbackItem(1))).status).toBe(200);
    expect((await post(b, feedbackPath, feedbackItem(2))).status).toBe(200);
    const jwt = await token(hookPath);
    expect((await post(a, hookPath, patientViewRequest('p1', { hookInstance: 'at-a' }), jwt)).status).toBe(200);
    expect((await post(b, hookPath, patientViewRequest('p1', { hookInstance: 'at-a' }), jwt)).status).toBe(401);
    expect((await post(b, hookPath, patientViewRequest('p1', { hookInstance: 'at-b' }))).status).toBe(200);

    const cards = (await store.listFeedback()).map((f) => f.card);
    expect(cards).toEqual(
      expect.arrayContaining([feedbackItem(1).feedback[0]!.card, feedbackItem(2).feedback[0]!.card]),
    );
    // audit rows are written in batches off the request path: wait for them (bounded)
    for (let i = 0; i < 50; i++) {
      if ((await store.listAudit({ patientId: 'p1' })).length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await store.listAudit({ patientId: 'p1' })).map((r) => r.hookInstance).sort()).toEqual(['at-a', 'at-b']);
  });

  it('CH-F3 when one instance is killed during a burst of feedback posts, every acknowledged item is stored and the other keeps answering', async () => {
    const [a, b] = ports as [number, number];
    const victim = children[0]!;
    const acknowledged: string[] = [];
    let acknowledgedByVictim = 0;
    const posts: Array<Promise<void>> = [];
    for (let n = 100; n < 180; n++) {
      const item = feedbackItem(n);
      const port = n % 2 === 0 ? a : b;
      posts.push(
        post(port, feedbackPath, item).then(
          (res) => {
            if (res.status !== 200) return;
            acknowledged.push(item.feedback[0]!.card);
            // kill the instance mid-burst: after its first acknowledgements, with more posts in flight
            if (port === a && ++acknowledgedByVictim === 5) victim.kill('SIGKILL');
          },
          () => undefined, // the killed instance's connections fail: those items were never acknowledged
        ),
      );
    }
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      victim.once('exit', (_code, signal) => resolve(signal)),
    );
    await Promise.all(posts);
    expect(acknowledgedByVictim).toBeGreaterThanOrEqual(5);
    // the exit event may come after the last post settled: wait for it rather than read signalCode at once
    expect(victim.signalCode ?? (await exited)).toBe('SIGKILL');
    const stored = new Set((await store.listFeedback({ limit: 10_000 })).map((f) => f.card));
    expect(acknowledged.filter((card) => !stored.has(card))).toEqual([]);
    expect((await post(b, feedbackPath, feedbackItem(999))).status).toBe(200);
    expect((await fetch(url(b, '/readyz'))).status).toBe(200);
  });
});
