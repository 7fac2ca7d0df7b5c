/**
 * Case 4 (Table 1: 54/F, admission VAS 9, 0.12 mg/kg/h at target, 12 h).
 * Pump charted in mL/h of a 200 mg/100 mL bag (2 mg/mL) at 75 kg: 4.5 mL/h = 9 mg/h = 0.12 mg/kg/h.
 * The EKG was done in the emergency department before admission. Infusion starts 2026-05-11T10:10Z.
 * Written from docs/clinical-specification.md §3: in taper phase 0.12 − 0.2 ≤ 0, so the taper is a stop (T5).
 */
import type { Expectation } from './types';

export const case4: Expectation = {
  file: 'case4-chronic-migraine-ml-per-hour.json',
  patientId: 'case4-patient',
  encounterId: 'case4-encounter',
  start: '2026-05-11T10:10:00Z',
  reported: { rateAtTarget: 0.12, hoursToTarget: 12 },
  // prettier-ignore
  rows: [
    ['-1:50', 9, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['weight-missing', 'pregnancy-test-missing'] }],
    ['-0:10', 9, 'S3', 'start', 'not-started', 0, 0.1],
    ['1:30', 6, 'T1', 'hold', 'titration', 0.12, 0.12],
    ['3:10', 3, 'T6', 'hold', 'titration', 0.12, 0.12], // run starts
    ['7:00', 2, 'T6', 'hold', 'titration', 0.12, 0.12],
    ['10:30', 2, 'T6', 'hold', 'titration', 0.12, 0.12], // run 7 h 20
    ['12:00', 1, 'T5', 'stop', 'taper', 0.12, 0], // run 8 h 50: target at 12 h, and 0.12 − 0.2 ≤ 0
    ['14:00', 1, 'X1', 'completed', 'stopped', 0, null], // stopped 12:10
  ],
};
