/**
 * Case 3 (Table 1: 31/M, admission VAS 9, 0.41 mg/kg/h at target, 20 h).
 * Pump charted in mL/h of a 100 mg/100 mL bag (1 mg/mL) at 91 kg: 10 mL/h = 0.11, 19.1 = 0.21,
 * 28.2 = 0.31, 37.3 = 0.41, 0.9 = 0.01 mg/kg/h. A man: no pregnancy test is needed.
 * Infusion starts 2026-04-13T09:40Z. Written from docs/clinical-specification.md §3.
 */
import type { Expectation } from './types';

export const case3: Expectation = {
  file: 'case3-chronic-migraine-ml-per-hour.json',
  patientId: 'case3-patient',
  encounterId: 'case3-encounter',
  start: '2026-04-13T09:40:00Z',
  reported: { rateAtTarget: 0.41, hoursToTarget: 20 },
  // prettier-ignore
  rows: [
    ['-1:50', 9, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['weight-missing', 'ekg-missing'] }],
    ['-0:10', 9, 'S3', 'start', 'not-started', 0, 0.1],
    ['1:30', 9, 'T1', 'hold', 'titration', 0.11, 0.11],
    ['3:05', 8, 'T8', 'increase', 'titration', 0.11, 0.21],
    ['5:00', 7, 'T1', 'hold', 'titration', 0.21, 0.21], // changed 3:15
    ['6:20', 6, 'T8', 'increase', 'titration', 0.21, 0.31], // 3 h 05 since change
    ['8:00', 5, 'T1', 'hold', 'titration', 0.31, 0.31], // changed 6:30
    ['9:35', 5, 'T8', 'increase', 'titration', 0.31, 0.41],
    ['11:30', 3, 'T1', 'hold', 'titration', 0.41, 0.41], // changed 9:45; the ≤ 3 run starts here
    ['14:50', 2, 'T6', 'hold', 'titration', 0.41, 0.41],
    ['17:50', 2, 'T6', 'hold', 'titration', 0.41, 0.41], // run 6 h 20
    ['20:00', 1, 'T4', 'taper', 'taper', 0.41, 0.21], // run 8 h 30: target at 20 h
    ['22:00', 1, 'T1', 'hold', 'taper', 0.21, 0.21], // changed 20:10
    ['23:15', 1, 'T4', 'taper', 'taper', 0.21, 0.01],
    ['26:30', 1, 'T5', 'stop', 'taper', 0.01, 0], // changed 23:25
    ['28:00', 0, 'X1', 'completed', 'stopped', 0, null],
  ],
};
