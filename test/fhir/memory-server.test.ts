import type { Bundle, BundleEntry, CapabilityStatement, MedicationAdministration, Observation, Patient } from 'fhir/r4';
import { gather, type GatherDeps } from '../../src/fhir/gather';
import { OperationOutcomeError } from '../../src/errors';
import { createLogger } from '../../src/log';
import type { CdsRequest, ServiceDefinition } from '../../src/service/types';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server';

const TOKEN = 'in-process-token';
const PATIENT_URN = 'urn:uuid:6f0b2a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const OBSERVATIONS = 25;

const post = (fullUrl: string | undefined, resource: BundleEntry['resource']): BundleEntry => ({
  ...(fullUrl ? { fullUrl } : {}),
  resource,
  request: { method: 'POST', url: resource?.resourceType ?? '' },
});

/** A patient with pain scores hourly from 2024-03-01T00:00Z and one ketamine administration. */
function seedBundle(): Bundle {
  const patient: Patient = {
    resourceType: 'Patient',
    name: [{ family: 'Seeded', given: ['Test'] }],
    birthDate: '1980-05-01',
  };
  const observations: Observation[] = Array.from({ length: OBSERVATIONS }, (_, i) => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '72514-3', display: 'Pain severity' }] },
    subject: { reference: PATIENT_URN },
    effectiveDateTime: new Date(Date.UTC(2024, 2, 1, i)).toISOString(),
    valueInteger: i % 10,
  }));
  const administration: MedicationAdministration = {
    resourceType: 'MedicationAdministration',
    status: 'in-progress',
    medicationCodeableConcept: { text: 'ketamine' },
    subject: { reference: PATIENT_URN },
    effectivePeriod: { start: '2024-03-01T00:00:00Z' },
  };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      post(PATIENT_URN, patient),
      ...observations.map((o) => post(undefined, o)),
      post(undefined, administration),
    ],
  };
}

const definition: ServiceDefinition = {
  id: 'ketamine-infusion',
  hook: 'patient-view',
  title: 'Ketamine infusion',
  description: 'IV ketamine protocol',
  prefetch: {
    patient: 'Patient/{{context.patientId}}',
    observations: 'Observation?patient={{context.patientId}}&_count=10&_sort=-date',
    administrations: 'MedicationAdministration?patient={{context.patientId}}',
    encounter: 'Encounter/{{context.encounterId}}',
  },
};

let server: TestFhirServer;
let patientId: string;

const request = (overrides: Partial<CdsRequest> = {}): CdsRequest => ({
  hook: 'patient-view',
  hookInstance: '0b8e7a3c-5d2f-4a61-9c7e-2f4b6d8a1c3e',
  fhirServer: server.baseUrl,
  fhirAuthorization: {
    access_token: TOKEN,
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'patient/*.read',
    subject: 'cds',
  },
  context: { userId: 'Practitioner/abc', patientId: `Patient/${patientId}` },
  ...overrides,
});
const deps = (overrides: Partial<GatherDeps> = {}): GatherDeps => ({
  allowlist: [],
  timeoutMs: 5000,
  maxPages: 10,
  logger: createLogger({ level: 'silent' }),
  ...overrides,
});

beforeAll(async () => {
  server = await startFhirServer({ seed: [seedBundle()], requireBearer: TOKEN });
  const patients = server.repo.searchResources({ resourceType: 'Patient' });
  const [seeded] = await patients;
  if (!seeded?.id) throw new Error('the seed did not create a patient');
  patientId = seeded.id;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

describe('the in-process FHIR server', () => {
  it('listens on 127.0.0.1 with a random port under /fhir', () => {
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fhir$/);
  });

  it('serves its own CapabilityStatement at /metadata without a token', async () => {
    const res = await fetch(`${server.baseUrl}/metadata`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as CapabilityStatement;
    expect(body.resourceType).toBe('CapabilityStatement');
    expect(body.fhirVersion).toBe('4.0.1');
    expect(body.rest?.[0]?.resource?.map((r) => r.type)).toContain('Observation');
  });

  it('answers 401 with an OperationOutcome when the bearer token is missing or wrong', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
      const res = await fetch(`${server.baseUrl}/Patient/${patientId}`, { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
  });

  it('resolves urn:uuid references of a seeded transaction bundle', async () => {
    const res = await fetch(`${server.baseUrl}/MedicationAdministration?patient=${patientId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const bundle = (await res.json()) as Bundle;
    const [entry] = bundle.entry ?? [];
    expect((entry?.resource as MedicationAdministration).subject.reference).toBe(`Patient/${patientId}`);
  });

  it('sorts by date descending, filters by code and date, and pages with next links', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const res = await fetch(
      `${server.baseUrl}/Observation?subject=Patient/${patientId}&code=http://loinc.org|72514-3&date=ge2024-03-01T20:00:00Z&_sort=-date&_count=3`,
      { headers },
    );
    const bundle = (await res.json()) as Bundle<Observation>;
    const dates = (bundle.entry ?? []).map((e) => e.resource?.effectiveDateTime);
    expect(dates).toEqual(['2024-03-02T00:00:00.000Z', '2024-03-01T23:00:00.000Z', '2024-03-01T22:00:00.000Z']);
    expect(bundle.total).toBe(5);
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toMatch(new RegExp(`^${server.baseUrl}/Observation\\?.*_offset=3`));
    const last = (await (await fetch(next ?? '', { headers })).json()) as Bundle<Observation>;
    expect(last.entry).toHaveLength(2);
    expect(last.link?.some((l) => l.relation === 'next')).toBe(false);
  });

  it('loads a non-transaction bundle keeping the resource ids', async () => {
    await server.load({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Encounter', id: 'enc-7', status: 'in-progress', class: { code: 'IMP' } } }],
    });
    const res = await fetch(`${server.baseUrl}/Encounter/enc-7`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
  });
});

describe('the FHIR fallback against the in-process server', () => {
  it('CH-P3 CH-P7 CH-R6 fetches every key of a seeded patient with the bearer token, following pages', async () => {
    const record = await gather(definition, request(), deps());
    expect(record.sources).toEqual({
      patient: 'fetched',
      observations: 'fetched',
      administrations: 'fetched',
      encounter: 'null',
    });
    const byType = (type: string) => record.resources.filter((r) => r.resourceType === type);
    expect(byType('Patient').map((r) => r.id)).toEqual([patientId]);
    expect(byType('Observation')).toHaveLength(OBSERVATIONS);
    expect(byType('MedicationAdministration')).toHaveLength(1);
    expect(new Set(byType('Observation').map((r) => r.id)).size).toBe(OBSERVATIONS);
    // 1 patient read + 3 observation pages + 1 administration search, all with the token.
    expect(server.requests).toHaveLength(5);
    expect(server.requests.every((r) => r.bearer && r.method === 'GET')).toBe(true);
  });

  it('CH-P3 fetches only the missing key', async () => {
    const record = await gather(
      definition,
      request({
        prefetch: { patient: { resourceType: 'Patient', id: patientId }, observations: null, encounter: null },
      }),
      deps(),
    );
    expect(record.sources).toEqual({
      patient: 'prefetch',
      observations: 'null',
      administrations: 'fetched',
      encounter: 'null',
    });
    expect(server.requests.map((r) => r.url)).toEqual([`/MedicationAdministration?patient=${patientId}`]);
  });

  it('CH-P6 stops at the page limit', async () => {
    const record = await gather(
      definition,
      request({ prefetch: { patient: null, administrations: null } }),
      deps({ maxPages: 2 }),
    );
    expect(record.resources).toHaveLength(20);
    expect(server.requests).toHaveLength(2);
  });

  it('CH-P4 a rejected token → 412 naming a key', async () => {
    const wrong = request({
      fhirAuthorization: { access_token: 'wrong', token_type: 'Bearer', expires_in: 300, scope: 'x', subject: 'y' },
      prefetch: { patient: null, observations: null },
    });
    const err = await gather(definition, wrong, deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationOutcomeError);
    expect((err as OperationOutcomeError).status).toBe(412);
    expect((err as OperationOutcomeError).outcome.issue[0]?.diagnostics).toContain('"administrations"');
  });

  it('CH-P4 an unknown patient → 412 (the read answers 404)', async () => {
    const unknown = request({
      context: { patientId: 'no-such-patient' },
      prefetch: { observations: null, administrations: null },
    });
    await expect(gather(definition, unknown, deps())).rejects.toMatchObject({ status: 412 });
  });
});
