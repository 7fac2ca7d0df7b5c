import request from 'supertest';
import { createApp } from '../../src/http/app';
import { openStore, type Store } from '../../src/store';
import {
  DEFINITIONS,
  fakeSteps,
  harness,
  ketamineDraft,
  NOW,
  ORDER_SELECT,
  orderRequest,
  PATIENT_VIEW,
  patientViewRequest,
  PUBLIC_BASE,
} from '../support/service';
import { testEhr, type TestEhr } from '../support/ehr-jwt';

/** Every path in `value` holding null, "", [] or {} (CH-D2). */
function emptyValues(value: unknown, at = ''): string[] {
  if (value === null || value === '') return [at];
  if (Array.isArray(value)) return value.length === 0 ? [at] : value.flatMap((v, i) => emptyValues(v, `${at}[${i}]`));
  if (typeof value === 'object') {
    const entries = Object.entries(value as object);
    return entries.length === 0 ? [at] : entries.flatMap(([k, v]) => emptyValues(v, `${at}.${k}`));
  }
  return [];
}

const expectOperationOutcome = (res: request.Response, status: number) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].diagnostics).toEqual(expect.any(String));
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack
};

describe('discovery', () => {
  it('CH-D1 GET /cds-services answers 200 application/json { services: [...] } with the three services', async () => {
    const res = await request(createApp(harness().deps)).get('/cds-services');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.services.map((s: { id: string }) => s.id).sort()).toEqual([...DEFINITIONS.keys()].sort());
  });

  it('CH-D2 each service has hook, id, title, description and prefetch, and no null, "", [] or {} anywhere', async () => {
    const res = await request(createApp(harness().deps)).get('/cds-services');
    for (const service of res.body.services) {
      expect(service).toEqual(
        expect.objectContaining({
          hook: expect.any(String),
          id: expect.any(String),
          title: expect.any(String),
          description: expect.any(String),
          prefetch: expect.any(Object),
        }),
      );
    }
    expect(emptyValues(res.body)).toEqual([]);
  });

  it('CH-D4 internal configuration never leaks into discovery: only the public fields, none of the config values', async () => {
    const { deps } = harness(
      {},
      { fhirServerAllowlist: ['https://internal-fhir.corp.example/fhir'], docsUrl: 'https://docs.internal.example/p' },
    );
    deps.http = {
      ...deps.http,
      publicBaseUrl: 'https://secret-gateway.internal.example',
      corsOrigins: ['https://ehr-origin.internal.example'],
    };
    const res = await request(createApp(deps)).get('/cds-services');
    for (const service of res.body.services) {
      expect(
        Object.keys(service).every((k) =>
          ['hook', 'id', 'title', 'description', 'prefetch', 'usageRequirements'].includes(k),
        ),
      ).toBe(true);
    }
    for (const value of [
      'internal-fhir.corp.example',
      'docs.internal.example',
      'secret-gateway',
      'ehr-origin.internal',
      'sqlite',
      String(deps.config.deadlineMs),
    ]) {
      expect(res.text).not.toContain(value);
    }
  });
});

describe('service calls', () => {
  it('CH-C1 a patient-view call answers 200 application/json { cards: [...] } without systemActions', async () => {
    const res = await request(createApp(harness().deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .send(patientViewRequest('p1'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.cards).toHaveLength(1);
    expect(res.body).not.toHaveProperty('systemActions');
  });

  it('CH-C1 a call with no card answers { "cards": [] }', async () => {
    const { deps } = harness({ steps: fakeSteps({ buildCards: () => [] }) });
    const res = await request(createApp(deps)).post(`/cds-services/${PATIENT_VIEW}`).send(patientViewRequest('p1'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });

  it('CH-R1 a request without hookInstance is a 400 OperationOutcome naming the field', async () => {
    const body = patientViewRequest('p1');
    delete body.hookInstance;
    const res = await request(createApp(harness().deps)).post(`/cds-services/${PATIENT_VIEW}`).send(body);
    expectOperationOutcome(res, 400);
    expect(res.body.issue[0].expression).toEqual(['hookInstance']);
  });

  it('CH-R1 a request whose hook is not the service’s hook is a 400 OperationOutcome', async () => {
    const res = await request(createApp(harness().deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .send({ ...patientViewRequest('p1'), hook: 'order-select' });
    expectOperationOutcome(res, 400);
    expect(res.body.issue[0].expression).toEqual(['hook']);
  });

  it('CH-R2 an order-select selection that is not in draftOrders is a 400 through HTTP', async () => {
    const body = orderRequest('order-select', 'p1', [ketamineDraft('d1', 0.3)], ['MedicationRequest/missing']);
    const res = await request(createApp(harness().deps)).post(`/cds-services/${ORDER_SELECT}`).send(body);
    expectOperationOutcome(res, 400);
    expect(res.body.issue[0].expression).toEqual(['context.selections[0]']);
  });

  it('CH-R3 fhirAuthorization without fhirServer is a 400, and the token is not echoed', async () => {
    const body = {
      ...patientViewRequest('p1'),
      fhirAuthorization: {
        access_token: 'tok-secret-991',
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'patient/*.read',
        subject: 's',
      },
    };
    const res = await request(createApp(harness().deps)).post(`/cds-services/${PATIENT_VIEW}`).send(body);
    expectOperationOutcome(res, 400);
    expect(res.text).not.toContain('tok-secret-991');
  });

  it('CH-R4 an unknown service id is a 404 OperationOutcome (service call and feedback)', async () => {
    const app = createApp(harness().deps);
    expectOperationOutcome(
      await request(app).post('/cds-services/no-such-service').send(patientViewRequest('p1')),
      404,
    );
    expectOperationOutcome(
      await request(app).post('/cds-services/no-such-service/feedback').send({ feedback: [] }),
      404,
    );
    expectOperationOutcome(await request(app).get('/no/such/path'), 404);
  });

  it('CH-R4 a body over the configured limit is a 413 OperationOutcome', async () => {
    const { deps } = harness();
    deps.http = { ...deps.http, requestLimitBytes: 2048 };
    const body = { ...patientViewRequest('p1'), padding: 'x'.repeat(4096) };
    const res = await request(createApp(deps)).post(`/cds-services/${PATIENT_VIEW}`).send(body);
    expectOperationOutcome(res, 413);
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/fhir+json',
    'application/fhir+json; charset=UTF-8',
  ])('CH-R5 a body sent as %s is accepted', async (type) => {
    const res = await request(createApp(harness().deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .set('Content-Type', type)
      .send(JSON.stringify(patientViewRequest('p1')));
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
  });

  it('CH-R5 unknown fields and an extension are accepted and ignored', async () => {
    const body = {
      ...patientViewRequest('p1'),
      extension: { 'com.epic.cdshooks.request.bpa-trigger-action': '6' },
      futureField: { a: 1 },
    };
    const res = await request(createApp(harness().deps)).post(`/cds-services/${PATIENT_VIEW}`).send(body);
    expect(res.status).toBe(200);
  });

  it('CH-R5 a body in another media type is a 415 OperationOutcome', async () => {
    const res = await request(createApp(harness().deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .set('Content-Type', 'text/plain')
      .send('hello');
    expectOperationOutcome(res, 415);
  });

  it('CH-R6 patientId sent as Patient/p1 is tolerated', async () => {
    const body = patientViewRequest('p1') as { context: { patientId: string } };
    body.context.patientId = 'Patient/p1';
    const res = await request(createApp(harness().deps)).post(`/cds-services/${PATIENT_VIEW}`).send(body);
    expect(res.status).toBe(200);
    expect(res.body.cards[0].summary).toContain('p1');
  });
});

describe('CH-B1 robustness: every error is an OperationOutcome, the process keeps serving', () => {
  it('CH-B1 malformed JSON, wrong types, an empty body and a huge body each get an OperationOutcome, and the app still serves', async () => {
    const { deps } = harness();
    deps.http = { ...deps.http, requestLimitBytes: 64 * 1024 };
    const app = createApp(deps);
    const url = `/cds-services/${PATIENT_VIEW}`;

    const malformed = await request(app)
      .post(url)
      .set('Content-Type', 'application/json')
      .send('{"hook": "patient-view", ');
    expectOperationOutcome(malformed, 400);
    expect(malformed.body.issue[0].diagnostics).toBe('The request body is not valid JSON');

    expectOperationOutcome(await request(app).post(url).send({ hook: 42, hookInstance: [], context: 'x' }), 400);
    expectOperationOutcome(
      await request(app).post(url).set('Content-Type', 'application/json').send('"just a string"'),
      400,
    );
    expectOperationOutcome(await request(app).post(url), 400);
    expectOperationOutcome(
      await request(app)
        .post(url)
        .set('Content-Type', 'application/json')
        .send(`[${'1,'.repeat(100_000)}1]`),
      413,
    );
    expectOperationOutcome(
      await request(app).post(url).set('Content-Type', 'application/json; charset=latin-9').send('{}'),
      415,
    );

    const after = await request(app).post(url).send(patientViewRequest('p1'));
    expect(after.status).toBe(200);
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok' });
  });

  it('CH-B1 an unexpected exception inside a step is a 500 "Internal error" with neither its message nor a stack', async () => {
    const { deps, log } = harness({
      steps: fakeSteps({
        decide: () => {
          throw new TypeError('Cannot read properties of undefined (reading "Jane Doe")');
        },
      }),
    });
    const res = await request(createApp(deps)).post(`/cds-services/${PATIENT_VIEW}`).send(patientViewRequest('p1'));
    expectOperationOutcome(res, 500);
    expect(res.body.issue[0].diagnostics).toBe('Internal error');
    expect(res.text).not.toContain('Jane Doe');
    expect(log.text()).not.toContain('Jane Doe');
    expect(log.entries().find((e) => e.event === 'http.error')).toMatchObject({ errorName: 'TypeError' });
  });
});

describe('authentication (CH-J1)', () => {
  let ehr: TestEhr;
  beforeAll(async () => {
    ehr = await testEhr();
  });

  it('CH-J1 with authentication configured, discovery, service and feedback need a Bearer JWT: none or non-Bearer → 401', async () => {
    const app = createApp(harness({ authenticate: ehr.authenticate }).deps);
    const calls = [
      () => request(app).get('/cds-services'),
      () => request(app).post(`/cds-services/${PATIENT_VIEW}`).send(patientViewRequest('p1')),
      () => request(app).post(`/cds-services/${PATIENT_VIEW}/feedback`).send({ feedback: [] }),
    ];
    for (const call of calls) {
      const missing = await call();
      expectOperationOutcome(missing, 401);
      expect(missing.headers['www-authenticate']).toBe('Bearer');
      expectOperationOutcome(await call().set('Authorization', 'Basic dXNlcjpwYXNz'), 401);
    }
  });

  it('CH-J1 a valid JWT whose aud is the exact URL called (from the public base URL) is accepted on every endpoint', async () => {
    const app = createApp(harness({ authenticate: ehr.authenticate }).deps);
    const discovery = await request(app)
      .get('/cds-services')
      .set('Authorization', `Bearer ${await ehr.token(`${PUBLIC_BASE}/cds-services`)}`);
    expect(discovery.status).toBe(200);
    const url = `/cds-services/${PATIENT_VIEW}`;
    const call = await request(app)
      .post(url)
      .set('Authorization', `Bearer ${await ehr.token(`${PUBLIC_BASE}${url}`)}`)
      .send(patientViewRequest('p1'));
    expect(call.status).toBe(200);
  });

  it('CH-J1 a JWT for another endpoint (aud ≠ the URL called) is a 401, whatever the Host header says', async () => {
    const app = createApp(harness({ authenticate: ehr.authenticate }).deps);
    const token = await ehr.token(`${PUBLIC_BASE}/cds-services`);
    const res = await request(app)
      .post(`/cds-services/${PATIENT_VIEW}`)
      .set('Host', 'cds.example.org')
      .set('Authorization', `Bearer ${token}`)
      .send(patientViewRequest('p1'));
    expectOperationOutcome(res, 401);
  });

  it('the health check and the protocol page need no token', async () => {
    const app = createApp(harness({ authenticate: ehr.authenticate, docsHtml: '<html>protocol</html>' }).deps);
    expect((await request(app).get('/healthz')).status).toBe(200);
    const docs = await request(app).get('/docs/protocol');
    expect(docs.status).toBe(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
  });
});

describe('CORS (CH-J8)', () => {
  const preflight = (app: ReturnType<typeof createApp>, origin: string) =>
    request(app)
      .options(`/cds-services/${PATIENT_VIEW}`)
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');

  it('CH-J8 a preflight is answered 204 with the allowed methods and headers, before (and without) authentication', async () => {
    const ehr = await testEhr();
    const app = createApp(harness({ authenticate: ehr.authenticate }).deps);
    const res = await preflight(app, 'https://sandbox.cds-hooks.org');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/i);
  });

  it('CH-J8 with any origin allowed ("*"), credentials are never allowed', async () => {
    const app = createApp(harness().deps);
    const pre = await preflight(app, 'https://sandbox.cds-hooks.org');
    const get = await request(app).get('/cds-services').set('Origin', 'https://sandbox.cds-hooks.org');
    for (const res of [pre, get]) {
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('CH-J8 with configured origins, a listed origin is echoed (never *), an unlisted one gets no CORS headers', async () => {
    const { deps } = harness();
    deps.http = { ...deps.http, corsOrigins: ['https://ehr.example.org'] };
    const app = createApp(deps);
    const listed = await request(app).get('/cds-services').set('Origin', 'https://ehr.example.org');
    expect(listed.headers['access-control-allow-origin']).toBe('https://ehr.example.org');
    expect(listed.headers.vary).toMatch(/Origin/);
    const unlisted = await preflight(app, 'https://evil.example.com');
    expect(unlisted.headers['access-control-allow-origin']).toBeUndefined();
    expect(unlisted.headers['access-control-allow-methods']).toBeUndefined();
  });
});

describe('feedback (CH-F1)', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore(':memory:');
  });
  afterEach(() => store.close());

  const item = {
    card: '00000000-0000-4000-8000-00000000aaaa',
    outcome: 'overridden',
    outcomeTimestamp: '2026-03-10T12:05:00Z',
    overrideReason: {
      reason: {
        system: 'https://ketamine-cds.example.org/fhir/CodeSystem/override-reason',
        code: 'clinical-judgement',
        display: 'Clinical judgement',
      },
    },
  };

  it('CH-F1 POST /cds-services/{id}/feedback with { feedback: [...] } is a 200, and the feedback is kept', async () => {
    const { deps } = harness();
    const app = createApp({
      ...deps,
      store: { recordAudit: deps.store.recordAudit, recordFeedback: store.recordFeedback },
    });
    const res = await request(app)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .send({ feedback: [item] });
    expect(res.status).toBe(200);
    expect(await store.listFeedback()).toMatchObject([
      { serviceId: PATIENT_VIEW, card: item.card, outcome: 'overridden', overrideReasonCode: 'clinical-judgement' },
    ]);
  });

  it('CH-F2 an invalid feedback item is a 400 OperationOutcome naming the field', async () => {
    const { deps } = harness();
    const app = createApp({
      ...deps,
      store: { recordAudit: deps.store.recordAudit, recordFeedback: store.recordFeedback },
    });
    const res = await request(app)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .send({ feedback: [{ ...item, outcome: 'ignored' }] });
    expectOperationOutcome(res, 400);
    expect(res.body.issue[0].expression).toEqual(['feedback[0].outcome']);
    expect(await store.listFeedback()).toEqual([]);
  });
});

describe('the demo clock (demo mode only)', () => {
  const at = '2026-02-09T10:00:00Z';

  it('in demo mode, a hook call runs at the time its X-Demo-Now header names', async () => {
    const { deps, audits } = harness({ demoClock: true });
    const res = await request(createApp(deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .set('X-Demo-Now', at)
      .send(patientViewRequest('p1'));
    expect(res.status).toBe(200);
    expect(audits[0]?.at).toBe(new Date(at).toISOString());
  });

  it('outside demo mode the header is ignored like any unknown header', async () => {
    const { deps, audits } = harness();
    await request(createApp(deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .set('X-Demo-Now', at)
      .send(patientViewRequest('p1'));
    expect(audits[0]?.at).toBe(NOW.toISOString());
  });
});

describe('the request log', () => {
  it('logs one line per request with method, route, service, status, duration and hookInstance', async () => {
    const { deps, log } = harness();
    await request(createApp(deps))
      .post(`/cds-services/${PATIENT_VIEW}`)
      .send(patientViewRequest('p1', { hookInstance: 'hook-123' }));
    const line = log.entries().find((e) => e.event === 'http.request');
    expect(line).toMatchObject({
      method: 'POST',
      route: 'POST /cds-services/:id',
      serviceId: PATIENT_VIEW,
      status: 200,
      hookInstance: 'hook-123',
      ms: expect.any(Number),
    });
  });

  it('an unknown path is logged as "unmatched", never as the raw path', async () => {
    const { deps, log } = harness();
    await request(createApp(deps)).get('/Patient/Jane-Doe-1980');
    expect(log.entries().find((e) => e.event === 'http.request')).toMatchObject({ route: 'unmatched', status: 404 });
    expect(log.text()).not.toContain('Jane-Doe');
  });
});
