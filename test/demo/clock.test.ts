import express from 'express';
import request from 'supertest';
import { DEMO_NOW_HEADER, demoClockFor, demoNowOf, parseDemoNow } from '../../src/demo/clock';
import { OperationOutcomeError } from '../../src/errors';

const REAL = () => new Date('2030-01-01T00:00:00Z');
const headers = (value?: string) => ({
  get: (name: string) => (name.toLowerCase() === DEMO_NOW_HEADER.toLowerCase() ? value : undefined),
});

describe('the demo scenario clock (X-Demo-Now)', () => {
  it('uses the header time for that request when it carries one', () => {
    const clock = demoClockFor(headers('2026-03-10T11:00:00Z'), REAL);
    expect(clock().toISOString()).toBe('2026-03-10T11:00:00.000Z');
  });

  it('keeps the real clock when the request has no header', () => {
    expect(demoClockFor(headers(undefined), REAL)).toBe(REAL);
    expect(demoNowOf(headers(''))).toBeUndefined();
  });

  it('accepts offsets, and refuses a bare date, a local time or garbage with a 400 OperationOutcome', () => {
    expect(parseDemoNow('2026-03-10T12:00:00+01:00')?.toISOString()).toBe('2026-03-10T11:00:00.000Z');
    for (const bad of ['2026-03-10', '2026-03-10T11:00:00', 'tomorrow', '2026-13-45T99:00:00Z']) {
      let error: unknown;
      try {
        parseDemoNow(bad);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(OperationOutcomeError);
      expect((error as OperationOutcomeError).status).toBe(400);
    }
  });

  it('survives body parsing: the clock is chosen per request after express.json, not from async context', async () => {
    const app = express();
    app.use(express.json());
    app.post('/hook', (req, res) => {
      const clock = demoClockFor(req, REAL);
      res.json({ now: clock().toISOString(), echoed: req.body.ok });
    });
    const withHeader = await request(app).post('/hook').set(DEMO_NOW_HEADER, '2026-03-10T14:30:00Z').send({ ok: true });
    expect(withHeader.body).toEqual({ now: '2026-03-10T14:30:00.000Z', echoed: true });
    const without = await request(app).post('/hook').send({ ok: true });
    expect(without.body.now).toBe('2030-01-01T00:00:00.000Z');
  });
});
