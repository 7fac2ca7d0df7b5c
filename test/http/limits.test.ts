/** Limits on what one request may carry (issue 7): feedback items per POST; and the security headers. */
import request from 'supertest';
import { createApp, DEFAULT_FEEDBACK_MAX_ITEMS } from '../../src/http/app';
import { harness, PATIENT_VIEW } from '../support/service';

const item = (n: number) => ({
  card: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
  outcome: 'accepted',
  outcomeTimestamp: '2026-03-10T12:05:00Z',
  acceptedSuggestions: [{ id: '00000000-0000-4000-8000-00000000aaaa' }],
});
const items = (count: number) => Array.from({ length: count }, (_, i) => item(i + 1));

describe('CH-B6 feedback items per request', () => {
  it('when a POST carries 12,000 items, it answers 413 with an OperationOutcome and stores nothing', async () => {
    const { deps, feedback } = harness();
    // A body limit large enough for the items: the item cap, not the body size, must refuse them.
    const app = createApp({ ...deps, http: { ...deps.http, requestLimitBytes: 16 * 1024 * 1024 } });
    const res = await request(app)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .send({ feedback: items(12_000) });
    expect(res.status).toBe(413);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toContain(`At most ${DEFAULT_FEEDBACK_MAX_ITEMS} feedback items`);
    expect(feedback).toEqual([]);
  });

  it('when a POST carries exactly the default limit, every item is stored', async () => {
    const { deps, feedback } = harness();
    const res = await request(createApp(deps))
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .send({ feedback: items(DEFAULT_FEEDBACK_MAX_ITEMS) });
    expect(res.status).toBe(200);
    expect(feedback[0]?.items).toHaveLength(DEFAULT_FEEDBACK_MAX_ITEMS);
  });

  it('when the limit is configured, one item over it is a 413 and the limit itself is accepted', async () => {
    const { deps, feedback } = harness();
    const app = createApp({ ...deps, http: { ...deps.http, feedbackMaxItems: 3 } });
    const over = await request(app)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .send({ feedback: items(4) });
    expect(over.status).toBe(413);
    expect(feedback).toEqual([]);
    const ok = await request(app)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .send({ feedback: items(3) });
    expect(ok.status).toBe(200);
    expect(feedback).toHaveLength(1);
  });
});

describe('security headers', () => {
  it('every response (API, 404, errors) carries the standard security headers; the JSON API forbids every content source', async () => {
    const app = createApp(harness().deps);
    for (const res of [
      await request(app).get('/cds-services'),
      await request(app).get('/healthz'),
      await request(app).post(`/cds-services/${PATIENT_VIEW}`).send({}),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'; ?frame-ancestors 'none'$/);
    }
    const missing = await request(app).get('/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('CH-B6 optional per-client rate limiting (RATE_LIMIT_PER_MINUTE)', () => {
  it('when no limit is configured, a burst of requests is never throttled', async () => {
    const app = createApp(harness().deps);
    for (let i = 0; i < 30; i++) expect((await request(app).get('/cds-services')).status).toBe(200);
  });

  it('when a limit is configured, the request over it answers 429 with an OperationOutcome and RateLimit headers', async () => {
    const { deps } = harness();
    const app = createApp({ ...deps, http: { ...deps.http, rateLimitPerMinute: 3 } });
    for (let i = 0; i < 3; i++) expect((await request(app).get('/cds-services')).status).toBe(200);
    const over = await request(app).get('/cds-services');
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
    expect(over.headers['ratelimit-policy'] ?? over.headers['ratelimit']).toBeDefined();
    // /healthz is outside the CDS endpoints: monitoring is never throttled.
    expect((await request(app).get('/healthz')).status).toBe(200);
  });
});
