/**
 * Case 6 (Table 1: 47/F, admission VAS 9, 0.34 mg/kg/h at target, 82 h): the paper's out-of-body
 * hallucination after an increase, which resolved after decreasing the rate.
 * Charted in mg/kg/h at 72 kg from an off-grid 0.14. At 19:05, 55 min after the increase to 0.44, an
 * Observation coded SNOMED 7011001 → A1 (0.44 − 0.1 = 0.34); max tolerated rate 0.34 for the rest of
 * the infusion (docs/clinical-specification.md §2), so pain > 3 at 0.34 gives T7. Infusion starts 2026-09-14T10:10Z.
 */
import type { Expectation } from './types';

export const case6: Expectation = {
  file: 'case6-chronic-migraine-hallucination.json',
  patientId: 'case6-patient',
  encounterId: 'case6-encounter',
  start: '2026-09-14T10:10:00Z',
  reported: { rateAtTarget: 0.34, hoursToTarget: 82 },
  // prettier-ignore
  rows: [
    ['-1:50', 9, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['weight-missing', 'ekg-missing', 'pregnancy-test-missing'] }],
    ['-0:10', 9, 'S3', 'start', 'not-started', 0, 0.1],
    ['1:40', 9, 'T1', 'hold', 'titration', 0.14, 0.14],
    ['3:10', 8, 'T8', 'increase', 'titration', 0.14, 0.24],
    ['5:00', 7, 'T1', 'hold', 'titration', 0.24, 0.24], // changed 3:20
    ['6:30', 7, 'T8', 'increase', 'titration', 0.24, 0.34],
    ['8:30', 5, 'T1', 'hold', 'titration', 0.34, 0.34], // changed 6:40
    ['9:50', 3, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['13:00', 3, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['16:30', 3, 'T6', 'hold', 'titration', 0.34, 0.34], // run 6 h 40
    ['18:00', 6, 'T8', 'increase', 'titration', 0.34, 0.44, { overdue: true }], // 11 h 20 since change
    ['19:10', 6, 'A1', 'decrease', 'titration', 0.44, 0.34], // hallucination 19:05
    ['21:00', 6, 'T1', 'hold', 'titration', 0.34, 0.34], // changed 19:20
    ['22:30', 5, 'T7', 'hold', 'titration', 0.34, 0.34], // 0.44 > max tolerated 0.34
    ['26:00', 4, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['29:30', 3, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['33:00', 3, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['36:30', 5, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['40:00', 4, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['43:30', 3, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['47:00', 2, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['50:30', 3, 'T6', 'hold', 'titration', 0.34, 0.34], // run 7 h
    ['52:00', 5, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['55:30', 4, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['59:00', 3, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['62:30', 3, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['65:00', 6, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['68:30', 4, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['72:00', 4, 'T7', 'hold', 'titration', 0.34, 0.34],
    ['73:50', 3, 'T6', 'hold', 'titration', 0.34, 0.34], // run starts
    ['77:50', 2, 'T6', 'hold', 'titration', 0.34, 0.34],
    ['82:00', 2, 'T4', 'taper', 'taper', 0.34, 0.14], // run 8 h 10: target at 82 h
    ['84:00', 2, 'T1', 'hold', 'taper', 0.14, 0.14], // changed 82:10
    ['85:20', 1, 'T5', 'stop', 'taper', 0.14, 0],
    ['87:00', 1, 'X1', 'completed', 'stopped', 0, null],
  ],
};
