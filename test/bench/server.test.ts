/**
 * The benchmark's server (src/bench/server.ts): the app composed as production composes it, behind a
 * floor route, on loopback. No timing here: speed is measured by `npm run bench`, never asserted in a test.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startBenchServer } from '../../src/bench/server';

const EXAMPLE = path.resolve(__dirname, '../fixtures/requests/patient-view-example.json');

it('serves the composed service and POST /floor on 127.0.0.1 only, whatever HOST says, and closes cleanly', async () => {
  const running = await startBenchServer({
    PORT: '0',
    HOST: '0.0.0.0',
    DEMO: 'off',
    FEEDBACK_DB: ':memory:',
    LOG_LEVEL: 'silent',
  });
  try {
    expect(running.server.address()).toMatchObject({ address: '127.0.0.1' });
    const base = `http://127.0.0.1:${(running.server.address() as { port: number }).port}`;
    const body = readFileSync(EXAMPLE, 'utf8');
    const post = (route: string) =>
      fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    const floor = await post('/floor');
    expect(floor.status).toBe(200);
    expect(await floor.text()).toBe('{"cards":[]}');

    const call = await post('/cds-services/ketamine-protocol-patient-view');
    expect(call.status).toBe(200);
    expect(((await call.json()) as { cards: unknown[] }).cards.length).toBeGreaterThan(0);

    // The floor parses like the service: a body that is not JSON is refused, not answered with no cards.
    const bad = await fetch(`${base}/floor`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
  } finally {
    await running.close();
  }
  expect(running.server.listening).toBe(false);
});
