/**
 * CH-J6 / CH-R3 / house rule: no JWT, no access token and no patient data ever reach the logs. A full
 * request (signed JWT, fhirAuthorization, prefetch keys fetched from a FHIR server that requires the
 * token) runs with every log level on, and the captured output is searched for each secret. And every line
 * logged while handling a request carries its request id, whatever path the request takes.
 */
import type { Bundle } from 'fhir/r4';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server';
import { testEhr } from '../support/ehr-jwt';
import { fakeSteps, harness, PATIENT_VIEW, patientViewRequest, PUBLIC_BASE } from '../support/service';

const PATIENT_ID = 'pt-7781x';
const FAMILY = 'Zebulonova';
const GIVEN = 'Quixotica';
const ACCESS_TOKEN = 'at-5f2c9e-very-secret-access-token';
const REPORTS_TOKEN = 'r'.repeat(40);

let fhir: TestFhirServer;

beforeAll(async () => {
  const seed: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        resource: {
          resourceType: 'Patient',
          id: PATIENT_ID,
          name: [{ family: FAMILY, given: [GIVEN] }],
          gender: 'female',
          birthDate: '1979-02-03',
        },
      },
    ],
  };
  fhir = await startFhirServer({ seed: [seed], requireBearer: ACCESS_TOKEN });
});

afterAll(async () => {
  await fhir.close();
});

it('CH-J6 a full request with a JWT and fhirAuthorization leaves no JWT, access token, patient id or name in the logs', async () => {
  const { deps, log } = harness({}, { deadlineMs: 10_000, fhirTimeoutMs: 10_000 });
  const ehr = await testEhr(log.logger);
  const app = createApp({ ...deps, authenticate: ehr.authenticate });
  const url = `/cds-services/${PATIENT_VIEW}`;
  const jwt = await ehr.token(`${PUBLIC_BASE}${url}`);
  const body = patientViewRequest(PATIENT_ID, { family: FAMILY }) as { prefetch: Record<string, unknown> };
  delete body.prefetch.patient; // fetched from the FHIR server with the access token
  delete body.prefetch.conditions;
  Object.assign(body, {
    fhirServer: fhir.baseUrl,
    fhirAuthorization: {
      access_token: ACCESS_TOKEN,
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'patient/*.read',
      subject: 'ketamine-cds',
      patient: PATIENT_ID,
    },
  });

  const res = await request(app).post(url).set('Authorization', `Bearer ${jwt}`).send(body);

  // The request really went through every layer: authenticated, fetched with the token, evaluated.
  expect(res.status).toBe(200);
  expect(res.body.cards[0].summary).toContain(PATIENT_ID);
  expect(fhir.requests.some((r) => r.url.startsWith(`/Patient/${PATIENT_ID}`) && r.bearer)).toBe(true);
  const events = log.entries().map((e) => e.event);
  expect(events).toEqual(
    expect.arrayContaining(['auth.accepted', 'prefetch.gathered', 'service.call', 'http.request']),
  );

  const text = log.text();
  for (const secret of [jwt, jwt.split('.')[2] ?? jwt, ACCESS_TOKEN, PATIENT_ID, FAMILY, GIVEN, '1979-02-03']) {
    expect(text).not.toContain(secret);
  }
});

describe('the request id on every log line', () => {
  /** The lines logged while `send` ran (the requests go one after the other). */
  async function linesOf(log: { entries(): Array<Record<string, unknown>> }, send: () => Promise<{ status: number }>) {
    const from = log.entries().length;
    const res = await send();
    return { status: res.status, lines: log.entries().slice(from) };
  }

  it('when a request comes with X-Request-Id, every line logged for it carries it: 401, 400, 500, 503 (feedback, report) and a hook call', async () => {
    const { deps, log } = harness({
      steps: fakeSteps({
        buildCards: (input) => {
          if (input.patientId === 'p-boom') throw new Error('a bug');
          return fakeSteps().buildCards(input);
        },
      }),
      reports: {
        source: { reportRows: () => Promise.reject(new Error('database down')) },
        token: REPORTS_TOKEN,
        openOnLoopback: false,
      },
    });
    const ehr = await testEhr(log.logger);
    deps.store = {
      ...deps.store,
      recordFeedback: () => Promise.reject(new Error('database down')),
    };
    const app = createApp({ ...deps, authenticate: ehr.authenticate });
    const url = `/cds-services/${PATIENT_VIEW}`;
    const bearer = async (path: string) => `Bearer ${await ehr.token(`${PUBLIC_BASE}${path}`)}`;

    const cases: Array<[string, number, string[], () => Promise<{ status: number }>]> = [
      [
        'trace-401',
        401,
        ['auth.rejected', 'http.request'],
        () => request(app).post(url).set('X-Request-Id', 'trace-401').set('Authorization', 'Bearer a.b.c').send({}),
      ],
      [
        'trace-400',
        400,
        ['auth.accepted', 'http.request'],
        async () =>
          request(app)
            .post(url)
            .set('X-Request-Id', 'trace-400')
            .set('Authorization', await bearer(url))
            .send({}),
      ],
      [
        'trace-500',
        500,
        ['auth.accepted', 'service.call', 'http.error', 'http.request'],
        async () =>
          request(app)
            .post(url)
            .set('X-Request-Id', 'trace-500')
            .set('Authorization', await bearer(url))
            .send(patientViewRequest('p-boom')),
      ],
      [
        'trace-503',
        503,
        ['auth.accepted', 'feedback.failed', 'http.error', 'http.request'],
        async () =>
          request(app)
            .post(`${url}/feedback`)
            .set('X-Request-Id', 'trace-503')
            .set('Authorization', await bearer(`${url}/feedback`))
            .send({
              feedback: [
                {
                  card: '1f6f3d8e-2f4b-4c5e-9a8b-0c1d2e3f4a5b',
                  outcome: 'overridden',
                  outcomeTimestamp: '2026-03-10T12:00:00Z',
                },
              ],
            }),
      ],
      [
        'trace-report',
        503,
        ['report.failed', 'http.error', 'http.request'],
        () =>
          request(app)
            .get('/reports/effectiveness')
            .set('X-Request-Id', 'trace-report')
            .set('Authorization', `Bearer ${REPORTS_TOKEN}`),
      ],
      [
        'trace-777',
        200,
        ['auth.accepted', 'prefetch.gathered', 'service.call', 'http.request'],
        async () =>
          request(app)
            .post(url)
            .set('X-Request-Id', 'trace-777')
            .set('Authorization', await bearer(url))
            .send(patientViewRequest('p1')),
      ],
    ];
    for (const [id, status, events, send] of cases) {
      const { status: got, lines } = await linesOf(log, send);
      expect({ id, status: got }).toEqual({ id, status });
      expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(events));
      expect(lines.filter((l) => l.requestId !== id)).toEqual([]);
    }
    // once per line: a request's logger never writes the id twice
    expect(
      log
        .text()
        .split('\n')
        .filter((line) => (line.match(/"requestId"/g) ?? []).length > 1),
    ).toEqual([]);
  });
});
