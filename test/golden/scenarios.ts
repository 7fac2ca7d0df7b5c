/**
 * The golden scenarios: for every rule id of docs/clinical-specification.md, one patient as the chart stood at one time
 * (an example bundle through recordAt, sometimes with a small, named edit) and, on the order hooks, the
 * draft order the clinician is entering. test/golden/generate.test.ts turns each into a CDS Hooks request
 * file; golden.test.ts posts it and compares the answer with the reviewed response file.
 *
 * The stories are written after reading the reviewed responses: they say what the service answers.
 */
import type { Bundle, FhirResource, Medication, MedicationRequest, Observation } from 'fhir/r4';
import type { HookName } from '../../src/contract/cds-hooks';
import { draftOrder, ketamineBag, type DraftInput } from '../support/chart';

export interface Scenario {
  /** File stem: `<ruleId>-<slug>` (test/fixtures/golden/<stem>.request.json / .response.json). */
  stem: string;
  story: string;
  hook: HookName;
  /** Example bundle in fhir-resources/examples. */
  example: string;
  patientId: string;
  encounterId: string;
  /** The scenario time: the record as it stood then, and the service's pinned clock. */
  at: string;
  /** A hand edit of the record as it stood at `at` (said in the story). */
  edit?: (record: Bundle) => Bundle;
  /** order hooks: context.draftOrders (MedicationRequests and, Epic-style, their Medications). */
  draftOrders?: FhirResource[];
}

export { RULE_IDS } from '../support/rule-ids';

/** A draft ketamine infusion order (the chart builder's), entered by the golden neurologist. */
/** A golden draft: the chart builder's, with the drug as a Medication named by id (Epic-style) when given. */
type GoldenDraft = Omit<DraftInput, 'requester' | 'medication'> & { medicationId?: string };

function draft(input: GoldenDraft): MedicationRequest {
  const { medicationId, ...rest } = input;
  return draftOrder({
    ...rest,
    requester: 'Practitioner/golden-neurologist',
    ...(medicationId ? { medication: { id: medicationId, display: BAG_TEXT } } : {}),
  });
}

/** A 100 mg in 100 mL ketamine bag (1 mg/mL), as Epic sends the drug of a draft beside it. */
const BAG_TEXT = 'ketamine 100 mg/100 mL in NS';
const bag = (id: string): Medication => ketamineBag({ id, text: BAG_TEXT, mg: 100, ml: 100 });

function withPainValue(id: string, value: number): (record: Bundle) => Bundle {
  return (record) => ({
    ...record,
    entry: (record.entry ?? []).map((e) => {
      if (e.resource?.id !== id || e.resource.resourceType !== 'Observation') return e;
      const obs: Observation = structuredClone(e.resource);
      if (obs.valueQuantity) obs.valueQuantity.value = value;
      else obs.valueInteger = value;
      return { ...e, resource: obs };
    }),
  });
}

/** The record without vital signs (no blood pressure or heart rate charted). */
function withoutVitals(record: Bundle): Bundle {
  const vitalCodes = ['85354-9', '8480-6', '8462-4', '8867-4', '9279-1', '59408-5', '2708-6'];
  return {
    ...record,
    entry: (record.entry ?? []).filter(
      (e) =>
        e.resource?.resourceType !== 'Observation' ||
        !(e.resource.code.coding ?? []).some((c) => vitalCodes.includes(c.code ?? '')),
    ),
  };
}

/** The running (open) administration's charted rate multiplied by `factor`. */
function runningRateTimes(factor: number): (record: Bundle) => Bundle {
  return (record) => ({
    ...record,
    entry: (record.entry ?? []).map((e) => {
      const r = e.resource;
      if (r?.resourceType !== 'MedicationAdministration' || r.status !== 'in-progress') return e;
      const admin = structuredClone(r);
      if (admin.dosage?.rateQuantity?.value !== undefined)
        admin.dosage.rateQuantity.value = Math.round(admin.dosage.rateQuantity.value * factor * 100) / 100;
      return { ...e, resource: admin };
    }),
  });
}

const CASE1 = {
  example: 'case1-chronic-migraine-mg-per-hour.json',
  patientId: 'case1-patient',
  encounterId: 'case1-encounter',
};
const CASE4 = {
  example: 'case4-chronic-migraine-ml-per-hour.json',
  patientId: 'case4-patient',
  encounterId: 'case4-encounter',
};
const CASE6 = {
  example: 'case6-chronic-migraine-hallucination.json',
  patientId: 'case6-patient',
  encounterId: 'case6-encounter',
};
const CEILING = {
  example: 'ceiling-reached.json',
  patientId: 'ceiling-reached-patient',
  encounterId: 'ceiling-reached-encounter',
};
const PREGNANT = {
  example: 'positive-pregnancy-test.json',
  patientId: 'positive-pregnancy-test-patient',
  encounterId: 'positive-pregnancy-test-encounter',
};
const SBP = { example: 'sbp-190.json', patientId: 'sbp-190-patient', encounterId: 'sbp-190-encounter' };
const STALE_WEIGHT = {
  example: 'stale-weight.json',
  patientId: 'stale-weight-patient',
  encounterId: 'stale-weight-encounter',
};
const OTHER = {
  example: 'other-indication.json',
  patientId: 'other-indication-patient',
  encounterId: 'other-indication-encounter',
};

const case1Draft = (id: string, authoredOn: string, rate: GoldenDraft['rate'], extra: Partial<GoldenDraft> = {}) =>
  draft({ id, patientId: CASE1.patientId, encounterId: CASE1.encounterId, authoredOn, rate, ...extra });
const case4Draft = (id: string, authoredOn: string, rate: GoldenDraft['rate']) =>
  draft({
    id,
    patientId: CASE4.patientId,
    encounterId: CASE4.encounterId,
    authoredOn,
    rate,
    priorOrderId: 'case4-order',
  });

export const SCENARIOS: Scenario[] = [
  // ----- patient-view ------------------------------------------------------------------------------
  {
    stem: 'P0-other-indication-running',
    story:
      'P0: a ketamine infusion for CRPS is running, with no chronic-migraine diagnosis: the service stays silent (no card)',
    hook: 'patient-view',
    ...OTHER,
    at: '2026-12-21T16:40:00Z',
  },
  {
    stem: 'S1-positive-pregnancy-test',
    story: 'S1: a positive pregnancy test before the start: a critical card, contraindicated, with no start suggestion',
    hook: 'patient-view',
    ...PREGNANT,
    at: '2026-10-26T10:00:00Z',
  },
  {
    stem: 'S2-admission-work-up-pending',
    story:
      'S2: twenty minutes after admission, weight, EKG and pregnancy test are pending: a warning listing each, no start suggestion',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-09T08:20:00Z',
  },
  {
    stem: 'S3-work-up-complete-start',
    story:
      'S3: work-up complete (83 kg, EKG, negative pregnancy test, consent, VAS 10): the service suggests starting at 0.1 mg/kg/h (8.3 mg/h)',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-09T10:00:00Z',
  },
  {
    stem: 'X1-infusion-completed',
    story:
      'X1: the morning after the stop, the course is summarised (start, highest rate 0.42, target reached, end) with no suggestion',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-11T07:10:00Z',
  },
  {
    stem: 'A1-hallucination-after-increase',
    story:
      'A1: 55 minutes after the step to 0.44 mg/kg/h a hallucination is charted: a critical card suggests decreasing to 0.34 mg/kg/h',
    hook: 'patient-view',
    ...CASE6,
    at: '2026-09-15T05:20:00Z',
  },
  {
    stem: 'A2-sbp-190-during-infusion',
    story:
      'A2: a systolic pressure of 190 during the infusion at 0.2 mg/kg/h: a critical card suggests decreasing to 0.1 mg/kg/h',
    hook: 'patient-view',
    ...SBP,
    at: '2026-11-09T16:40:00Z',
  },
  {
    stem: 'D1-weight-stale-while-running',
    story:
      'D1: the only weight is 7 days and 30 minutes old while the infusion runs: a warning asks for a new weight, no rate suggested',
    hook: 'patient-view',
    ...STALE_WEIGHT,
    at: '2026-10-12T10:00:00Z',
  },
  {
    stem: 'T1-two-hours-after-start',
    story: 'T1: two hours after the start at 0.12 mg/kg/h: hold, the next review is due at 13:10',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-09T12:10:00Z',
  },
  {
    stem: 'T2-pain-score-stale',
    story:
      'T2: at 0.42 mg/kg/h the latest pain score is 4 h 10 min old: a warning asks for a reassessment and suggests no rate',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-10T18:05:00Z',
  },
  {
    stem: 'T3-rebound-during-taper',
    story:
      'T3: in the taper at 0.22 mg/kg/h the pain rebounds to 6/10 (charted value edited from 2): hold with a warning for clinician review',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-11T01:30:00Z',
    edit: withPainValue('case1-pain-19', 6),
  },
  {
    stem: 'T4-taper-after-sustained-target',
    story: 'T4: pain ≤ 3 for 8 h at 0.42 mg/kg/h: the service suggests tapering to 0.22 mg/kg/h (18.3 mg/h)',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-10T22:10:00Z',
  },
  {
    stem: 'T5-taper-reaches-zero',
    story:
      'T5: in the taper at 0.02 mg/kg/h, one more step reaches 0: the service suggests stopping (the active order set to completed)',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-11T04:40:00Z',
  },
  {
    stem: 'T6-pain-at-target',
    story:
      'T6: pain 3/10 at 0.12 mg/kg/h 3 h 10 min after the start: hold, with since when and when the taper may start (21:20)',
    hook: 'patient-view',
    ...CASE4,
    at: '2026-05-11T13:20:00Z',
  },
  {
    stem: 'T7-hard-maximum-reached',
    story: 'T7: pain 6/10 at the hard maximum 1.0 mg/kg/h: hold with a warning, no step above 1.0',
    hook: 'patient-view',
    ...CEILING,
    at: '2026-11-17T18:20:00Z',
  },
  {
    stem: 'T8-first-step-from-off-grid-rate',
    story:
      'T8: three and a half hours after the start at an off-grid 0.12 mg/kg/h with pain 8/10: the service suggests 0.22 mg/kg/h (18.3 mg/h)',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-09T13:40:00Z',
  },
  {
    stem: 'V1-increase-due-without-vitals',
    story:
      'V1: the first step from 0.12 mg/kg/h would be due, but no blood pressure or heart rate is charted: the service asks for them and shows the increase that would follow (0.22 mg/kg/h)',
    hook: 'patient-view',
    ...CASE1,
    at: '2026-02-09T13:40:00Z',
    edit: withoutVitals,
  },
  {
    stem: 'A3-running-above-hard-maximum',
    story:
      'A3: the pump was charted at 1.3 mg/kg/h, above the hard maximum 1.0: the service suggests decreasing to 1.0 mg/kg/h (critical)',
    hook: 'patient-view',
    ...CEILING,
    at: '2026-11-17T18:20:00Z',
    edit: runningRateTimes(1.3),
  },
  {
    stem: 'T8-above-soft-maximum',
    story:
      'T8: pain 7/10 three hours after the step to 0.5 mg/kg/h: the step to 0.6 mg/kg/h (48 mg/h) is suggested with a warning asking for attending review',
    hook: 'patient-view',
    ...CEILING,
    at: '2026-11-17T01:40:00Z',
  },

  // ----- order hooks -------------------------------------------------------------------------------
  {
    stem: 'O0-order-select-no-readable-rate',
    story: 'O0: a first ketamine order whose rate is free text only: a warning that the draft rate could not be read',
    hook: 'order-select',
    ...CASE1,
    at: '2026-02-09T10:00:00Z',
    draftOrders: [
      case1Draft('golden-o0-draft', '2026-02-09T10:00:00Z', null, {
        text: 'Ketamine IV infusion, titrate per neurology',
      }),
    ],
  },
  {
    stem: 'O1-order-sign-contraindicated',
    story:
      'O1: signing a ketamine order at 0.1 mg/kg/h for a patient with a positive pregnancy test: critical, the suggestion deletes the draft',
    hook: 'order-sign',
    ...PREGNANT,
    at: '2026-10-26T10:00:00Z',
    draftOrders: [
      draft({
        id: 'golden-o1-draft',
        patientId: PREGNANT.patientId,
        encounterId: PREGNANT.encounterId,
        authoredOn: '2026-10-26T10:00:00Z',
        rate: { value: 0.1, unit: 'mg/kg/h' },
      }),
    ],
  },
  {
    stem: 'O2-order-select-work-up-pending',
    story:
      'O2: a ketamine order at 0.1 mg/kg/h selected twenty minutes after admission: a warning listing the missing weight, EKG and pregnancy test',
    hook: 'order-select',
    ...CASE1,
    at: '2026-02-09T08:20:00Z',
    draftOrders: [case1Draft('golden-o2-draft', '2026-02-09T08:20:00Z', { value: 0.1, unit: 'mg/kg/h' })],
  },
  {
    stem: 'O3-order-sign-above-hard-maximum',
    story:
      'O3: signing 100 mL/h of a 1 mg/mL bag (1.2 mg/kg/h at 83 kg, Epic-style medicationReference): critical, set to the recommended 0.22 mg/kg/h',
    hook: 'order-sign',
    ...CASE1,
    at: '2026-02-09T13:40:00Z',
    draftOrders: [
      case1Draft(
        'golden-o3-draft',
        '2026-02-09T13:40:00Z',
        { value: 100, unit: 'mL/h' },
        { priorOrderId: 'case1-order', medicationId: 'golden-o3-medication' },
      ),
      bag('golden-o3-medication'),
    ],
  },
  {
    stem: 'O4-order-select-first-order-off-start-rate',
    story:
      'O4: a first ketamine order at 16.6 mg/h (0.2 mg/kg/h at 83 kg): a warning, the suggestion sets it to the start rate 0.1 mg/kg/h',
    hook: 'order-select',
    ...CASE1,
    at: '2026-02-09T10:00:00Z',
    draftOrders: [case1Draft('golden-o4-draft', '2026-02-09T10:00:00Z', { value: 16.6, unit: 'mg/h' })],
  },
  {
    stem: 'O5-order-select-increase-while-hold',
    story:
      'O5: selecting 0.22 mg/kg/h while the protocol holds at 0.12 (pain 3/10): a warning, the suggestion keeps 0.12 mg/kg/h',
    hook: 'order-select',
    ...CASE4,
    at: '2026-05-11T13:20:00Z',
    draftOrders: [case4Draft('golden-o5-select-draft', '2026-05-11T13:20:00Z', { value: 0.22, unit: 'mg/kg/h' })],
  },
  {
    stem: 'O5-order-sign-increase-while-hold',
    story:
      'O5: signing 0.22 mg/kg/h while the protocol holds at 0.12 (pain 3/10): critical, the suggestion keeps 0.12 mg/kg/h',
    hook: 'order-sign',
    ...CASE4,
    at: '2026-05-11T13:20:00Z',
    draftOrders: [case4Draft('golden-o5-sign-draft', '2026-05-11T13:20:00Z', { value: 0.22, unit: 'mg/kg/h' })],
  },
  {
    stem: 'O6-order-select-more-than-one-step',
    story:
      'O6: selecting 0.42 mg/kg/h from 0.12 (more than one step): a warning, the suggestion sets the recommended 0.22 mg/kg/h',
    hook: 'order-select',
    ...CASE1,
    at: '2026-02-09T13:40:00Z',
    draftOrders: [
      case1Draft(
        'golden-o6-select-draft',
        '2026-02-09T13:40:00Z',
        { value: 0.42, unit: 'mg/kg/h' },
        { priorOrderId: 'case1-order' },
      ),
    ],
  },
  {
    stem: 'O6-order-sign-more-than-one-step',
    story:
      'O6: signing 0.42 mg/kg/h from 0.12 (more than one step): critical, the suggestion sets the recommended 0.22 mg/kg/h',
    hook: 'order-sign',
    ...CASE1,
    at: '2026-02-09T13:40:00Z',
    draftOrders: [
      case1Draft(
        'golden-o6-sign-draft',
        '2026-02-09T13:40:00Z',
        { value: 0.42, unit: 'mg/kg/h' },
        { priorOrderId: 'case1-order' },
      ),
    ],
  },
];
