/**
 * Case 2 (Table 1: 29/F, admission VAS 10, 0.38 mg/kg/h at target, 40 h).
 * Pump charted in mg/h at 68 kg: 5.5 mg/h = 0.08, 12.2 = 0.18, 19.0 = 0.28, 25.8 = 0.38 mg/kg/h.
 * Infusion starts 2026-03-16T11:10Z. Written from docs/clinical-specification.md §3 (see case1.ts for the rules used).
 */
import type { Expectation } from './types';

export const case2: Expectation = {
  file: 'case2-chronic-migraine-mg-per-hour.json',
  patientId: 'case2-patient',
  encounterId: 'case2-encounter',
  start: '2026-03-16T11:10:00Z',
  reported: { rateAtTarget: 0.38, hoursToTarget: 40 },
  // prettier-ignore
  rows: [
    ['-1:50', 10, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['weight-missing', 'ekg-missing', 'pregnancy-test-missing'] }],
    ['-0:10', 10, 'S3', 'start', 'not-started', 0, 0.1],
    ['1:45', 9, 'T1', 'hold', 'titration', 0.08, 0.08],
    ['3:10', 8, 'T8', 'increase', 'titration', 0.08, 0.18],
    ['5:00', 6, 'T1', 'hold', 'titration', 0.18, 0.18], // changed 3:20
    ['6:30', 3, 'T6', 'hold', 'titration', 0.18, 0.18],
    ['9:30', 3, 'T6', 'hold', 'titration', 0.18, 0.18],
    ['12:30', 2, 'T6', 'hold', 'titration', 0.18, 0.18], // run 6 h
    ['14:00', 5, 'T8', 'increase', 'titration', 0.18, 0.28, { overdue: true }], // 10 h 40 since change
    ['16:00', 5, 'T1', 'hold', 'titration', 0.28, 0.28], // changed 14:10
    ['17:20', 3, 'T6', 'hold', 'titration', 0.28, 0.28],
    ['20:30', 3, 'T6', 'hold', 'titration', 0.28, 0.28],
    ['24:00', 2, 'T6', 'hold', 'titration', 0.28, 0.28], // run 6 h 40
    ['26:00', 6, 'T8', 'increase', 'titration', 0.28, 0.38, { overdue: true }],
    ['28:00', 5, 'T1', 'hold', 'titration', 0.38, 0.38], // changed 26:10
    ['29:20', 3, 'T6', 'hold', 'titration', 0.38, 0.38],
    ['33:00', 2, 'T6', 'hold', 'titration', 0.38, 0.38],
    ['37:00', 2, 'T6', 'hold', 'titration', 0.38, 0.38], // run 7 h 40: not yet
    ['40:00', 1, 'T4', 'taper', 'taper', 0.38, 0.18], // run 10 h 40: target at 40 h
    ['42:00', 1, 'T1', 'hold', 'taper', 0.18, 0.18], // changed 40:10
    ['43:15', 1, 'T5', 'stop', 'taper', 0.18, 0], // 0.18 − 0.2 ≤ 0
    ['45:00', 1, 'X1', 'completed', 'stopped', 0, null],
  ],
};
