/**
 * The example patients of fhir-resources/examples: every bundle is a valid FHIR R4 transaction that
 * loads idempotently, the manifest lists every file, and the six case-series bundles chart what the
 * paper's Table 1 says about each patient (written out by hand below).
 */
import '../../src/fhir/websocket-shim'; // before any @medplum import
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  Bundle,
  Condition,
  FhirResource,
  Medication,
  MedicationAdministration,
  MedicationRequest,
  Observation,
  Patient,
} from 'fhir/r4';
import { validateResource } from '@medplum/core';
import { createMemoryFhir, type MemoryFhir } from '../../src/fhir/memory-server';

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.join(ROOT, 'fhir-resources/examples');

interface ManifestEntry {
  file: string;
  patientId: string;
  encounterId: string;
  title: string;
  description: string;
  kind: string;
  admission: string;
  infusionStart: string | null;
  scenarioTimes: Array<{ at: string; label: string; expectedRuleId: string }>;
}

const manifest = JSON.parse(readFileSync(path.join(DIR, 'index.json'), 'utf8')) as ManifestEntry[];
const bundleFiles = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'index.json')
  .sort();
const load = (file: string): Bundle => JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Bundle;
const resourcesOf = (b: Bundle): FhirResource[] => (b.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
const ofType = <T extends FhirResource>(b: Bundle, type: T['resourceType']): T[] =>
  resourcesOf(b).filter((r): r is T => r.resourceType === type);
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Every `reference` string anywhere in a resource. */
function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => referencesIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}

describe('the manifest (fhir-resources/examples/index.json)', () => {
  it('lists every example bundle once, and only files that exist', () => {
    expect(manifest.map((m) => m.file).sort()).toEqual(bundleFiles);
    expect(new Set(manifest.map((m) => m.patientId)).size).toBe(manifest.length);
  });

  it('gives each example a title, description, kind, admission time and named scenario times with a rule id', () => {
    for (const m of manifest) {
      expect(m).toMatchObject({ title: expect.any(String), description: expect.any(String) });
      expect(['case-series', 'boundary']).toContain(m.kind);
      expect(m.admission).toMatch(isoTime);
      expect(m.scenarioTimes.length).toBeGreaterThan(0);
      for (const s of m.scenarioTimes) {
        expect(s.at).toMatch(isoTime);
        expect(s.label.length).toBeGreaterThan(0);
        expect(s.expectedRuleId).toMatch(/^(P0|S[1-3]|X1|A[12]|D1|T[1-8])$/);
      }
    }
    expect(manifest.filter((m) => m.kind === 'case-series')).toHaveLength(6);
  });

  it('names every boundary the protocol asks for', () => {
    const boundaries = manifest.filter((m) => m.kind === 'boundary').map((m) => m.file.replace(/\.json$/, ''));
    for (const name of [
      'stale-weight',
      'missing-ekg',
      'positive-pregnancy-test',
      'hallucination-after-increase',
      'sbp-190',
      'ceiling-reached',
      'vas-in-mm',
      'rate-in-ml-per-hour',
    ]) {
      expect(boundaries).toContain(name);
    }
  });
});

describe.each(bundleFiles)('example bundle %s', (file) => {
  const bundle = load(file);
  const entry = manifest.find((m) => m.file === file);
  const prefix = entry ? entry.patientId.replace(/-patient$/, '') : '?';

  it('is a transaction whose entries PUT each resource at its own Type/id, under a unique urn:uuid fullUrl', () => {
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    const entries = bundle.entry ?? [];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(e.resource?.id).toBeTruthy();
      expect(e.request).toEqual({ method: 'PUT', url: `${e.resource?.resourceType}/${e.resource?.id}` });
      expect(e.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect(new Set(entries.map((e) => e.fullUrl)).size).toBe(entries.length);
    expect(new Set(entries.map((e) => e.request?.url)).size).toBe(entries.length);
  });

  it(`has one Patient (the manifest's) and ids all prefixed "${prefix}-"`, () => {
    expect(ofType<Patient>(bundle, 'Patient').map((p) => p.id)).toEqual([entry?.patientId]);
    for (const r of resourcesOf(bundle)) expect(r.id?.startsWith(`${prefix}-`)).toBe(true);
    expect(resourcesOf(bundle).some((r) => r.resourceType === 'Encounter' && r.id === entry?.encounterId)).toBe(true);
  });

  it('resolves every reference inside the bundle (Type/id to an entry, #id to a contained resource)', () => {
    const ids = new Set(resourcesOf(bundle).map((r) => `${r.resourceType}/${r.id}`));
    const dangling: string[] = [];
    for (const r of resourcesOf(bundle)) {
      const contained = new Set((('contained' in r ? r.contained : undefined) ?? []).map((c) => `#${c.id}`));
      for (const ref of referencesIn(r)) {
        if (ref.startsWith('#') ? !contained.has(ref) : !ids.has(ref))
          dangling.push(`${r.resourceType}/${r.id} -> ${ref}`);
      }
    }
    expect(dangling).toEqual([]);
  });

  it('charts times as ISO instants with an offset, and only finished facts (status final/completed/in-progress/active)', () => {
    for (const o of ofType<Observation>(bundle, 'Observation')) {
      expect(o.status).toBe('final');
      expect(o.effectiveDateTime).toMatch(isoTime);
    }
    for (const a of ofType<MedicationAdministration>(bundle, 'MedicationAdministration')) {
      expect(['completed', 'in-progress']).toContain(a.status);
      expect(a.effectivePeriod?.start).toMatch(isoTime);
      if (a.status === 'completed') expect(a.effectivePeriod?.end).toMatch(isoTime);
      else expect(a.effectivePeriod?.end).toBeUndefined();
      expect(a.dosage?.rateQuantity?.system).toBe('http://unitsofmeasure.org');
      expect(['mg/kg/h', 'mg/h', 'mL/h']).toContain(a.dosage?.rateQuantity?.code);
    }
  });

  it('rate changes are new administrations: consecutive, never overlapping, each starting where the previous ended', () => {
    const admins = ofType<MedicationAdministration>(bundle, 'MedicationAdministration').sort(
      (a, b) => Date.parse(a.effectivePeriod?.start ?? '') - Date.parse(b.effectivePeriod?.start ?? ''),
    );
    admins.forEach((a, i) => {
      const next = admins[i + 1];
      if (next && next.effectivePeriod?.start !== a.effectivePeriod?.end) {
        // A gap is allowed only after a stop (nothing follows here), never an overlap.
        expect(Date.parse(next.effectivePeriod?.start ?? '')).toBeGreaterThan(Date.parse(a.effectivePeriod?.end ?? ''));
      }
    });
    expect(admins.filter((a) => a.status === 'in-progress').length).toBeLessThanOrEqual(1);
    const open = admins.find((a) => a.status === 'in-progress');
    if (open) expect(open).toBe(admins[admins.length - 1]);
  });
});

describe('FHIR R4 conformance and loading', () => {
  let fhir: MemoryFhir;

  beforeAll(async () => {
    fhir = await createMemoryFhir(); // also indexes the R4 structure definitions used by validateResource
  }, 60_000);

  it('the structure validation does reject a resource missing a required field (control)', () => {
    const noStatus = { resourceType: 'Observation', id: 'x', code: { text: 'pain' } };
    const wrongType = {
      resourceType: 'MedicationAdministration',
      id: 'y',
      status: 'completed',
      subject: { reference: 'Patient/p' },
      medicationCodeableConcept: { text: 'k' },
      effectivePeriod: 'today',
    };
    for (const bad of [noStatus, wrongType]) {
      expect(() => {
        if (validateResource(bad as never).length > 0) throw new Error('issues');
      }).toThrow();
    }
  });

  it.each(bundleFiles)(
    'every resource of %s passes the FHIR R4 structure validation (cardinality, types, required fields)',
    (file) => {
      const problems = resourcesOf(load(file)).flatMap((r) =>
        validateResource(r as never).map(
          (issue) => `${r.resourceType}/${r.id}: ${issue.details?.text ?? issue.diagnostics ?? issue.code}`,
        ),
      );
      expect(problems).toEqual([]);
    },
  );

  it('loading every bundle twice leaves the same resources (PUT with stable ids is idempotent)', async () => {
    const count = async (): Promise<number> => {
      let n = 0;
      for (const type of ['Patient', 'Observation', 'MedicationAdministration', 'Condition', 'AdverseEvent']) {
        const result = await fhir.repo.search({ resourceType: type as 'Patient', count: 10_000 });
        n += result.entry?.length ?? 0;
      }
      return n;
    };
    for (const file of bundleFiles) {
      const response = await fhir.load(load(file));
      expect((response.entry ?? []).every((e) => /^20[01]/.test(e.response?.status ?? ''))).toBe(true);
    }
    const first = await count();
    for (const file of bundleFiles) await fhir.load(load(file));
    expect(await count()).toBe(first);
    const expected = bundleFiles
      .map(load)
      .flatMap(resourcesOf)
      .filter((r) =>
        ['Patient', 'Observation', 'MedicationAdministration', 'Condition', 'AdverseEvent'].includes(r.resourceType),
      ).length;
    expect(first).toBe(expected);
  }, 120_000);

  it('the committed bundles are what `node src/scripts/make-examples.mjs` writes (deterministic, up to date)', () => {
    expect(() =>
      execFileSync(process.execPath, [path.join(ROOT, 'src/scripts/make-examples.mjs'), '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------
// The case series: what Table 1 of Lauritsen et al. 2016 says, checked against each bundle.

interface TableRow {
  n: number;
  age: number;
  gender: 'female' | 'male';
  migraineOnsetAge: number;
  /** ICD-10-CM codes of the comorbidities (none is a contraindication or caution). */
  comorbidities: string[];
  initialVas: number;
}

const TABLE_1: TableRow[] = [
  { n: 1, age: 42, gender: 'female', migraineOnsetAge: 26, comorbidities: ['F32.A', 'F41.0', 'M54.9'], initialVas: 10 },
  { n: 2, age: 29, gender: 'female', migraineOnsetAge: 15, comorbidities: ['F41.0'], initialVas: 10 },
  { n: 3, age: 31, gender: 'male', migraineOnsetAge: 19, comorbidities: ['G90.50'], initialVas: 9 },
  { n: 4, age: 54, gender: 'female', migraineOnsetAge: 8, comorbidities: [], initialVas: 9 },
  { n: 5, age: 30, gender: 'female', migraineOnsetAge: 10, comorbidities: ['F32.A', 'F60.3', 'M54.2'], initialVas: 9 },
  { n: 6, age: 47, gender: 'female', migraineOnsetAge: 29, comorbidities: ['F32.A'], initialVas: 9 },
];

const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const codesOf = (c: Condition): string[] =>
  (c.code?.coding ?? []).filter((x) => x.system === ICD10CM).map((x) => x.code ?? '');
const loincOf = (o: Observation): string[] =>
  (o.code.coding ?? []).filter((c) => c.system === 'http://loinc.org').map((c) => c.code ?? '');

function ageAt(birthDate: string, at: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const d = new Date(at);
  const beforeBirthday = d.getUTCMonth() + 1 < bm || (d.getUTCMonth() + 1 === bm && d.getUTCDate() < bd);
  return d.getUTCFullYear() - by - (beforeBirthday ? 1 : 0);
}

describe.each(TABLE_1)('case series patient $n of Table 1', (row) => {
  const entry = manifest.find((m) => m.kind === 'case-series' && m.patientId === `case${row.n}-patient`);
  if (!entry) throw new Error(`no manifest entry for case ${row.n}`);
  const bundle = load(entry.file);
  const patient = ofType<Patient>(bundle, 'Patient')[0]!;

  it(`is a ${row.age}-year-old ${row.gender} at admission, with chronic migraine without aura since age ${row.migraineOnsetAge}`, () => {
    expect(patient.gender).toBe(row.gender);
    expect(ageAt(patient.birthDate ?? '', entry.admission)).toBe(row.age);
    const migraine = ofType<Condition>(bundle, 'Condition').filter((c) =>
      codesOf(c).some((x) => ['G43.719', 'G43.709'].includes(x)),
    );
    expect(migraine).toHaveLength(1);
    expect(migraine[0]?.clinicalStatus?.coding?.[0]?.code).toBe('active');
    expect(migraine[0]?.onsetAge?.value).toBe(row.migraineOnsetAge);
  });

  it(`has the comorbidities of Table 1 coded in ICD-10-CM (${row.comorbidities.join(', ') || 'none'})`, () => {
    const others = ofType<Condition>(bundle, 'Condition')
      .flatMap(codesOf)
      .filter((x) => !x.startsWith('G43.'))
      .sort();
    expect(others).toEqual([...row.comorbidities].sort());
  });

  it('has an inpatient encounter in progress, a weight in kg, an EKG, a written treatment consent and an active ketamine order', () => {
    const encounter = resourcesOf(bundle).find((r) => r.resourceType === 'Encounter' && r.id === entry.encounterId);
    expect(encounter).toMatchObject({ status: 'in-progress', class: { code: 'IMP' } });
    const weights = ofType<Observation>(bundle, 'Observation').filter((o) => loincOf(o).includes('29463-7'));
    expect(weights).toHaveLength(1);
    expect(weights[0]?.valueQuantity).toMatchObject({ code: 'kg', system: 'http://unitsofmeasure.org' });
    const ekg = resourcesOf(bundle).filter(
      (r) =>
        (r.resourceType === 'Observation' || r.resourceType === 'DiagnosticReport') &&
        r.code.coding?.some((c) => c.code === '11524-6'),
    );
    expect(ekg).toHaveLength(1);
    expect(resourcesOf(bundle).filter((r) => r.resourceType === 'Consent')).toEqual([
      expect.objectContaining({
        status: 'active',
        scope: expect.objectContaining({ coding: [expect.objectContaining({ code: 'treatment' })] }),
      }),
    ]);
    const orders = ofType<MedicationRequest>(bundle, 'MedicationRequest');
    expect(orders).toEqual([expect.objectContaining({ status: 'active', intent: 'order' })]);
    const medications = ofType<Medication>(bundle, 'Medication');
    const coded = (cc: { coding?: Array<{ system?: string; code?: string }> } | undefined): boolean =>
      cc?.coding?.some((c) => c.system === 'http://www.nlm.nih.gov/research/umls/rxnorm' && c.code === '6130') ?? false;
    const order = orders[0]!;
    const ref = order.medicationReference?.reference;
    expect(
      ref ? coded(medications.find((m) => `Medication/${m.id}` === ref)?.code) : coded(order.medicationCodeableConcept),
    ).toBe(true);
  });

  it(
    row.gender === 'female'
      ? 'has a negative urine pregnancy test (2106-3, SNOMED 260385009)'
      : 'has no pregnancy test (a man)',
    () => {
      const tests = ofType<Observation>(bundle, 'Observation').filter((o) => loincOf(o).includes('2106-3'));
      if (row.gender === 'female') {
        expect(tests).toHaveLength(1);
        expect(tests[0]?.valueCodeableConcept?.coding).toEqual([
          expect.objectContaining({ system: 'http://snomed.info/sct', code: '260385009' }),
        ]);
      } else {
        expect(tests).toHaveLength(0);
      }
    },
  );

  it(`charts the admission VAS of Table 1 (${row.initialVas}/10) as its first pain score, then pain scores every 2-4 h or so`, () => {
    const pain = ofType<Observation>(bundle, 'Observation')
      .filter((o) => loincOf(o).some((c) => ['72514-3', '38214-3'].includes(c)))
      .sort((a, b) => Date.parse(a.effectiveDateTime ?? '') - Date.parse(b.effectiveDateTime ?? ''));
    expect(pain[0]?.valueQuantity?.value).toBe(row.initialVas);
    const gaps = pain
      .slice(1)
      .map(
        (p, i) => (Date.parse(p.effectiveDateTime ?? '') - Date.parse(pain[i]!.effectiveDateTime ?? '')) / 3_600_000,
      );
    expect(Math.max(...gaps)).toBeLessThanOrEqual(4.25);
  });
});

describe('the case series as a whole', () => {
  const cases = manifest.filter((m) => m.kind === 'case-series').map((m) => load(m.file));
  const units = cases.flatMap((b) =>
    ofType<MedicationAdministration>(b, 'MedicationAdministration').map((a) => a.dosage?.rateQuantity?.code),
  );

  it('charts rates in all three units: mg/kg/h, mg/h, and mL/h with a Medication strength', () => {
    expect(new Set(units)).toEqual(new Set(['mg/kg/h', 'mg/h', 'mL/h']));
    const mlPerHour = cases.filter((b) =>
      ofType<MedicationAdministration>(b, 'MedicationAdministration').some(
        (a) => a.dosage?.rateQuantity?.code === 'mL/h',
      ),
    );
    for (const b of mlPerHour) {
      const meds = ofType<Medication>(b, 'Medication');
      expect(meds).toHaveLength(1);
      expect(meds[0]?.ingredient?.[0]?.strength).toMatchObject({
        numerator: { code: 'mg' },
        denominator: { code: 'mL' },
      });
    }
  });

  it("records the paper's one hallucination (SNOMED 7011001) in exactly one patient", () => {
    const withHallucination = cases.filter((b) =>
      resourcesOf(b).some((r) =>
        JSON.stringify(
          (r as { code?: unknown; event?: unknown }).code ?? (r as { event?: unknown }).event ?? '',
        ).includes('"7011001"'),
      ),
    );
    expect(withHallucination).toHaveLength(1);
  });
});
