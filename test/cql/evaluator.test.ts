/**
 * The CQL (compiled ELM in fhir-resources/elm) evaluated on small hand-built records with a pinned
 * evaluation time: each fact of ClinicalFacts.
 */
import type { Bundle, FhirResource } from 'fhir/r4';
import { createEvaluator } from '../../src/cql';
import type { HookName } from '../../src/contract/cds-hooks';
import {
  administration,
  bundle,
  concept,
  condition,
  KETAMINE,
  mgPerKgPerHour,
  observation,
  patient,
  quantity,
  SYSTEMS,
} from '../support/chart';

const NOW = new Date('2026-11-24T12:00:00Z');
const evaluator = createEvaluator();
const facts = (b: Bundle, hook: HookName = 'patient-view', now = NOW) => evaluator.evaluate(b, now, hook);

const MIGRAINE = concept(
  SYSTEMS.icd,
  'G43.719',
  'Chronic migraine without aura, intractable, without status migrainosus',
);

describe('the patient', () => {
  it('age in whole years is computed at the pinned evaluation time (the day before and on the birthday)', async () => {
    const b = bundle(patient('p1', { birthDate: '2008-11-25', gender: 'male' }));
    expect((await facts(b)).patient).toEqual({ id: 'p1', birthDate: '2008-11-25', ageYears: 17, gender: 'male' });
    expect((await facts(b, 'patient-view', new Date('2026-11-25T12:00:00Z'))).patient.ageYears).toBe(18);
  });

  it('without a birth date the age is null, and gender is null when absent', async () => {
    const f = await facts(bundle({ resourceType: 'Patient', id: 'p9' }));
    expect(f.patient).toEqual({ id: 'p9', birthDate: null, ageYears: null, gender: null });
  });
});

describe('conditions', () => {
  it('an active chronic migraine counts; resolved, entered-in-error and refuted ones do not', async () => {
    const f = await facts(
      bundle(
        patient(),
        condition('active', MIGRAINE, { onset: '2024-01-02' }),
        condition('resolved', MIGRAINE, { clinical: 'resolved' }),
        condition('error', MIGRAINE, { verification: 'entered-in-error' }),
        condition('refuted', MIGRAINE, { verification: 'refuted' }),
        condition('relapse', concept(SYSTEMS.sct, '423279000', 'Chronic migraine'), { clinical: 'relapse' }),
        condition('other', concept(SYSTEMS.icd, 'G43.909', 'Migraine, unspecified')),
      ),
    );
    expect(f.chronicMigraine.map((c) => c.resourceId).sort()).toEqual(['active', 'relapse']);
    expect(f.chronicMigraine.find((c) => c.resourceId === 'active')).toEqual({
      resourceId: 'active',
      resourceType: 'Condition',
      system: SYSTEMS.icd,
      code: 'G43.719',
      display: 'Chronic migraine without aura, intractable, without status migrainosus',
      time: '2024-01-02',
    });
  });

  it('pregnancy, psychosis and caution conditions are read into their own lists, each caution with its category', async () => {
    const f = await facts(
      bundle(
        patient(),
        condition('preg', concept(SYSTEMS.icd, 'Z33.1')),
        condition('scz', concept(SYSTEMS.icd, 'F20.0', 'Paranoid schizophrenia')),
        condition('old-psychosis', concept(SYSTEMS.sct, '69322001'), { clinical: 'inactive' }),
        condition('liver', concept(SYSTEMS.icd, 'K74.60')),
        condition('icp', concept(SYSTEMS.sct, '68267002')),
        condition('eye', concept(SYSTEMS.icd, 'H40.1131')),
        condition('sud', concept(SYSTEMS.icd, 'F11.20')),
        condition('ihd', concept(SYSTEMS.icd, 'I25.10')),
      ),
    );
    expect(f.pregnancyConditions.map((c) => c.resourceId)).toEqual(['preg']);
    expect(f.psychosis.map((c) => c.resourceId)).toEqual(['scz']);
    expect(f.cautions.map((c) => [c.resourceId, c.category]).sort()).toEqual([
      ['eye', 'glaucoma'],
      ['icp', 'raised-icp'],
      ['ihd', 'ischemic-heart-disease'],
      ['liver', 'cirrhosis'],
      ['sud', 'substance-use'],
    ]);
    // No display charted: the code stands in.
    expect(f.cautions.find((c) => c.resourceId === 'eye')?.display).toBe('H40.1131');
  });

  it('a ketamine allergy counts by code or by text; an inactive or entered-in-error one does not', async () => {
    const allergy = (id: string, code: object, extra: object = {}): FhirResource =>
      ({
        resourceType: 'AllergyIntolerance',
        id,
        patient: { reference: 'Patient/p1' },
        code,
        recordedDate: '2020-03-04',
        ...extra,
      }) as FhirResource;
    const clinical = (code: string) => ({
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code }],
      },
    });
    const f = await facts(
      bundle(
        patient(),
        allergy('by-code', KETAMINE, clinical('active')),
        allergy('by-text', { text: 'Ketamine (hallucinations)' }),
        allergy('inactive', KETAMINE, clinical('inactive')),
        allergy('error', KETAMINE, { verificationStatus: { coding: [{ code: 'entered-in-error' }] } }),
        allergy('penicillin', concept(SYSTEMS.rxnorm, '7980', 'penicillin G'), clinical('active')),
      ),
    );
    expect(f.ketamineAllergies.map((a) => [a.resourceId, a.code, a.display]).sort()).toEqual([
      ['by-code', '6130', 'ketamine'],
      ['by-text', null, 'Ketamine (hallucinations)'],
    ]);
    expect(f.ketamineAllergies[0]?.time).toBe('2020-03-04');
  });
});

describe('observations', () => {
  it('pain scores come oldest first; a VAS in mm passes through with its unit and is marked vas; valueInteger has no unit; non-final ones and other scales are ignored', async () => {
    const f = await facts(
      bundle(
        patient(),
        observation('late', concept(SYSTEMS.loinc, '72514-3'), '2026-11-24T11:00:00Z', quantity(4, '{score}')),
        observation('vas', concept(SYSTEMS.loinc, '38214-3'), '2026-11-24T07:00:00Z', quantity(65, 'mm')),
        observation('int', concept(SYSTEMS.loinc, '38208-5'), '2026-11-24T08:00:00+02:00', { valueInteger: 6 }),
        observation(
          'prelim',
          concept(SYSTEMS.loinc, '72514-3'),
          '2026-11-24T10:00:00Z',
          quantity(9, '{score}'),
          'preliminary',
        ),
        observation(
          'error',
          concept(SYSTEMS.loinc, '72514-3'),
          '2026-11-24T10:30:00Z',
          quantity(9, '{score}'),
          'entered-in-error',
        ),
        observation('text', concept(SYSTEMS.loinc, '72514-3'), '2026-11-24T10:45:00Z', { valueString: 'severe' }),
        observation('other-scale', concept(SYSTEMS.loinc, '38221-8'), '2026-11-24T10:50:00Z', { valueInteger: 3 }),
      ),
    );
    expect(f.painScores).toEqual([
      { id: 'int', time: '2026-11-24T08:00:00+02:00', code: '38208-5', vas: false, value: 6, unit: null },
      { id: 'vas', time: '2026-11-24T07:00:00+00:00', code: '38214-3', vas: true, value: 65, unit: 'mm' },
      { id: 'text', time: '2026-11-24T10:45:00+00:00', code: '72514-3', vas: false, value: null, unit: null },
      { id: 'late', time: '2026-11-24T11:00:00+00:00', code: '72514-3', vas: false, value: 4, unit: '{score}' },
    ]);
  });

  it('the latest weight wins, whatever its age, with its unit', async () => {
    const f = await facts(
      bundle(
        patient(),
        observation('w-old', concept(SYSTEMS.loinc, '29463-7'), '2026-10-01T08:00:00Z', quantity(72, 'kg')),
        observation('w-new', concept(SYSTEMS.loinc, '3141-9'), '2026-11-20T08:00:00Z', quantity(154, '[lb_av]')),
        observation(
          'w-amended',
          concept(SYSTEMS.loinc, '29463-7'),
          '2026-11-10T08:00:00Z',
          quantity(71, 'kg'),
          'amended',
        ),
      ),
    );
    expect(f.weight).toEqual({ id: 'w-new', time: '2026-11-20T08:00:00+00:00', value: 154, unit: '[lb_av]' });
  });

  it('BP panel components count as systolic and diastolic, and the latest of each vital wins', async () => {
    const panel: FhirResource = {
      resourceType: 'Observation',
      id: 'bp-panel',
      status: 'final',
      code: concept(SYSTEMS.loinc, '85354-9'),
      effectiveDateTime: '2026-11-24T11:30:00Z',
      component: [
        {
          code: concept(SYSTEMS.loinc, '8480-6'),
          valueQuantity: { value: 185, unit: 'mmHg', system: SYSTEMS.ucum, code: 'mm[Hg]' },
        },
        {
          code: concept(SYSTEMS.loinc, '8462-4'),
          valueQuantity: { value: 95, unit: 'mmHg', system: SYSTEMS.ucum, code: 'mm[Hg]' },
        },
      ],
    } as FhirResource;
    const f = await facts(
      bundle(
        patient(),
        panel,
        // A panel charted without components must not hide the others.
        observation('empty-panel', concept(SYSTEMS.loinc, '85354-9'), '2026-11-24T11:50:00Z', {}),
        observation('sbp-old', concept(SYSTEMS.loinc, '8480-6'), '2026-11-24T10:00:00Z', quantity(120, 'mm[Hg]')),
        observation('dbp-newer', concept(SYSTEMS.loinc, '8462-4'), '2026-11-24T11:45:00Z', quantity(80, 'mm[Hg]')),
        observation('hr-1', concept(SYSTEMS.loinc, '8867-4'), '2026-11-24T09:00:00Z', quantity(130, '/min')),
        observation('hr-2', concept(SYSTEMS.loinc, '8867-4'), '2026-11-24T11:00:00Z', quantity(88, '/min')),
        observation('rr', concept(SYSTEMS.loinc, '9279-1'), '2026-11-24T11:00:00Z', quantity(14, '/min')),
        observation('spo2', concept(SYSTEMS.loinc, '2708-6'), '2026-11-24T11:00:00Z', quantity(97, '%')),
      ),
    );
    const byKind = Object.fromEntries(f.vitals.map((v) => [v.kind, v]));
    expect(byKind['sbp']).toEqual({
      kind: 'sbp',
      id: 'bp-panel',
      time: '2026-11-24T11:30:00+00:00',
      value: 185,
      unit: 'mm[Hg]',
    });
    expect(byKind['dbp']).toMatchObject({ id: 'dbp-newer', value: 80 });
    expect(byKind['hr']).toMatchObject({ id: 'hr-2', value: 88, unit: '/min' });
    expect(byKind['rr']).toMatchObject({ value: 14 });
    expect(byKind['spo2']).toMatchObject({ value: 97, unit: '%' });
    expect(f.vitals).toHaveLength(5);
  });

  it('when the newest reading of a vital is not final or has no value, the newest final one with a value is the latest', async () => {
    const hr = concept(SYSTEMS.loinc, '8867-4');
    const bp = (id: string, time: string, components: Array<[string, number]>, status = 'final'): FhirResource =>
      ({
        resourceType: 'Observation',
        id,
        status,
        code: concept(SYSTEMS.loinc, '85354-9'),
        effectiveDateTime: time,
        component: components.map(([code, value]) => ({
          code: concept(SYSTEMS.loinc, code),
          valueQuantity: { value, unit: 'mmHg', system: SYSTEMS.ucum, code: 'mm[Hg]' },
        })),
      }) as FhirResource;
    const f = await facts(
      bundle(
        patient(),
        observation('hr-old', hr, '2026-11-24T08:00:00Z', quantity(70, '/min')),
        observation('hr-valid', hr, '2026-11-24T09:00:00Z', quantity(75, '/min'), 'corrected'),
        observation('hr-error', hr, '2026-11-24T11:00:00Z', quantity(190, '/min'), 'entered-in-error'),
        observation('hr-no-value', hr, '2026-11-24T11:30:00Z', { valueString: 'irregular' }),
        observation(
          'rr-prelim',
          concept(SYSTEMS.loinc, '9279-1'),
          '2026-11-24T11:00:00Z',
          quantity(30, '/min'),
          'preliminary',
        ),
        // The newest panel holds only a diastolic value; the newest of all is not final.
        bp('bp-old', '2026-11-24T09:00:00Z', [
          ['8480-6', 150],
          ['8462-4', 90],
        ]),
        bp('bp-dbp-only', '2026-11-24T10:00:00Z', [['8462-4', 85]]),
        bp(
          'bp-prelim',
          '2026-11-24T11:00:00Z',
          [
            ['8480-6', 200],
            ['8462-4', 120],
          ],
          'preliminary',
        ),
      ),
    );
    const byKind = Object.fromEntries(f.vitals.map((v) => [v.kind, v]));
    expect(byKind['hr']).toMatchObject({ id: 'hr-valid', value: 75 });
    expect(byKind['rr']).toBeUndefined();
    expect(byKind['sbp']).toMatchObject({ id: 'bp-old', value: 150 });
    expect(byKind['dbp']).toMatchObject({ id: 'bp-dbp-only', value: 85 });
  });

  it('the latest is the latest instant, whatever the time-zone offsets charted; on a tie the first listed wins', async () => {
    const hr = concept(SYSTEMS.loinc, '8867-4');
    const weight = concept(SYSTEMS.loinc, '29463-7');
    const f = await facts(
      bundle(
        patient(),
        // 10:30+02:00 is 08:30Z: earlier than 09:00Z, although it reads later.
        observation('hr-utc', hr, '2026-11-24T09:00:00Z', quantity(80, '/min')),
        observation('hr-plus-two', hr, '2026-11-24T10:30:00+02:00', quantity(99, '/min')),
        observation('w-first', weight, '2026-11-20T08:00:00Z', quantity(70, 'kg')),
        observation('w-same-instant', weight, '2026-11-20T09:00:00+01:00', quantity(71, 'kg')),
      ),
    );
    expect(f.vitals.find((v) => v.kind === 'hr')).toMatchObject({ id: 'hr-utc', value: 80 });
    expect(f.weight).toMatchObject({ id: 'w-first', value: 70 });
  });

  it('a pain score charted with several codings is reported with the one in the Pain Score value set', async () => {
    const f = await facts(
      bundle(
        patient(),
        observation(
          'two-codings',
          {
            coding: [
              { system: 'http://example.org/local', code: 'PAIN' },
              { system: SYSTEMS.loinc, code: '38208-5' },
            ],
          },
          '2026-11-24T09:00:00Z',
          { valueInteger: 5 },
        ),
        observation(
          'two-codings-vas',
          {
            coding: [
              { system: 'http://example.org/local', code: 'VAS' },
              { system: SYSTEMS.loinc, code: '38214-3' },
            ],
          },
          '2026-11-24T09:30:00Z',
          { valueInteger: 70 },
        ),
      ),
    );
    expect(f.painScores).toEqual([
      { id: 'two-codings', time: '2026-11-24T09:00:00+00:00', code: '38208-5', vas: false, value: 5, unit: null },
      { id: 'two-codings-vas', time: '2026-11-24T09:30:00+00:00', code: '38214-3', vas: true, value: 70, unit: null },
    ]);
  });

  it('the latest final pregnancy test and its result: coded value, interpretation, or quantitative hCG', async () => {
    const test = (id: string, code: string, time: string, value: Record<string, unknown>) =>
      observation(id, concept(SYSTEMS.loinc, code), time, value);
    const positive = { valueCodeableConcept: concept(SYSTEMS.sct, '10828004', 'Positive') };
    const negByInterpretation = { valueString: 'neg', interpretation: [concept(SYSTEMS.interpretation, 'NEG')] };

    let f = await facts(
      bundle(
        patient(),
        test('older', '2106-3', '2026-11-20T08:00:00Z', positive),
        test('newer', '2118-8', '2026-11-23T08:00:00Z', negByInterpretation),
      ),
    );
    expect(f.pregnancyTest).toEqual({
      id: 'newer',
      time: '2026-11-23T08:00:00+00:00',
      code: '2118-8',
      qualitative: 'negative',
      quantitative: null,
    });

    f = await facts(bundle(patient(), test('hcg', '19080-1', '2026-11-23T08:00:00Z', quantity(12, '[IU]/L'))));
    expect(f.pregnancyTest).toEqual({
      id: 'hcg',
      time: '2026-11-23T08:00:00+00:00',
      code: '19080-1',
      qualitative: null,
      quantitative: { value: 12, unit: '[IU]/L' },
    });
  });

  it('S1 (v1.1) an equivocal latest pregnancy test (SNOMED 42425007) is read as equivocal, never hidden behind an older negative one', async () => {
    const test = (id: string, time: string, value: Record<string, unknown>) =>
      observation(id, concept(SYSTEMS.loinc, '2106-3'), time, value);
    const f = await facts(
      bundle(
        patient(),
        test('negative', '2026-11-20T08:00:00Z', {
          valueCodeableConcept: concept(SYSTEMS.sct, '260385009', 'Negative'),
        }),
        test('equivocal', '2026-11-23T08:00:00Z', {
          valueCodeableConcept: concept(SYSTEMS.sct, '42425007', 'Equivocal'),
        }),
      ),
    );
    expect(f.pregnancyTest).toMatchObject({ id: 'equivocal', qualitative: 'equivocal', quantitative: null });
  });

  it('S1 (v1.1) an interpretation-only pregnancy test is read: IND equivocal, POS positive, NEG negative', async () => {
    const interp = (code: string) => ({
      interpretation: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code }] },
      ],
    });
    for (const [code, expected] of [
      ['IND', 'equivocal'],
      ['POS', 'positive'],
      ['NEG', 'negative'],
    ] as const) {
      const f = await facts(
        bundle(patient(), observation('t', concept(SYSTEMS.loinc, '2106-3'), '2026-11-23T08:00:00Z', interp(code))),
      );
      expect(f.pregnancyTest).toMatchObject({ id: 't', qualitative: expected });
    }
  });

  it('S2 (v1.1) an unreadable latest pregnancy test is no result, and an older negative never stands in for it', async () => {
    const f = await facts(
      bundle(
        patient(),
        observation('negative', concept(SYSTEMS.loinc, '2106-3'), '2026-11-20T08:00:00Z', {
          valueCodeableConcept: concept(SYSTEMS.sct, '260385009', 'Negative'),
        }),
        observation('text', concept(SYSTEMS.loinc, '2106-3'), '2026-11-23T08:00:00Z', { valueString: 'see note' }),
      ),
    );
    expect(f.pregnancyTest).toMatchObject({ id: 'text', qualitative: null, quantitative: null });
  });

  it('S2 (v1.1) a latest final pregnancy test with no value and no interpretation is no result, and an older negative never stands in for it', async () => {
    const f = await facts(
      bundle(
        patient(),
        observation('negative', concept(SYSTEMS.loinc, '2106-3'), '2026-11-20T08:00:00Z', {
          valueCodeableConcept: concept(SYSTEMS.sct, '260385009', 'Negative'),
        }),
        observation('empty', concept(SYSTEMS.loinc, '2106-3'), '2026-11-23T08:00:00Z', {}),
      ),
    );
    expect(f.pregnancyTest).toMatchObject({ id: 'empty', qualitative: null, quantitative: null });
  });

  it('the latest final EKG is an Observation or a DiagnosticReport, whichever is newer', async () => {
    const report = (id: string, time: string, status = 'final'): FhirResource =>
      ({
        resourceType: 'DiagnosticReport',
        id,
        status,
        code: concept(SYSTEMS.loinc, '11524-6'),
        effectiveDateTime: time,
      }) as FhirResource;
    let f = await facts(
      bundle(
        patient(),
        observation('ekg-obs', concept(SYSTEMS.loinc, '34534-8'), '2026-11-20T08:00:00Z', {}),
        report('ekg-dr', '2026-11-22T08:00:00Z'),
      ),
    );
    expect(f.ekg).toEqual({ id: 'ekg-dr', resourceType: 'DiagnosticReport', time: '2026-11-22T08:00:00+00:00' });
    f = await facts(
      bundle(
        patient(),
        observation('ekg-obs', concept(SYSTEMS.loinc, '34534-8'), '2026-11-20T08:00:00Z', {}),
        report('ekg-prelim', '2026-11-22T08:00:00Z', 'preliminary'),
      ),
    );
    expect(f.ekg).toEqual({ id: 'ekg-obs', resourceType: 'Observation', time: '2026-11-20T08:00:00+00:00' });
    expect((await facts(bundle(patient()))).ekg).toBeNull();
  });
});

describe('ketamine administrations and orders', () => {
  it('administrations come oldest start first, any status, with the charted rate, end and order id', async () => {
    const f = await facts(
      bundle(
        patient(),
        administration('second', '2026-11-24T08:00:00Z', mgPerKgPerHour(0.2), { request: 'MedicationRequest/mr1' }),
        administration('first', '2026-11-24T04:00:00Z', mgPerKgPerHour(0.1), {
          status: 'completed',
          end: '2026-11-24T08:00:00Z',
        }),
        administration('error', '2026-11-24T06:00:00Z', mgPerKgPerHour(0.5), { status: 'entered-in-error' }),
        administration('morphine', '2026-11-24T05:00:00Z', mgPerKgPerHour(0.1), {
          medication: { medicationCodeableConcept: concept(SYSTEMS.rxnorm, '7052', 'morphine') },
        }),
      ),
    );
    expect(f.administrations.map((a) => a.id)).toEqual(['first', 'error', 'second']);
    expect(f.administrations[0]).toEqual({
      id: 'first',
      status: 'completed',
      start: '2026-11-24T04:00:00+00:00',
      end: '2026-11-24T08:00:00+00:00',
      rate: { kind: 'quantity', value: 0.1, unit: 'mg/kg/h' },
      requestId: null,
      medication: { recognizedBy: 'code', display: 'ketamine', concentrationMgPerMl: null },
    });
    expect(f.administrations[2]?.requestId).toBe('mr1');
  });

  it('a rate charted as a ratio (mg per h) is passed through as a ratio, and a missing rate is null', async () => {
    const ratio = {
      resourceType: 'MedicationAdministration',
      id: 'ratio',
      status: 'in-progress',
      medicationCodeableConcept: KETAMINE,
      subject: { reference: 'Patient/p1' },
      effectiveDateTime: '2026-11-24T09:00:00Z',
      dosage: {
        rateRatio: {
          numerator: { value: 14, unit: 'mg', system: SYSTEMS.ucum, code: 'mg' },
          denominator: { value: 1, unit: 'h', system: SYSTEMS.ucum, code: 'h' },
        },
      },
    } as FhirResource;
    const f = await facts(bundle(patient(), ratio, administration('no-rate', '2026-11-24T10:00:00Z', null)));
    expect(f.administrations[0]).toMatchObject({
      id: 'ratio',
      start: '2026-11-24T09:00:00+00:00',
      end: null,
      rate: { kind: 'ratio', numeratorValue: 14, numeratorUnit: 'mg', denominatorValue: 1, denominatorUnit: 'h' },
    });
    expect(f.administrations[1]).toMatchObject({ id: 'no-rate', rate: null });
  });

  it('medicationReference to a contained Medication is recognised, and its strength fills concentrationMgPerMl', async () => {
    const contained = [
      {
        resourceType: 'Medication',
        id: 'med',
        code: concept(SYSTEMS.rxnorm, '999001', 'Ketamine 500 MG in 50 ML infusion bag'),
        ingredient: [
          {
            itemCodeableConcept: KETAMINE,
            strength: {
              numerator: { value: 500, unit: 'mg', system: SYSTEMS.ucum, code: 'mg' },
              denominator: { value: 50, unit: 'mL', system: SYSTEMS.ucum, code: 'mL' },
            },
          },
        ],
      },
    ];
    const input = bundle(
      patient(),
      administration(
        'by-ref',
        '2026-11-24T09:00:00Z',
        { value: 7, unit: 'mL/h', system: SYSTEMS.ucum, code: 'mL/h' },
        { contained, medication: { medicationReference: { reference: '#med' } } },
      ),
    );
    const before = JSON.stringify(input);
    const f = await facts(input);
    expect(f.administrations).toHaveLength(1);
    expect(f.administrations[0]?.rate).toEqual({ kind: 'quantity', value: 7, unit: 'mL/h' });
    expect(f.administrations[0]?.medication).toEqual({
      recognizedBy: 'code', // by its ketamine ingredient: matching is at ingredient level
      display: 'Ketamine 500 MG in 50 ML infusion bag',
      concentrationMgPerMl: 10,
    });
    expect(JSON.stringify(input)).toBe(before); // the caller's bundle is not modified
  });

  it('a draft order whose medicationReference points (by urn:uuid) to a Medication in draftOrders is a ketamine order with its rate', async () => {
    const draftOrders: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'urn:uuid:7b3a4c52-1111-4e2b-9d1e-0c1f1a2b3c4d',
          resource: {
            resourceType: 'Medication',
            id: 'draft-med',
            code: concept(SYSTEMS.rxnorm, '238084', 'ketamine injectable solution'),
            ingredient: [
              {
                itemCodeableConcept: KETAMINE,
                strength: {
                  numerator: { value: 1, unit: 'g', system: SYSTEMS.ucum, code: 'g' },
                  denominator: { value: 100, unit: 'mL', system: SYSTEMS.ucum, code: 'mL' },
                },
              },
            ],
          },
        },
        {
          resource: {
            resourceType: 'MedicationRequest',
            id: 'draft-1',
            status: 'draft',
            intent: 'order',
            subject: { reference: 'Patient/p1' },
            medicationReference: { reference: 'urn:uuid:7b3a4c52-1111-4e2b-9d1e-0c1f1a2b3c4d' },
            authoredOn: '2026-11-24T11:59:00Z',
            dosageInstruction: [
              {
                doseAndRate: [{ rateQuantity: { value: 0.3, unit: 'mg/kg/h', system: SYSTEMS.ucum, code: 'mg/kg/h' } }],
              },
            ],
          },
        },
      ],
    };
    const record: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [{ resource: patient() }, { resource: draftOrders }],
    };
    const f = await facts(record, 'order-select');
    expect(f.orders).toEqual([
      {
        id: 'draft-1',
        status: 'draft',
        intent: 'order',
        authoredOn: '2026-11-24T11:59:00+00:00',
        rate: { kind: 'quantity', value: 0.3, unit: 'mg/kg/h' },
        medication: { recognizedBy: 'code', display: 'ketamine injectable solution', concentrationMgPerMl: 10 },
      },
    ]);
  });

  it('a medication known only by text naming ketamine is recognised and said as text; esketamine and other drugs are not', async () => {
    const order = (id: string, medication: object): FhirResource =>
      ({
        resourceType: 'MedicationRequest',
        id,
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/p1' },
        ...medication,
      }) as FhirResource;
    const f = await facts(
      bundle(
        patient(),
        order('text-only', { medicationCodeableConcept: { text: 'KETAMINE 1 mg/mL in NS 100 mL\n(continuous)' } }),
        order('display-only', {
          medicationCodeableConcept: { coding: [{ system: 'urn:oid:1.2.3', code: 'X1', display: 'Ketalar 10 mg/mL' }] },
        }),
        order('esketamine', { medicationCodeableConcept: { text: 'Esketamine 28 mg nasal spray' } }),
        order('morphine', { medicationCodeableConcept: concept(SYSTEMS.rxnorm, '7052', 'morphine') }),
      ),
    );
    expect(f.orders.map((o) => [o.id, o.medication.recognizedBy, o.medication.display, o.rate])).toEqual([
      ['text-only', 'text', 'KETAMINE 1 mg/mL in NS 100 mL\n(continuous)', null],
      ['display-only', 'text', 'Ketalar 10 mg/mL', null],
    ]);
  });

  it('an order rate charted as a rateRatio in doseAndRate is read', async () => {
    const order: FhirResource = {
      resourceType: 'MedicationRequest',
      id: 'mr',
      status: 'active',
      intent: 'order',
      subject: { reference: 'Patient/p1' },
      medicationCodeableConcept: KETAMINE,
      dosageInstruction: [
        { text: 'no rate here' },
        {
          doseAndRate: [
            { doseQuantity: { value: 1, unit: 'mg' } },
            { rateRatio: { numerator: { value: 21, code: 'mg' }, denominator: { value: 1, code: 'h' } } },
          ],
        },
      ],
    } as FhirResource;
    const f = await facts(bundle(patient(), order), 'order-sign');
    expect(f.orders[0]?.rate).toEqual({
      kind: 'ratio',
      numeratorValue: 21,
      numeratorUnit: 'mg',
      denominatorValue: 1,
      denominatorUnit: 'h',
    });
  });
});

describe('psychotomimetic adverse effects', () => {
  it('an AdverseEvent whose suspect is a ketamine administration counts (ketamine-suspect), one with a psychotomimetic code counts (code), a potential one does not', async () => {
    const event = (id: string, extra: object): FhirResource =>
      ({
        resourceType: 'AdverseEvent',
        id,
        actuality: 'actual',
        subject: { reference: 'Patient/p1' },
        date: '2026-11-24T10:15:00Z',
        ...extra,
      }) as FhirResource;
    const f = await facts(
      bundle(
        patient(),
        administration('ma1', '2026-11-24T08:00:00Z', mgPerKgPerHour(0.3)),
        event('suspect', {
          event: { text: 'felt detached' },
          suspectEntity: [{ instance: { reference: 'MedicationAdministration/ma1' } }],
        }),
        event('coded', { event: concept(SYSTEMS.icd, 'R44.1', 'Visual hallucinations') }),
        event('potential', { actuality: 'potential', event: concept(SYSTEMS.icd, 'R44.1') }),
        event('other-suspect', {
          event: { text: 'rash' },
          suspectEntity: [{ instance: { reference: 'MedicationAdministration/unknown' } }],
        }),
      ),
    );
    expect(f.adverseEffects.map((a) => [a.resourceId, a.via]).sort()).toEqual([
      ['coded', 'psychotomimetic-code'],
      ['suspect', 'ketamine-suspect'],
    ]);
    expect(f.adverseEffects.find((a) => a.resourceId === 'suspect')).toMatchObject({
      resourceType: 'AdverseEvent',
      display: 'felt detached',
      time: '2026-11-24T10:15:00+00:00',
    });
  });

  it('an AdverseEvent whose suspect is a ketamine Medication (by absolute URL) counts', async () => {
    const f = await facts(
      bundle(
        patient(),
        { resourceType: 'Medication', id: 'ket', code: KETAMINE } as FhirResource,
        {
          resourceType: 'AdverseEvent',
          id: 'ae',
          actuality: 'actual',
          subject: { reference: 'Patient/p1' },
          date: '2026-11-24T10:15:00Z',
          suspectEntity: [{ instance: { reference: 'https://ehr.example.org/fhir/Medication/ket' } }],
        } as FhirResource,
      ),
    );
    expect(f.adverseEffects.map((a) => [a.resourceId, a.via])).toEqual([['ae', 'ketamine-suspect']]);
  });

  it('an Observation coded (or valued) as hallucinations and a Condition with such a code count, even when resolved', async () => {
    const f = await facts(
      bundle(
        patient(),
        observation(
          'obs-code',
          concept(SYSTEMS.sct, '7011001', 'Hallucinations'),
          '2026-11-24T10:00:00Z',
          {},
          'preliminary',
        ),
        observation('obs-value', concept(SYSTEMS.loinc, '75321-0', 'Clinical finding'), '2026-11-24T10:30:00Z', {
          valueCodeableConcept: concept(SYSTEMS.icd, 'R44.0'),
        }),
        observation('obs-error', concept(SYSTEMS.sct, '7011001'), '2026-11-24T10:40:00Z', {}, 'entered-in-error'),
        condition('cond', concept(SYSTEMS.icd, 'F48.1'), { clinical: 'resolved', onset: '2026-11-24T09:45:00Z' }),
      ),
    );
    expect(f.adverseEffects.map((a) => [a.resourceId, a.resourceType, a.code, a.time]).sort()).toEqual([
      ['cond', 'Condition', 'F48.1', '2026-11-24T09:45:00+00:00'],
      ['obs-code', 'Observation', '7011001', '2026-11-24T10:00:00+00:00'],
      ['obs-value', 'Observation', 'R44.0', '2026-11-24T10:30:00+00:00'],
    ]);
    expect(f.adverseEffects.every((a) => a.via === 'psychotomimetic-code')).toBe(true);
  });
});

describe('encounters and consent', () => {
  it('each encounter carries its class code and whether it is inpatient (IMP, ACUTE, NONAC; also without the system)', async () => {
    const encounter = (id: string, code: string | null, system: string | null = SYSTEMS.actCode): FhirResource =>
      ({
        resourceType: 'Encounter',
        id,
        status: 'in-progress',
        ...(code ? { class: { ...(system ? { system } : {}), code } } : {}),
        subject: { reference: 'Patient/p1' },
        period: { start: '2026-11-22T08:00:00Z' },
      }) as FhirResource;
    const f = await facts(
      bundle(
        patient(),
        encounter('imp', 'IMP'),
        encounter('acute', 'ACUTE'),
        encounter('amb', 'AMB'),
        encounter('none', null),
        encounter('bare-nonac', 'NONAC', null),
        encounter('bare-amb', 'AMB', null),
      ),
    );
    expect(f.encounters.map((e) => [e.id, e.classCode, e.inpatient])).toEqual([
      ['imp', 'IMP', true],
      ['acute', 'ACUTE', true],
      ['amb', 'AMB', false],
      ['none', null, false],
      ['bare-nonac', 'NONAC', true],
      ['bare-amb', 'AMB', false],
    ]);
    expect(f.encounters[0]).toMatchObject({ status: 'in-progress', start: '2026-11-22T08:00:00+00:00', end: null });
  });

  it('an active treatment Consent is found; a research or inactive one is not', async () => {
    const consent = (id: string, status: string, scope: string): FhirResource =>
      ({
        resourceType: 'Consent',
        id,
        status,
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: scope }] },
        category: [concept(SYSTEMS.loinc, '59284-0')],
        patient: { reference: 'Patient/p1' },
        dateTime: '2026-11-23T15:00:00Z',
      }) as FhirResource;
    expect((await facts(bundle(patient(), consent('c1', 'active', 'treatment')))).consent).toEqual({
      id: 'c1',
      time: '2026-11-23T15:00:00+00:00',
    });
    expect(
      (await facts(bundle(patient(), consent('c2', 'active', 'research'), consent('c3', 'inactive', 'treatment'))))
        .consent,
    ).toBeNull();
  });
});

describe('the evaluator', () => {
  it('the three hooks read the same facts from the same record', async () => {
    const b = bundle(
      patient(),
      condition('cm', MIGRAINE),
      administration('a1', '2026-11-24T08:00:00Z', mgPerKgPerHour(0.2)),
      observation('p', concept(SYSTEMS.loinc, '72514-3'), '2026-11-24T11:00:00Z', quantity(5, '{score}')),
    );
    const [pv, os, sign] = await Promise.all([
      facts(b, 'patient-view'),
      facts(b, 'order-select'),
      facts(b, 'order-sign'),
    ]);
    expect(os).toEqual(pv);
    expect(sign).toEqual(pv);
    expect(pv.administrations).toHaveLength(1);
  });

  it('two evaluations running in parallel for different patients do not mix', async () => {
    const recordOf = (id: string, rate: number, pain: number) =>
      bundle(
        patient(id, { birthDate: id === 'alice' ? '1970-01-01' : '1990-06-15' }),
        condition(`${id}-cm`, MIGRAINE),
        administration(`${id}-ma`, '2026-11-24T08:00:00Z', mgPerKgPerHour(rate)),
        ...Array.from({ length: 40 }, (_, i) =>
          observation(
            `${id}-pain-${i}`,
            concept(SYSTEMS.loinc, '72514-3'),
            new Date(Date.parse('2026-11-23T00:00:00Z') + i * 1800_000).toISOString(),
            quantity(pain, '{score}'),
          ),
        ),
      );
    const alice = recordOf('alice', 0.2, 7);
    const bob = recordOf('bob', 0.4, 2);
    const runs = await Promise.all([facts(alice), facts(bob), facts(alice, 'order-sign'), facts(bob, 'order-select')]);
    for (const [i, f] of runs.entries()) {
      const id = i % 2 === 0 ? 'alice' : 'bob';
      expect(f.patient.id).toBe(id);
      expect(f.chronicMigraine.map((c) => c.resourceId)).toEqual([`${id}-cm`]);
      expect(f.administrations.map((a) => a.id)).toEqual([`${id}-ma`]);
      expect(f.painScores).toHaveLength(40);
      expect(f.painScores.every((p) => p.id.startsWith(`${id}-`) && p.value === (id === 'alice' ? 7 : 2))).toBe(true);
    }
  });

  it('a record without a Patient is refused with a 412 OperationOutcome', async () => {
    await expect(facts(bundle(condition('cm', MIGRAINE)))).rejects.toMatchObject({
      status: 412,
      name: 'OperationOutcomeError',
    });
  });
});
