import type {
  Bundle,
  BundleEntry,
  CapabilityStatement,
  MedicationAdministration,
  Observation,
  Patient,
  Resource,
} from 'fhir/r4';
import express from 'express';
import supertest from 'supertest';
import {
  createMemoryFhir,
  narrowSearchExpression,
  setSearchExpressionNarrowing,
  unionBranches,
  type MemoryFhir,
} from '../../src/fhir/memory-server'; // first: it installs the WebSocket shim @medplum/core needs
import { evalFhirPath, globalSchema } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import { asTransaction, readBundle, readManifest } from '../../src/cli/examples';
import { examplesDir } from '../../src/config/paths';
import { loadDefinitions } from '../../src/service/definitions';
import { gather, type GatherDeps } from '../../src/fhir/gather';
import { OperationOutcomeError } from '../../src/errors';
import { createLogger } from '../../src/log';
import type { CdsRequest, ServiceDefinition } from '../../src/contract/cds-hooks';
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

describe('fast searches: each search parameter narrowed to its own resource type', () => {
  it("keeps only the branches of the resource's own type, and the union's duplicate removal", () => {
    const patient =
      'AllergyIntolerance.patient | Condition.subject.where(resolve() is Patient) | Observation.subject.where(resolve() is Patient) | Consent.patient';
    expect(narrowSearchExpression('Observation', patient)).toBe('Observation.subject.where(resolve() is Patient) | {}');
    expect(narrowSearchExpression('Consent', patient)).toBe('Consent.patient | {}');
    expect(
      narrowSearchExpression('Observation', 'Observation.code | Observation.component.code | Condition.code'),
    ).toBe('Observation.code | Observation.component.code');
    expect(
      narrowSearchExpression(
        'MedicationRequest',
        '(MedicationAdministration.medication as CodeableConcept) | (MedicationRequest.medication as CodeableConcept)',
      ),
    ).toBe('(MedicationRequest.medication as CodeableConcept) | {}');
  });

  it('leaves alone what it cannot prove empty: Resource.* roots, single paths, unions inside parentheses', () => {
    for (const expression of [
      'Observation.subject',
      'Resource.id | Observation.code',
      "Observation.code.where(coding.system = 'a|b')",
      '(Observation.code | Observation.category)',
    ]) {
      expect(narrowSearchExpression('Observation', expression)).toBe(expression);
    }
    expect(unionBranches("A.b.where(c = 'x|y') | (B.c | B.d) | C.e")).toEqual([
      "A.b.where(c = 'x|y')",
      '(B.c | B.d)',
      'C.e',
    ]);
  });

  describe('on the project examples (several patients)', () => {
    let fhir: MemoryFhir;
    let app: express.Express;
    // The richest case and the small scenarios (~650 resources): the original expressions are slow.
    const examples = readManifest(examplesDir()).filter((e) => !/^case[1-5]-/.test(e.file));
    const bundles = examples.map((e) => asTransaction(readBundle(examplesDir(), e.file)));

    beforeAll(async () => {
      fhir = await createMemoryFhir({ seed: bundles });
      app = express();
      app.use('/fhir', fhir.router);
    });
    afterEach(() => setSearchExpressionNarrowing(true));

    /** One stored resource of each type, the search parameter index of its type: original vs narrowed. */
    it('every narrowed expression gives the same values as the original on one resource of each type', async () => {
      const samples = new Map<string, Resource>();
      for (const bundle of bundles)
        for (const e of bundle.entry ?? [])
          if (e.resource && !samples.has(e.resource.resourceType)) samples.set(e.resource.resourceType, e.resource);
      expect(samples.size).toBeGreaterThan(5);
      const expressions = () =>
        new Map(
          [...samples.keys()].flatMap((type) =>
            Object.entries(globalSchema.types[type]?.searchParams ?? {}).map(
              ([code, p]) => [`${type}.${code}`, p.expression ?? ''] as const,
            ),
          ),
        );
      const narrowed = expressions();
      setSearchExpressionNarrowing(false);
      const original = expressions();
      expect([...narrowed.keys()]).toEqual([...original.keys()]);
      const changed = [...narrowed].filter(([key, expression]) => original.get(key) !== expression);
      expect(changed.map(([key]) => key)).toEqual(
        expect.arrayContaining(['Observation.patient', 'Observation.code', 'Observation.date']),
      );
      for (const [key, expression] of changed) {
        const resource = samples.get(key.split('.')[0] ?? '');
        expect([key, evalFhirPath(expression, resource)]).toEqual([
          key,
          evalFhirPath(original.get(key) ?? '', resource),
        ]);
      }
    });

    it("the service's patient-view searches, Observation?patient=<id> and paged sorts find the same ids, in the same order, as the stock search with the original expressions", async () => {
      const service = [...loadDefinitions().values()].find((d) => d.hook === 'patient-view');
      const [big, small] = [
        examples.find((e) => e.file.startsWith('case6')),
        examples.find((e) => e.file === 'sbp-190.json'),
      ];
      if (!service?.prefetch || !big || !small) throw new Error('missing patient-view service or examples');
      const queries = [
        ...Object.values(service.prefetch)
          .filter((t) => t.includes('?'))
          .map((t) => t.replaceAll('{{context.patientId}}', big.patientId)),
        `Observation?patient=${small.patientId}`,
        `Observation?patient=Patient/${small.patientId}&_sort=-date&_count=4&_offset=2`,
        `Observation?subject=Patient/${small.patientId}&code=http://loinc.org|72514-3&date=ge2000-01-01&_sort=date`,
        `MedicationAdministration?patient=${small.patientId}&_sort=-effective-time`,
      ];
      const answers = async () => {
        const out: Array<{ query: string; total?: number; ids: string[] }> = [];
        for (const query of queries) {
          const res = await supertest(app).get(`/fhir/${query}`);
          expect([query, res.status]).toEqual([query, 200]);
          const bundle = res.body as Bundle;
          out.push({
            query,
            total: bundle.total,
            ids: (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`),
          });
        }
        return out;
      };
      const fast = await answers();
      // The stock @medplum/fhir-router search (its own _sort), with the original shared expressions.
      setSearchExpressionNarrowing(false);
      const stock = jest
        .spyOn(fhir.repo, 'search')
        .mockImplementation((req) => MemoryRepository.prototype.search.call(fhir.repo, req));
      const original = await answers();
      const stockCalls = stock.mock.calls.length;
      stock.mockRestore();
      expect(stockCalls).toBe(queries.length);
      expect(fast).toEqual(original);
      // Not vacuous: the patients' records are found, and only theirs.
      expect(fast.reduce((n, a) => n + a.ids.length, 0)).toBeGreaterThan(100);
      const smallIds = new Set(
        (bundles[examples.indexOf(small)]?.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`),
      );
      const all = fast.find((a) => a.query === `Observation?patient=${small.patientId}`)?.ids ?? [];
      expect(all.length).toBeGreaterThan(10);
      expect(all.filter((id) => !smallIds.has(id))).toEqual([]);
    });
  });
});
