/**
 * The record is the patient's (src/fhir/own-record.ts, contract v1.1): before CQL, another patient's
 * resources, resources with a date that does not parse or a number that is not finite, and null or
 * malformed prefetch entries are set aside and counted by kind, never echoed.
 */
import type { FhirResource } from 'fhir/r4';
import {
  NOTHING_SET_ASIDE,
  bareId,
  malformedBundleEntries,
  malformedField,
  malformedPrefetchEntries,
  ownRecord,
  referencedPatientId,
} from '../../src/fhir/own-record';
import {
  administration as chartedAdministration,
  concept,
  mgPerKgPerHour,
  observation,
  quantity,
  SYSTEMS,
} from '../support/chart';

const PATIENT = 'pat-1';

const ofPatient = { subject: { reference: `Patient/${PATIENT}` } };

const weight = (over: Record<string, unknown> = {}): FhirResource =>
  observation('wt-1', concept(SYSTEMS.loinc, '29463-7'), '2026-11-24T08:00:00Z', {
    ...quantity(70, 'kg'),
    ...ofPatient,
    ...over,
  });

const administration = (over: Record<string, unknown> = {}): FhirResource =>
  ({
    ...chartedAdministration('admin-1', '2026-11-24T06:00:00Z', mgPerKgPerHour(0.2)),
    ...ofPatient,
    ...over,
  }) as FhirResource;

const allergy = (reference: string): FhirResource =>
  ({
    resourceType: 'AllergyIntolerance',
    id: 'allergy-1',
    patient: { reference },
    code: { text: 'ketamine' },
  }) as FhirResource;

const patientResource = (id: string): FhirResource => ({ resourceType: 'Patient', id }) as FhirResource;

describe('referencedPatientId: the patient a reference names', () => {
  it.each([
    ['Patient/123', { type: 'Patient', id: '123' }],
    ['https://ehr.example.org/fhir/Patient/123', { type: 'Patient', id: '123' }],
    ['Patient/123/_history/4', { type: 'Patient', id: '123' }],
    ['https://ehr.example.org/fhir/Patient/123/_history/4', { type: 'Patient', id: '123' }],
    ['Group/g-7', { type: 'Group', id: 'g-7' }],
  ])('when the reference is %s, it names %o', (reference, expected) => {
    expect(referencedPatientId(reference)).toEqual(expected);
  });

  it.each([
    ['a contained reference', '#p1'],
    ['a bare id', '123'],
    ['an empty string', ''],
    ['a lower-case type', 'patient/123'],
    ['a number', 123],
    ['an object', { reference: 'Patient/123' }],
    ['null', null],
    ['undefined', undefined],
  ])('when the reference is %s, it names nobody', (_label, reference) => {
    expect(referencedPatientId(reference)).toBeNull();
  });

  it('when context.patientId is written as a reference, bareId gives the id; a bare id stays as it is', () => {
    expect(bareId('Patient/pat-1')).toBe('pat-1');
    expect(bareId('pat-1')).toBe('pat-1');
  });
});

describe("CH-B4 ownRecord: another patient's resources are set aside", () => {
  it.each([
    ['relative', 'Patient/pat-2'],
    ['absolute URL', 'https://ehr.example.org/fhir/Patient/pat-2'],
    ['versioned (_history)', 'Patient/pat-2/_history/7'],
    ['absolute and versioned', 'https://other.example.org/fhir/Patient/pat-2/_history/1'],
    ['a Group, not a Patient', 'Group/ward-3'],
  ])('when subject names another patient (%s), the resource is set aside and counted', (_label, reference) => {
    const mine = weight();
    const theirs = weight({ id: 'wt-other', subject: { reference }, valueQuantity: { value: 120, unit: 'kg' } });
    const { resources, setAside } = ownRecord([theirs, mine], PATIENT);
    expect(resources).toEqual([mine]);
    expect(setAside).toEqual({
      otherPatient: 1,
      unreadable: 0,
      items: [{ reason: 'other-patient', resourceType: 'Observation' }],
    });
  });

  it.each([
    ['relative', `Patient/${PATIENT}`],
    ['absolute URL', `https://ehr.example.org/fhir/Patient/${PATIENT}`],
    ['versioned (_history)', `Patient/${PATIENT}/_history/2`],
    ['absolute and versioned', `https://ehr.example.org/fhir/Patient/${PATIENT}/_history/2`],
  ])('when subject names this patient (%s), the resource is kept', (_label, reference) => {
    const mine = administration({ subject: { reference } });
    expect(ownRecord([mine], PATIENT)).toEqual({ resources: [mine], setAside: NOTHING_SET_ASIDE });
  });

  it('when context.patientId is written "Patient/pat-1", the same resources are kept and set aside', () => {
    const mine = weight();
    const theirs = weight({ id: 'wt-2', subject: { reference: 'Patient/pat-2' } });
    expect(ownRecord([mine, theirs], `Patient/${PATIENT}`).resources).toEqual([mine]);
  });

  it('when the patient is named by the patient element (AllergyIntolerance, Consent), another patient is set aside', () => {
    const mine = allergy(`Patient/${PATIENT}`);
    const theirs = { ...allergy('https://ehr.example.org/fhir/Patient/pat-2/_history/1'), id: 'allergy-2' };
    const { resources, setAside } = ownRecord([mine, theirs as FhirResource], PATIENT);
    expect(resources).toEqual([mine]);
    expect(setAside.items).toEqual([{ reason: 'other-patient', resourceType: 'AllergyIntolerance' }]);
  });

  it('when another Patient resource is in the record, it is set aside; this patient and a Patient without id are kept', () => {
    const me = patientResource(PATIENT);
    const noId = { resourceType: 'Patient' } as FhirResource;
    const { resources, setAside } = ownRecord([patientResource('pat-2'), me, noId], PATIENT);
    expect(resources).toEqual([me, noId]);
    expect(setAside).toMatchObject({ otherPatient: 1, unreadable: 0 });
  });

  it('when a resource names no patient (a Medication, a contained or identifier-only subject), it is kept', () => {
    const medication = { resourceType: 'Medication', id: 'med-1', code: { text: 'ketamine' } } as FhirResource;
    const contained = weight({ id: 'wt-c', subject: { reference: '#p' } });
    const identifierOnly = weight({ id: 'wt-i', subject: { identifier: { value: 'MRN-1' } } });
    const all = [medication, contained, identifierOnly];
    expect(ownRecord(all, PATIENT)).toEqual({ resources: all, setAside: NOTHING_SET_ASIDE });
  });

  it('when subject is a string ("Patient/pat-2"), whose record it is cannot be read: set aside as malformed, never kept', () => {
    const { resources, setAside } = ownRecord([weight({ subject: 'Patient/pat-2' })], PATIENT);
    expect(resources).toEqual([]);
    expect(setAside.items).toEqual([{ reason: 'malformed', resourceType: 'Observation', field: 'subject' }]);
  });
});

describe('ownRecord: unreadable dates are set aside', () => {
  it.each([
    ['effectiveDateTime', { effectiveDateTime: 'yesterday' }, 'effectiveDateTime'],
    ['effectiveDateTime', { effectiveDateTime: '2026-13-01T08:00:00Z' }, 'effectiveDateTime'],
    ['effectiveDateTime', { effectiveDateTime: '2026-11-24T25:00:00Z' }, 'effectiveDateTime'],
    ['effectiveDateTime', { effectiveDateTime: '2026-11-24T08:00:00+15:00' }, 'effectiveDateTime'],
    ['effectiveDateTime', { effectiveDateTime: '24/11/2026 08:00' }, 'effectiveDateTime'],
    ['effectiveDateTime', { effectiveDateTime: 20261124 }, 'effectiveDateTime'],
    ['effectiveDateTime', { effectiveDateTime: null }, 'effectiveDateTime'],
    ['effectiveDateTime (a time without its zone)', { effectiveDateTime: '2026-11-24T08:00:00' }, 'effectiveDateTime'],
    ['issued', { issued: '' }, 'issued'],
    ['effectivePeriod.start', { effectivePeriod: { start: 'now' } }, 'effectivePeriod.start'],
    ['effectivePeriod.end', { effectivePeriod: { start: '2026-11-24T06:00:00Z', end: 'soon' } }, 'effectivePeriod.end'],
    ['effectivePeriod', { effectivePeriod: '2026-11-24T06:00:00Z' }, 'effectivePeriod'],
  ])('when %s is %j, the resource is set aside naming the field', (_label, over, field) => {
    const { resources, setAside } = ownRecord([weight(over)], PATIENT);
    expect(resources).toEqual([]);
    expect(setAside).toEqual({
      otherPatient: 0,
      unreadable: 1,
      items: [{ reason: 'unreadable-date', resourceType: 'Observation', field }],
    });
  });

  it('D1 when an in-progress administration (no end) has an unreadable start, it is kept without its time and counted (it still runs)', () => {
    const running = administration({ effectivePeriod: { start: '22:30' } });
    const { resources, setAside } = ownRecord([running], PATIENT);
    const { effectivePeriod: _period, ...timeless } = running as FhirResource & { effectivePeriod: unknown };
    expect(resources).toEqual([timeless]);
    expect(setAside.items).toEqual([
      { reason: 'unreadable-date', resourceType: 'MedicationAdministration', field: 'effectivePeriod.start' },
    ]);
  });

  it('when a completed administration, or one with an end, has an unreadable start, it is set aside', () => {
    const completed = administration({
      status: 'completed',
      effectivePeriod: { start: 'x', end: '2026-11-24T08:00:00Z' },
    });
    const withEnd = administration({ effectivePeriod: { start: 'x', end: '2026-11-24T08:00:00Z' } });
    expect(ownRecord([completed, withEnd], PATIENT).resources).toEqual([]);
  });

  it.each([
    ['a year', '2026'],
    ['a month', '2026-11'],
    ['a date', '2026-11-24'],
    ['a dateTime in UTC', '2026-11-24T08:00:00Z'],
    ['a dateTime with an offset', '2026-11-24T08:00:00.123+01:00'],
    ['the largest offset', '2026-11-24T08:00:00+14:00'],
  ])('when the date is %s (%s), the resource is kept', (_label, value) => {
    const resource = weight({ effectiveDateTime: value });
    expect(ownRecord([resource], PATIENT).resources).toEqual([resource]);
  });
});

describe("ownRecord: this patient's own Patient resource is never set aside", () => {
  it('when its birthDate does not parse, the Patient is kept without the birthDate, and the field is counted', () => {
    const me = { ...patientResource(PATIENT), gender: 'female', birthDate: 19800401 } as unknown as FhirResource;
    const { resources, setAside } = ownRecord([me], PATIENT);
    expect(resources).toEqual([{ resourceType: 'Patient', id: PATIENT, gender: 'female' }]);
    expect(setAside).toEqual({
      otherPatient: 0,
      unreadable: 1,
      items: [{ reason: 'unreadable-date', resourceType: 'Patient', field: 'birthDate' }],
    });
    expect(me).toHaveProperty('birthDate', 19800401); // the input is not changed
  });

  it('when it holds a number that is not finite and an unreadable date, both fields are dropped and counted', () => {
    const me = JSON.parse(
      JSON.stringify({
        resourceType: 'Patient',
        id: PATIENT,
        birthDate: 'last spring',
        multipleBirthInteger: 987654321,
        gender: 'male',
      }).replace('987654321', '1e400'),
    ) as FhirResource;
    const { resources, setAside } = ownRecord([me], PATIENT);
    expect(resources).toEqual([{ resourceType: 'Patient', id: PATIENT, gender: 'male' }]);
    expect(setAside.items.map((x) => [x.reason, x.field])).toEqual([
      ['unreadable-date', 'birthDate'],
      ['non-finite-number', 'multipleBirthInteger'],
    ]);
  });
});

describe('ownRecord: numbers that are not finite are set aside', () => {
  it('when a valueQuantity holds 1e400 (JSON.parse gives Infinity), the value is set aside naming its path and the weight is kept without it (still the latest: unreadable, D1)', () => {
    const resource = JSON.parse(JSON.stringify(weight()).replace('"value":70', '"value":1e400')) as FhirResource & {
      valueQuantity: { value: number };
    };
    expect(resource.valueQuantity.value).toBe(Infinity);
    const { resources, setAside } = ownRecord([resource], PATIENT);
    expect(setAside).toEqual({
      otherPatient: 0,
      unreadable: 1,
      items: [{ reason: 'non-finite-number', resourceType: 'Observation', field: 'valueQuantity.value' }],
    });
    const { value: _value, ...unitOnly } = (weight() as FhirResource & { valueQuantity: Record<string, unknown> })
      .valueQuantity;
    expect(resources).toEqual([{ ...weight(), valueQuantity: unitOnly }]);
  });

  it('when an observation holds a non-finite number besides its value, the whole observation is set aside', () => {
    const both = JSON.parse(
      JSON.stringify(weight({ referenceRange: [{ low: { value: 987654321 } }] }))
        .replace('"value":70', '"value":1e400')
        .replace('987654321', '1e400'),
    ) as FhirResource;
    expect(ownRecord([both], PATIENT).resources).toEqual([]);
  });

  it('when a component value is NaN, the Observation is set aside with its path', () => {
    const bp = weight({
      id: 'bp-1',
      component: [{ code: { text: 'systolic' }, valueQuantity: { value: Number.NaN, unit: 'mm[Hg]' } }],
    });
    const { resources, setAside } = ownRecord([bp], PATIENT);
    expect(resources).toEqual([]);
    expect(setAside.items).toEqual([
      { reason: 'non-finite-number', resourceType: 'Observation', field: 'component.valueQuantity.value' },
    ]);
  });

  it('D1 when an administration rate is -1e400, the administration is kept without its rate (it still ran: unreadable, never dropped) and counted', () => {
    const rate = JSON.parse(JSON.stringify(administration()).replace('"value":0.2', '"value":-1e400')) as FhirResource;
    const { resources, setAside } = ownRecord([rate], PATIENT);
    const { dosage: _dosage, ...rest } = administration() as FhirResource & { dosage: unknown };
    expect(resources).toEqual([{ ...rest, dosage: {} }]);
    expect(setAside.items).toEqual([
      { reason: 'non-finite-number', resourceType: 'MedicationAdministration', field: 'dosage.rateQuantity.value' },
    ]);
  });

  it('when an administration holds a non-finite number outside its rate, the whole administration is set aside', () => {
    const dose = administration({ dosage: { dose: { value: 987654321, unit: 'mg' } } });
    const parsed = JSON.parse(JSON.stringify(dose).replace('987654321', '1e400')) as FhirResource;
    expect(ownRecord([parsed], PATIENT).resources).toEqual([]);
    const elsewhere = JSON.parse(
      JSON.stringify(administration({ extension: [{ url: 'x', valueDecimal: 987654321 }] })).replace(
        '987654321',
        '1e400',
      ),
    ) as FhirResource;
    expect(ownRecord([elsewhere], PATIENT).resources).toEqual([]);
  });

  it('when numbers are very large but finite (1e308), the resource is kept: plausibility is judged later, by the protocol', () => {
    const resource = weight({ valueQuantity: { value: 1e308, unit: 'kg' } });
    expect(ownRecord([resource], PATIENT).resources).toEqual([resource]);
  });
});

describe('ownRecord: fields the service reads in the wrong JSON shape are set aside and named', () => {
  const mine = { subject: { reference: `Patient/${PATIENT}` } };
  const coding = { system: SYSTEMS.sct, code: '7011001', display: 'Hallucinations' };
  const adverseEvent = (over: Record<string, unknown>) => ({
    resourceType: 'AdverseEvent',
    id: 'ae-1',
    ...mine,
    date: '2026-11-24T07:00:00Z',
    event: { coding: [coding] },
    ...over,
  });
  const bp = (component: unknown) => weight({ id: 'bp-1', component });
  const order = (over: Record<string, unknown>) => ({
    resourceType: 'MedicationRequest',
    id: 'mr-1',
    status: 'active',
    ...mine,
    medicationCodeableConcept: { coding: [{ system: SYSTEMS.rxnorm, code: '6130' }] },
    dosageInstruction: [{ doseAndRate: [{ rateQuantity: mgPerKgPerHour(0.2) }] }],
    ...over,
  });
  const medication = (over: Record<string, unknown>) => ({ resourceType: 'Medication', id: 'med-1', ...over });
  const cases: Array<[string, unknown, string]> = [
    ['an Observation code.coding that is an object', weight({ code: { coding: coding } }), 'code.coding'],
    ['an Observation code that is a string', weight({ code: '29463-7' }), 'code'],
    ['an Observation code that is null', weight({ code: null }), 'code'],
    ['an Observation category that is an object', weight({ category: { coding: [coding] } }), 'category'],
    [
      'an Observation category coding that is a string',
      weight({ category: [{ coding: 'vital-signs' }] }),
      'category.coding',
    ],
    ['an Observation component that is a string', bp('130/78'), 'component'],
    ['an Observation component list holding a string', bp(['130/78']), 'component'],
    ['an Observation component code that is a list', bp([{ code: [{ text: 'sbp' }] }]), 'component.code'],
    [
      'an Observation component valueQuantity that is a string',
      bp([{ code: { text: 'sbp' }, valueQuantity: '130' }]),
      'component.valueQuantity',
    ],
    ['an Observation interpretation that is an object', weight({ interpretation: { text: 'high' } }), 'interpretation'],
    [
      'an Observation valueCodeableConcept that is a list',
      weight({ valueQuantity: undefined, valueCodeableConcept: [coding] }),
      'valueCodeableConcept',
    ],
    ['an AdverseEvent event.coding that is an object', adverseEvent({ event: { coding } }), 'event.coding'],
    ['an AdverseEvent event that is a string', adverseEvent({ event: 'hallucination' }), 'event'],
    [
      'an AdverseEvent suspectEntity that is an object',
      adverseEvent({ suspectEntity: { instance: { reference: 'MedicationAdministration/admin-1' } } }),
      'suspectEntity',
    ],
    [
      'an AdverseEvent suspectEntity instance that is a string',
      adverseEvent({ suspectEntity: [{ instance: 'MedicationAdministration/admin-1' }] }),
      'suspectEntity.instance',
    ],
    [
      'a MedicationAdministration medicationCodeableConcept that is a string',
      administration({ medicationCodeableConcept: 'ketamine' }),
      'medicationCodeableConcept',
    ],
    [
      'a MedicationAdministration contained that is an object',
      administration({ contained: { resourceType: 'Medication' } }),
      'contained',
    ],
    [
      'a MedicationRequest dosageInstruction that is an object',
      order({ dosageInstruction: { doseAndRate: [] } }),
      'dosageInstruction',
    ],
    [
      'a MedicationRequest doseAndRate that is an object',
      order({ dosageInstruction: [{ doseAndRate: { rateQuantity: mgPerKgPerHour(0.2) } }] }),
      'dosageInstruction.doseAndRate',
    ],
    [
      'a MedicationRequest rateRatio numerator that is a string',
      order({
        dosageInstruction: [
          { doseAndRate: [{ rateRatio: { numerator: '20 mg', denominator: { value: 1, unit: 'h' } } }] },
        ],
      }),
      'dosageInstruction.doseAndRate.rateRatio.numerator',
    ],
    [
      'a Medication contained in an order whose ingredient is an object',
      order({ contained: [medication({ ingredient: { itemCodeableConcept: { text: 'ketamine' } } })] }),
      'contained.ingredient',
    ],
    [
      'a Medication ingredient that is an object',
      medication({ ingredient: { itemCodeableConcept: { text: 'ketamine' } } }),
      'ingredient',
    ],
    [
      'a Medication ingredient strength that is a string',
      medication({ ingredient: [{ itemCodeableConcept: { text: 'ketamine' }, strength: '10 mg/mL' }] }),
      'ingredient.strength',
    ],
    [
      'a Condition clinicalStatus that is a string',
      { resourceType: 'Condition', ...mine, code: { text: 'migraine' }, clinicalStatus: 'active' },
      'clinicalStatus',
    ],
    [
      'a Condition verificationStatus coding that is an object',
      { resourceType: 'Condition', ...mine, verificationStatus: { coding: { code: 'refuted' } } },
      'verificationStatus.coding',
    ],
    [
      'an AllergyIntolerance patient that is a string',
      { resourceType: 'AllergyIntolerance', patient: `Patient/${PATIENT}`, code: { text: 'ketamine' } },
      'patient',
    ],
    [
      'an AllergyIntolerance code.coding that is an object',
      { resourceType: 'AllergyIntolerance', code: { coding: { code: '6130' } } },
      'code.coding',
    ],
    ['an Encounter class that is a string', { resourceType: 'Encounter', ...mine, class: 'IMP' }, 'class'],
    [
      'a Consent scope.coding that is an object',
      { resourceType: 'Consent', patient: mine.subject, scope: { coding: { code: 'treatment' } } },
      'scope.coding',
    ],
    [
      'a DiagnosticReport code.coding that is an object',
      { resourceType: 'DiagnosticReport', ...mine, code: { coding: { code: '11524-6' } } },
      'code.coding',
    ],
  ];

  it.each(cases)(
    'when the record holds %s, the resource is set aside naming the path (never its content)',
    (_label, resource, field) => {
      const { resources, setAside } = ownRecord([resource as FhirResource], PATIENT);
      expect(resources).toEqual([]);
      expect(setAside).toEqual({
        otherPatient: 0,
        unreadable: 1,
        items: [{ reason: 'malformed', resourceType: (resource as FhirResource).resourceType, field }],
      });
    },
  );

  it("when every field the service reads has its FHIR shape, nothing is malformed (the chart builder's resources, a BP panel, an order)", () => {
    const panel = bp([{ code: { coding: [coding] }, valueQuantity: { value: 130, unit: 'mm[Hg]' } }]);
    for (const resource of [weight(), administration(), panel, adverseEvent({}), order({})])
      expect(malformedField(resource as unknown as Record<string, unknown>)).toBeNull();
  });

  it('when a contained list holds null, a string or a resource without a type, nothing throws; an order names it (its contained is read)', () => {
    const odd = [null, 'Medication/1', { id: 'no-type', code: 'x' }];
    expect(ownRecord([weight({ contained: odd })], PATIENT).resources).toHaveLength(1);
    const { setAside } = ownRecord([order({ contained: odd }) as unknown as FhirResource], PATIENT);
    expect(setAside.items).toEqual([{ reason: 'malformed', resourceType: 'MedicationRequest', field: 'contained' }]);
  });

  it.each([
    ['its rateQuantity is a string', { rateQuantity: '0.2 mg/kg/h' }, 'dosage.rateQuantity'],
    ['its rateQuantity is a list', { rateQuantity: [mgPerKgPerHour(0.2)] }, 'dosage.rateQuantity'],
    [
      'its rateRatio denominator is a string',
      { rateRatio: { numerator: { value: 14, unit: 'mg' }, denominator: 'h' } },
      'dosage.rateRatio.denominator',
    ],
  ])(
    "D1 when an administration's rate cannot be read (%s), it is kept without its rate (it still ran, never X1) and named",
    (_label, dosage, field) => {
      const { resources, setAside } = ownRecord([administration({ dosage })], PATIENT);
      expect(resources).toEqual([administration({ dosage: {} })]);
      expect(setAside.items).toEqual([{ reason: 'malformed', resourceType: 'MedicationAdministration', field }]);
    },
  );

  it("D1 when an administration's dosage is a string, it is kept without its dosage and named", () => {
    const { dosage: _dosage, ...withoutDosage } = administration() as FhirResource & { dosage: unknown };
    const { resources, setAside } = ownRecord([administration({ dosage: '0.2 mg/kg/h' })], PATIENT);
    expect(resources).toEqual([withoutDosage]);
    expect(setAside.items).toEqual([
      { reason: 'malformed', resourceType: 'MedicationAdministration', field: 'dosage' },
    ]);
  });

  it("when an administration's request is a string, it is kept without the request and named", () => {
    const { resources, setAside } = ownRecord([administration({ request: 'MedicationRequest/mr-1' })], PATIENT);
    expect(resources).toEqual([administration()]);
    expect(setAside.items).toEqual([
      { reason: 'malformed', resourceType: 'MedicationAdministration', field: 'request' },
    ]);
  });

  it("D1 when the latest weight's valueQuantity is a string, it is kept as a weight without a value (an older weight never stands in) and named", () => {
    const { resources, setAside } = ownRecord([weight({ valueQuantity: '70 kg' })], PATIENT);
    expect(resources).toEqual([weight({ valueQuantity: {} })]);
    expect(setAside.items).toEqual([{ reason: 'malformed', resourceType: 'Observation', field: 'valueQuantity' }]);
  });

  it('D1 when an in-progress administration has an unreadable start and a non-finite rate, it is kept without both (never X1), each named', () => {
    const broken = JSON.parse(
      JSON.stringify(administration({ effectivePeriod: { start: '22:30' } })).replace('"value":0.2', '"value":1e400'),
    ) as FhirResource;
    const { resources, setAside } = ownRecord([broken], PATIENT);
    const { effectivePeriod: _period, ...timeless } = administration({ dosage: {} }) as FhirResource & {
      effectivePeriod: unknown;
    };
    expect(resources).toEqual([timeless]);
    expect(setAside.items.map((x) => [x.reason, x.field])).toEqual([
      ['unreadable-date', 'effectivePeriod.start'],
      ['non-finite-number', 'dosage.rateQuantity.value'],
    ]);
  });
});

describe('ownRecord: counts, order and what is reported', () => {
  it('when several kinds are set aside, each is counted once, malformed entries first, the kept resources in their order', () => {
    const kept = [patientResource(PATIENT), weight(), administration()];
    const input = [
      kept[0] as FhirResource,
      weight({ id: 'wt-2', subject: { reference: 'Patient/pat-2' } }),
      kept[1] as FhirResource,
      administration({ id: 'admin-2', subject: { reference: 'https://x.example/fhir/Patient/pat-3' } }),
      weight({ id: 'wt-3', effectiveDateTime: 'not a date' }),
      patientResource('pat-2'),
      kept[2] as FhirResource,
    ];
    const { resources, setAside } = ownRecord(input, PATIENT, 2);
    expect(resources).toEqual(kept);
    expect(setAside.otherPatient).toBe(3);
    expect(setAside.unreadable).toBe(3);
    expect(setAside.items.map((x) => x.reason)).toEqual([
      'malformed-entry',
      'malformed-entry',
      'other-patient',
      'other-patient',
      'unreadable-date',
      'other-patient',
    ]);
  });

  it("when another patient's resource also has an unreadable date, it is counted once, as another patient's", () => {
    const { setAside } = ownRecord(
      [weight({ subject: { reference: 'Patient/pat-2' }, effectiveDateTime: 'x' })],
      PATIENT,
    );
    expect(setAside).toEqual({
      otherPatient: 1,
      unreadable: 0,
      items: [{ reason: 'other-patient', resourceType: 'Observation' }],
    });
  });

  it('what is set aside never carries ids, values or references (nothing of the record is echoed)', () => {
    const { setAside } = ownRecord(
      [
        weight({ id: 'secret-id', subject: { reference: 'Patient/secret-patient' } }),
        weight({ id: 'secret-2', effectiveDateTime: 'secret-date' }),
      ],
      PATIENT,
    );
    expect(JSON.stringify(setAside)).not.toMatch(/secret/);
  });

  it('when nothing is set aside, the summary is empty and the resources are the same objects', () => {
    const input = [weight(), administration()];
    const { resources, setAside } = ownRecord(input, PATIENT);
    expect(resources[0]).toBe(input[0]);
    expect(setAside).toEqual(NOTHING_SET_ASIDE);
  });
});

describe('malformedPrefetchEntries: null or malformed entries of the prefetch Bundles', () => {
  const bundle = (entry: unknown) => ({ resourceType: 'Bundle', type: 'searchset', entry });

  it('when entries are null, a string, a number, without a resource, with a resource without resourceType, or a string resource, each is counted', () => {
    const prefetch = {
      weights: bundle([
        null,
        'Observation/1',
        42,
        { fullUrl: 'https://ehr.example.org/fhir/Observation/2' },
        { resource: { id: 'no-type' } },
        { resource: 'Observation/3' },
        { resource: null },
        { resource: { resourceType: 7 } },
        { resource: weight() },
      ]),
    };
    expect(malformedPrefetchEntries(prefetch)).toBe(8);
  });

  it('when the prefetch is absent, holds null or single resources, or a Bundle without entries, nothing is counted', () => {
    expect(malformedPrefetchEntries(undefined)).toBe(0);
    expect(
      malformedPrefetchEntries({
        patient: patientResource(PATIENT),
        weights: null,
        vitals: bundle(undefined),
        pain: { resourceType: 'Bundle', type: 'searchset', total: 0, link: [] },
      }),
    ).toBe(0);
  });

  it.each([
    ['entry', 'an object', { a: 1 }],
    ['entry', 'a number', 7],
    ['entry', 'a boolean', true],
    ['entry', 'a string', 'not an array'],
    ['entry', 'null', null],
    ['link', 'an object', { relation: 'next', url: 'Observation?page=2' }],
    ['link', 'a string', 'next'],
  ])('when a Bundle %s is %s instead of a list, the Bundle counts once as malformed', (field, _label, value) => {
    expect(malformedBundleEntries({ resourceType: 'Bundle', type: 'searchset', [field]: value })).toBe(1);
    expect(malformedPrefetchEntries({ vitals: { resourceType: 'Bundle', [field]: value } })).toBe(1);
  });

  it('when a Bundle link is not a list and one of its entries is null, both count', () => {
    expect(malformedBundleEntries({ resourceType: 'Bundle', link: {}, entry: [null, { resource: weight() }] })).toBe(2);
  });

  it('when the value is not a Bundle (a resource, null, a string), nothing is counted', () => {
    for (const value of [weight(), null, 'Bundle', { resourceType: 'Patient', entry: {} }])
      expect(malformedBundleEntries(value)).toBe(0);
  });

  it('when several prefetch keys hold malformed entries, they are added up', () => {
    expect(malformedPrefetchEntries({ a: bundle([null]), b: bundle([null, {}, { resource: weight() }]) })).toBe(3);
  });
});
