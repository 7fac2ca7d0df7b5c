/**
 * Limits on what one request may carry (issue 7): feedback items per POST and the length of their text;
 * the security headers; rate limiting, and the proxies trusted for the client address (TRUST_PROXY).
 */
import request from 'supertest';
import { loadConfig } from '../../src/config/env';
import { SETTINGS } from '../../src/config/settings';
import { createApp, DEFAULT_FEEDBACK_MAX_ITEMS } from '../../src/http/app';
import { DEFAULT_FEEDBACK_TEXT_LIMITS } from '../../src/store/feedback';
import { configProblems } from '../support/config';
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

describe('CH-B6 length of feedback text (FEEDBACK_MAX_TEXT_LENGTH, FEEDBACK_MAX_CODE_LENGTH)', () => {
  const overridden = (reason: Record<string, string>, userComment: string) => ({
    card: '00000000-0000-4000-8000-000000000001',
    outcome: 'overridden',
    outcomeTimestamp: '2026-03-10T12:05:00Z',
    overrideReason: { reason, userComment },
  });
  const REASON = {
    system: 'http://example.org/override-reasons',
    code: 'patient-declined',
    display: 'Patient declined',
  };
  const post = (app: ReturnType<typeof createApp>, item: unknown) =>
    request(app)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .send({ feedback: [item] });

  it('the defaults are the declared settings: 4096 characters of comment, 1024 of each reason code', () => {
    expect(SETTINGS.FEEDBACK_MAX_TEXT_LENGTH?.default).toBe(DEFAULT_FEEDBACK_TEXT_LIMITS.comment);
    expect(SETTINGS.FEEDBACK_MAX_CODE_LENGTH?.default).toBe(DEFAULT_FEEDBACK_TEXT_LIMITS.code);
    expect(loadConfig({}).config.feedbackTextLimits).toEqual(DEFAULT_FEEDBACK_TEXT_LIMITS);
    expect(
      loadConfig({ FEEDBACK_MAX_TEXT_LENGTH: '200', FEEDBACK_MAX_CODE_LENGTH: '64' }).config.feedbackTextLimits,
    ).toEqual({ comment: 200, code: 64, suggestions: DEFAULT_FEEDBACK_TEXT_LIMITS.suggestions });
    expect(SETTINGS.FEEDBACK_MAX_SUGGESTIONS?.default).toBe(DEFAULT_FEEDBACK_TEXT_LIMITS.suggestions);
    expect(configProblems({ FEEDBACK_MAX_TEXT_LENGTH: '0' }).join('\n')).toMatch(/FEEDBACK_MAX_TEXT_LENGTH/);
    expect(configProblems({ FEEDBACK_MAX_CODE_LENGTH: 'long' }).join('\n')).toMatch(/FEEDBACK_MAX_CODE_LENGTH/);
  });

  it('when an accepted item lists more suggestions than FEEDBACK_MAX_SUGGESTIONS, it answers 400 naming the field and stores nothing', async () => {
    const { deps, feedback } = harness();
    const accepted = (count: number) => ({
      card: '00000000-0000-4000-8000-000000000001',
      outcome: 'accepted',
      outcomeTimestamp: '2026-03-10T12:05:00Z',
      acceptedSuggestions: Array.from({ length: count }, (_, i) => ({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      })),
    });
    const app = createApp(deps);
    const over = await post(app, accepted(DEFAULT_FEEDBACK_TEXT_LIMITS.suggestions + 1));
    expect(over.status).toBe(400);
    expect(over.body.issue[0].expression).toEqual(['feedback[0].acceptedSuggestions']);
    expect(over.body.issue[0].diagnostics).toContain(`at most ${DEFAULT_FEEDBACK_TEXT_LIMITS.suggestions} items`);
    expect(feedback).toEqual([]);
    expect((await post(app, accepted(DEFAULT_FEEDBACK_TEXT_LIMITS.suggestions))).status).toBe(200);
  });

  it('when a comment is 1,500,000 characters long, it answers 400 naming the field and stores nothing', async () => {
    const { deps, feedback } = harness();
    // A body limit large enough for the comment: the text limit, not the body size, must refuse it.
    const app = createApp({ ...deps, http: { ...deps.http, requestLimitBytes: 16 * 1024 * 1024 } });
    const res = await post(app, overridden(REASON, 'x'.repeat(1_500_000)));
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression).toEqual(['feedback[0].overrideReason.userComment']);
    expect(res.body.issue[0].diagnostics).toContain(
      `feedback[0].overrideReason.userComment must be at most ${DEFAULT_FEEDBACK_TEXT_LIMITS.comment} characters`,
    );
    expect(feedback).toEqual([]);
  });

  it.each(['system', 'code', 'display'])(
    'when the override reason’s %s is longer than the limit, it answers 400 naming it and stores nothing',
    async (field) => {
      const { deps, feedback } = harness();
      const long = 'a'.repeat(DEFAULT_FEEDBACK_TEXT_LIMITS.code + 1);
      const res = await post(createApp(deps), overridden({ ...REASON, [field]: long }, 'declined'));
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression).toEqual([`feedback[0].overrideReason.reason.${field}`]);
      expect(res.body.issue[0].diagnostics).toContain(`at most ${DEFAULT_FEEDBACK_TEXT_LIMITS.code} characters`);
      expect(feedback).toEqual([]);
    },
  );

  it('when the text is exactly at the limits, it is stored; configured limits apply', async () => {
    const { deps, feedback } = harness();
    const atLimit = overridden(
      { ...REASON, display: 'd'.repeat(DEFAULT_FEEDBACK_TEXT_LIMITS.code) },
      'c'.repeat(DEFAULT_FEEDBACK_TEXT_LIMITS.comment),
    );
    expect((await post(createApp(deps), atLimit)).status).toBe(200);
    expect(feedback[0]?.items[0]?.overrideReason?.userComment).toHaveLength(DEFAULT_FEEDBACK_TEXT_LIMITS.comment);

    const small = createApp({
      ...deps,
      http: { ...deps.http, feedbackTextLimits: { comment: 10, code: 40, suggestions: 2 } },
    });
    expect((await post(small, overridden(REASON, 'ten chars!'))).status).toBe(200);
    const over = await post(small, overridden(REASON, 'eleven char'));
    expect(over.status).toBe(400);
    expect(over.body.issue[0].diagnostics).toContain('at most 10 characters');
    expect((await post(small, overridden({ ...REASON, code: 'c'.repeat(41) }, 'ok'))).status).toBe(400);
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

describe('CH-B6 the proxies trusted for the client address (TRUST_PROXY)', () => {
  /** Three requests from the same socket address (supertest: loopback), each with its X-Forwarded-For. */
  async function statuses(trustProxy: false | number | string[] | undefined, forwardedFor: string[]) {
    const { deps } = harness();
    const app = createApp({ ...deps, http: { ...deps.http, rateLimitPerMinute: 2, trustProxy } });
    const out: number[] = [];
    for (const address of forwardedFor)
      out.push((await request(app).get('/cds-services').set('X-Forwarded-For', address)).status);
    return out;
  }

  it('when no proxy is trusted, a client cannot escape the limit by forging X-Forwarded-For: the TCP peer is counted', async () => {
    // express-rate-limit warns once (console.error) about a forwarded header it does not trust: expected here.
    const warn = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await statuses(undefined, ['203.0.113.1', '203.0.113.2', '203.0.113.3'])).toEqual([200, 200, 429]);
      expect(await statuses(false, ['203.0.113.1', '203.0.113.2', '203.0.113.3'])).toEqual([200, 200, 429]);
    } finally {
      warn.mockRestore();
    }
  });

  it('when the proxy in front is trusted (loopback, or 1 hop), each client behind it is counted by its forwarded address', async () => {
    for (const trust of [['loopback'], 1, ['127.0.0.0/8', '::1/128', '::ffff:127.0.0.1']] as const) {
      const trustProxy = typeof trust === 'number' ? trust : [...trust];
      expect(await statuses(trustProxy, ['203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.1'])).toEqual([
        200, 200, 200, 429,
      ]);
    }
  });

  it('reads TRUST_PROXY: off by default, a hop count, or range names, addresses and CIDR ranges', () => {
    expect(loadConfig({}).config.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'OFF' }).config.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).config.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).config.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.168.1.7, fd00::/8' }).config.trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
    ]);
  });

  it.each([
    'true',
    'on',
    'everyone',
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0/8',
    'loopback, nowhere',
    '1.2.3.4/8/8',
    '-1',
  ])('when TRUST_PROXY is %j, startup stops with a message naming it', (value) => {
    expect(configProblems({ TRUST_PROXY: value }).join('\n')).toMatch(/^TRUST_PROXY must be off, a hop count/m);
  });
});
