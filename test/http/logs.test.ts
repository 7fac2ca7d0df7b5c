/**
 * CH-J6 / CH-R3 / house rule: no JWT, no access token and no patient data ever reach the logs. A full
 * request (signed JWT, fhirAuthorization, prefetch keys fetched from a FHIR server that requires the
 * token) runs with every log level on, and the captured output is searched for each secret.
 */
import type { Bundle } from 'fhir/r4';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server';
import { testEhr } from '../support/ehr-jwt';
import { harness, PATIENT_VIEW, patientViewRequest, PUBLIC_BASE } from '../support/service';

const PATIENT_ID = 'pt-7781x';
const FAMILY = 'Zebulonova';
const GIVEN = 'Quixotica';
const ACCESS_TOKEN = 'at-5f2c9e-very-secret-access-token';

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
