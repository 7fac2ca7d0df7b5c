/**
 * The boundary patients: one protocol edge each. Every pain assessment has a row, written by hand
 * from docs/clinical-specification.md; the rows named in fhir-resources/examples/index.json (scenarioTimes) are the edges.
 */
import type { Expectation } from './types';

/** Weight charted 2026-10-05T09:30Z (t0 − 157 h) and never again: stale after 2026-10-12T09:30Z. */
const staleWeight: Expectation = {
  file: 'stale-weight.json',
  patientId: 'stale-weight-patient',
  encounterId: 'stale-weight-encounter',
  start: '2026-10-11T22:30:00Z',
  // prettier-ignore
  rows: [
    ['-0:10', 8, 'S3', 'start', 'not-started', 0, 0.1], // weight 6 d 12 h 50 old: fresh
    ['3:10', 7, 'T8', 'increase', 'titration', 0.1, 0.2],
    ['6:30', 6, 'T8', 'increase', 'titration', 0.2, 0.3],
    ['9:50', 5, 'T8', 'increase', 'titration', 0.3, 0.4], // weight 6 d 22 h 50 old
    // weight 7 d 0 h 30 old; changed 1 h 30 ago, but D1 comes before T1
    ['11:30', 5, 'D1', 'needs-data', 'titration', 0.4, null, { missing: ['weight-stale'] }],
  ],
};

const missingEkg: Expectation = {
  file: 'missing-ekg.json',
  patientId: 'missing-ekg-patient',
  encounterId: 'missing-ekg-encounter',
  start: '2026-10-19T10:00:00Z',
  // prettier-ignore
  rows: [
    ['0:00', 8, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['ekg-missing'] }],
    ['1:30', 8, 'S3', 'start', 'not-started', 0, 0.1], // EKG charted at 1:00
  ],
};

const positivePregnancyTest: Expectation = {
  file: 'positive-pregnancy-test.json',
  patientId: 'positive-pregnancy-test-patient',
  encounterId: 'positive-pregnancy-test-encounter',
  start: '2026-10-26T10:00:00Z',
  // prettier-ignore
  rows: [['0:00', 9, 'S1', 'contraindicated', 'not-started', 0, null, { contraindications: ['pregnancy-test-positive'] }]],
};

const hallucinationAfterIncrease: Expectation = {
  file: 'hallucination-after-increase.json',
  patientId: 'hallucination-after-increase-patient',
  encounterId: 'hallucination-after-increase-encounter',
  start: '2026-11-02T10:10:00Z',
  // prettier-ignore
  rows: [
    ['-0:10', 9, 'S3', 'start', 'not-started', 0, 0.1],
    ['3:10', 8, 'T8', 'increase', 'titration', 0.1, 0.2],
    ['6:30', 7, 'T8', 'increase', 'titration', 0.2, 0.3],
    ['9:50', 6, 'T8', 'increase', 'titration', 0.3, 0.4],
    ['11:00', 6, 'A1', 'decrease', 'titration', 0.4, 0.3], // AdverseEvent 7011001 at 10:50; increase at 10:00
    ['12:00', 6, 'T1', 'hold', 'titration', 0.3, 0.3], // decreased 11:10
    ['14:20', 6, 'T7', 'hold', 'titration', 0.3, 0.3], // 0.4 > max tolerated 0.3
  ],
};

const sbp190: Expectation = {
  file: 'sbp-190.json',
  patientId: 'sbp-190-patient',
  encounterId: 'sbp-190-encounter',
  start: '2026-11-09T10:10:00Z',
  // prettier-ignore
  rows: [
    ['-0:55', 9, 'S1', 'contraindicated', 'not-started', 0, null, { contraindications: ['vital-breach'] }], // SBP 190 at -1:00
    ['-0:10', 9, 'S3', 'start', 'not-started', 0, 0.1], // SBP 142 at -0:20
    ['3:10', 7, 'T8', 'increase', 'titration', 0.1, 0.2],
    ['6:30', 6, 'A2', 'decrease', 'titration', 0.2, 0.1], // SBP 190 at 6:20
    ['8:00', 6, 'T1', 'hold', 'titration', 0.1, 0.1], // normal BP at 8:00; decreased 6:40
  ],
};

const ceilingReached: Expectation = {
  file: 'ceiling-reached.json',
  patientId: 'ceiling-reached-patient',
  encounterId: 'ceiling-reached-encounter',
  start: '2026-11-16T09:10:00Z',
  // prettier-ignore
  rows: [
    ['-0:10', 9, 'S3', 'start', 'not-started', 0, 0.1],
    ['3:10', 8, 'T8', 'increase', 'titration', 0.1, 0.2],
    ['6:30', 8, 'T8', 'increase', 'titration', 0.2, 0.3],
    ['9:50', 7, 'T8', 'increase', 'titration', 0.3, 0.4],
    ['13:10', 7, 'T8', 'increase', 'titration', 0.4, 0.5], // 0.5 is not above softMaxRate 0.5
    ['16:30', 7, 'T8', 'increase', 'titration', 0.5, 0.6, { aboveSoftMax: true }],
    ['19:50', 6, 'T8', 'increase', 'titration', 0.6, 0.7, { aboveSoftMax: true }],
    ['23:10', 6, 'T8', 'increase', 'titration', 0.7, 0.8, { aboveSoftMax: true }],
    ['26:30', 6, 'T8', 'increase', 'titration', 0.8, 0.9, { aboveSoftMax: true }],
    ['29:50', 6, 'T8', 'increase', 'titration', 0.9, 1.0, { aboveSoftMax: true }], // 1.0 does not exceed hardMaxRate
    ['33:10', 6, 'T7', 'hold', 'titration', 1.0, 1.0], // 1.1 would exceed hardMaxRate 1.0
  ],
};

const vasInMm: Expectation = {
  file: 'vas-in-mm.json',
  patientId: 'vas-in-mm-patient',
  encounterId: 'vas-in-mm-encounter',
  start: '2026-11-23T10:10:00Z',
  // prettier-ignore
  rows: [
    ['-1:50', 85, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['weight-missing', 'ekg-missing', 'pregnancy-test-missing'] }],
    ['-0:10', 80, 'S3', 'start', 'not-started', 0, 0.1],
    ['3:10', 72, 'T8', 'increase', 'titration', 0.1, 0.2], // 72 mm = 7.2
    ['6:30', 25, 'T6', 'hold', 'titration', 0.2, 0.2], // valueInteger 25 on 38214-3 (> 10) = 2.5
    ['9:40', 45, 'T8', 'increase', 'titration', 0.2, 0.3, { overdue: true }], // 45 mm = 4.5; 6 h 20 since change
  ],
};

const rateInMlPerHour: Expectation = {
  file: 'rate-in-ml-per-hour.json',
  patientId: 'rate-in-ml-per-hour-patient',
  encounterId: 'rate-in-ml-per-hour-encounter',
  start: '2026-11-30T10:10:00Z',
  // prettier-ignore
  rows: [
    ['-0:10', 8, 'S3', 'start', 'not-started', 0, 0.1],
    ['3:10', 7, 'T8', 'increase', 'titration', 0.1, 0.2], // 3.5 mL/h × 2 mg/mL ÷ 70 kg
    ['6:30', 6, 'T8', 'increase', 'titration', 0.2, 0.3], // 7 mL/h
    ['9:50', 6, 'T8', 'increase', 'titration', 0.3, 0.4], // 10.5 mL/h
  ],
};

/**
 * Not an inpatient encounter and no ketamine order: docs/clinical-specification.md §3 shows the candidate card on
 * patient-view only for an inpatient encounter or an existing order. The rule that would apply is S3
 * (everything is ready); the action is `none` (no card) and no rate is recommended.
 */
const notInpatient: Expectation = {
  file: 'not-inpatient.json',
  patientId: 'not-inpatient-patient',
  encounterId: 'not-inpatient-encounter',
  start: '2026-12-07T15:00:00Z',
  // prettier-ignore
  rows: [['0:00', 7, 'S3', 'none', 'not-started', 0, null]],
};

const maleNoPregnancyTest: Expectation = {
  file: 'male-no-pregnancy-test.json',
  patientId: 'male-no-pregnancy-test-patient',
  encounterId: 'male-no-pregnancy-test-encounter',
  start: '2026-12-14T10:00:00Z',
  // prettier-ignore
  rows: [['0:00', 8, 'S3', 'start', 'not-started', 0, 0.1]],
};

/** P0: no chronic migraine → `none`, whatever else is charted (phase not asserted). */
const otherIndication: Expectation = {
  file: 'other-indication.json',
  patientId: 'other-indication-patient',
  encounterId: 'other-indication-encounter',
  start: '2026-12-21T10:10:00Z',
  // prettier-ignore
  rows: [
    ['-0:10', 8, 'P0', 'none', null, 0, null],
    ['3:10', 7, 'P0', 'none', null, 0.1, null],
    ['6:30', 6, 'P0', 'none', null, 0.2, null],
  ],
};

export const BOUNDARY_EXPECTATIONS: readonly Expectation[] = [
  staleWeight,
  missingEkg,
  positivePregnancyTest,
  hallucinationAfterIncrease,
  sbp190,
  ceilingReached,
  vasInMm,
  rateInMlPerHour,
  notInpatient,
  maleNoPregnancyTest,
  otherIndication,
];
