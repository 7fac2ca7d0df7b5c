/**
 * The program's start and stop: configuration and parameter files checked before anything listens,
 * the real dependencies wired, and a clean close.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ConfigError } from '../../src/config/env';
import { ParameterFileError } from '../../src/config/parameters';
import { compose, start } from '../../src/main';

const ENV = {
  PORT: '0',
  DEMO: 'off',
  FEEDBACK_DB: ':memory:',
  LOG_LEVEL: 'silent',
  CDS_PUBLIC_BASE_URL: 'https://cds.example.org',
};
const EXAMPLE = path.resolve(__dirname, '../fixtures/requests/patient-view-example.json');

it('starts with the real modules, serves discovery, the protocol page and a hook call, and closes cleanly', async () => {
  const running = await start(ENV);
  const base = `http://127.0.0.1:${(running.server.address() as { port: number }).port}`;
  try {
    const discovery = (await (await fetch(`${base}/cds-services`)).json()) as { services: Array<{ id: string }> };
    expect(discovery.services.map((s) => s.id)).toContain('ketamine-protocol-patient-view');

    const docs = await fetch(`${base}/docs/protocol`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('hardMaxRate');

    const call = await fetch(`${base}/cds-services/ketamine-protocol-patient-view`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: readFileSync(EXAMPLE, 'utf8'),
    });
    expect(call.status).toBe(200);
    const body = (await call.json()) as { cards: Array<{ links?: Array<{ url: string }> }> };
    // Run today, the example's data are stale: whatever the rule, its card links the protocol page.
    expect(body.cards[0]?.links?.some((l) => l.url === 'https://cds.example.org/docs/protocol')).toBe(true);
  } finally {
    await running.close();
  }
  expect(running.server.listening).toBe(false);
});

it('a bad environment value stops startup with a message naming it, before anything listens', async () => {
  await expect(start({ ...ENV, DEADLINE_MS: 'soon' })).rejects.toThrow(ConfigError);
  await expect(start({ ...ENV, DEADLINE_MS: 'soon' })).rejects.toThrow(/DEADLINE_MS/);
});

it('a bad protocol parameter file stops startup with the message naming the parameter', async () => {
  const json = JSON.parse(readFileSync(path.resolve(__dirname, '../../cds-hooks/protocol-parameters.json'), 'utf8'));
  json.parameters.hardMaxRate.value = 0.05; // below the soft maximum
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'params-')), 'protocol-parameters.json');
  writeFileSync(file, JSON.stringify(json));
  await expect(start(ENV, { parameterFile: file })).rejects.toThrow(ParameterFileError);
  await expect(start(ENV, { parameterFile: file })).rejects.toThrow(/softMaxRate must not exceed hardMaxRate/);
});

it('listens on HOST when it is set (127.0.0.1: loopback only)', async () => {
  const running = await start({ ...ENV, HOST: '127.0.0.1' });
  try {
    expect(running.server.address()).toMatchObject({ address: '127.0.0.1' });
    const port = (running.server.address() as { port: number }).port;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  } finally {
    await running.close();
  }
});

it('a port already in use stops startup with the listen error', async () => {
  const first = await start({ ...ENV, HOST: '127.0.0.1' });
  try {
    const port = String((first.server.address() as { port: number }).port);
    await expect(start({ ...ENV, HOST: '127.0.0.1', PORT: port })).rejects.toThrow(/EADDRINUSE/);
  } finally {
    await first.close();
  }
});

describe('compose: the whole app as production builds it, without listening', () => {
  it('with DEMO=off: the CDS endpoints, no demo FHIR server; close() releases the store', async () => {
    const composed = await compose(ENV);
    try {
      expect(composed.demo).toBe(false);
      expect((await request(composed.app).get('/healthz')).status).toBe(200);
      const discovery = await request(composed.app).get('/cds-services');
      expect(discovery.body.services.map((s: { id: string }) => s.id)).toContain('ketamine-protocol-patient-view');
      expect((await request(composed.app).get('/fhir/metadata')).status).toBe(404);
    } finally {
      await composed.close();
    }
    await expect(composed.store.listAudit()).rejects.toThrow(/not open/);
  });

  it('with DEMO unset: the demo is mounted (FHIR server at /fhir, sandbox page at /), as `npm start` serves it', async () => {
    const { DEMO: _off, ...withDemo } = ENV;
    const composed = await compose(withDemo);
    try {
      expect(composed.demo).toBe(true);
      const metadata = await request(composed.app).get('/fhir/metadata');
      expect(metadata.status).toBe(200);
      expect(JSON.parse(metadata.text).resourceType).toBe('CapabilityStatement');
      expect((await request(composed.app).get('/')).text).toContain('Ketamine protocol sandbox');
    } finally {
      await composed.close();
    }
  });
});
