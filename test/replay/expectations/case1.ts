/**
 * Case 1 (Table 1: 42/F, admission VAS 10, 0.42 mg/kg/h at target, 36 h to maintain VAS ≤ 3 for 8 h).
 * Pump charted in mg/h at 83 kg: 10 mg/h = 0.12, 18.3 = 0.22, 26.6 = 0.32, 34.9 = 0.42, 1.7 = 0.02 mg/kg/h.
 * Infusion starts 2026-02-09T10:10Z; each rate change is charted 10 min after the assessment that led to it.
 *
 * Written from docs/clinical-specification.md §3: T1 while < 3 h since the last change; T6 while the latest pain ≤ 3 and the
 * ≤ 3 run spans < 8 h; T8 (+0.1 from the ACTUAL rate, 0.12 → 0.22) when pain > 3; overdue when > 4 h
 * since the change; taper phase once a ≤ 3 run spans ≥ 8 h (27:45 → 36:00); T4 −0.2; T5 when ≤ 0.
 */
import type { Expectation } from './types';

export const case1: Expectation = {
  file: 'case1-chronic-migraine-mg-per-hour.json',
  patientId: 'case1-patient',
  encounterId: 'case1-encounter',
  start: '2026-02-09T10:10:00Z',
  reported: { rateAtTarget: 0.42, hoursToTarget: 36 },
  // prettier-ignore
  rows: [
    // [at, charted pain, rule, action, phase, current rate, recommended rate, extras?]
    ['-1:50', 10, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['weight-missing', 'ekg-missing', 'pregnancy-test-missing'] }],
    ['-0:10', 10, 'S3', 'start', 'not-started', 0, 0.1],
    ['1:30', 9, 'T1', 'hold', 'titration', 0.12, 0.12], // started 0:00 (10 mg/h)
    ['3:30', 8, 'T8', 'increase', 'titration', 0.12, 0.22], // 3 h 30 since start; 0.12 + 0.1
    ['5:30', 6, 'T1', 'hold', 'titration', 0.22, 0.22], // changed 3:40
    ['6:50', 3, 'T6', 'hold', 'titration', 0.22, 0.22], // run starts
    ['10:30', 2, 'T6', 'hold', 'titration', 0.22, 0.22], // run 3 h 40
    ['13:00', 5, 'T8', 'increase', 'titration', 0.22, 0.32, { overdue: true }], // rebound; 9 h 20 since change
    ['15:00', 5, 'T1', 'hold', 'titration', 0.32, 0.32], // changed 13:10
    ['16:15', 3, 'T6', 'hold', 'titration', 0.32, 0.32],
    ['19:30', 3, 'T6', 'hold', 'titration', 0.32, 0.32],
    ['22:30', 2, 'T6', 'hold', 'titration', 0.32, 0.32], // run 6 h 15
    ['24:15', 6, 'T8', 'increase', 'titration', 0.32, 0.42, { overdue: true }], // rebound; 11 h 05 since change
    ['26:00', 5, 'T1', 'hold', 'titration', 0.42, 0.42], // changed 24:25
    ['27:45', 3, 'T6', 'hold', 'titration', 0.42, 0.42], // run starts (3 h 20 since change)
    ['32:00', 2, 'T6', 'hold', 'titration', 0.42, 0.42], // run 4 h 15
    ['36:00', 1, 'T4', 'taper', 'taper', 0.42, 0.22], // run 8 h 15: sustained target at 36 h
    ['38:00', 2, 'T1', 'hold', 'taper', 0.22, 0.22], // changed 36:10
    ['39:15', 2, 'T4', 'taper', 'taper', 0.22, 0.02], // 3 h 05 since change
    ['42:30', 2, 'T5', 'stop', 'taper', 0.02, 0], // 0.02 − 0.2 ≤ 0
    ['45:00', 1, 'X1', 'completed', 'stopped', 0, null], // stopped 42:40
  ],
};
