/**
 * Case 5 (Table 1: 30/F, admission VAS 9, 0.35 mg/kg/h at target, 73 h).
 * Charted in mg/kg/h at 60 kg. At 9:50 the protocol says 0.4; the attending charts a half step (0.35).
 * At 22:05, 55 min after the increase to 0.45, dizziness is charted as an AdverseEvent whose suspect is
 * the running ketamine administration: docs/clinical-specification.md §2 counts "any AdverseEvent whose suspectEntity is
 * ketamine" as a psychotomimetic effect → A1 (0.45 − 0.1 = 0.35), and the max tolerated rate is then
 * 0.45 − 0.1 = 0.35 for the rest of the infusion: pain > 3 at 0.35 gives T7 (hold), not T8.
 * Infusion starts 2026-06-08T12:10Z.
 */
import type { Expectation } from './types';

export const case5: Expectation = {
  file: 'case5-chronic-migraine-adverse-event.json',
  patientId: 'case5-patient',
  encounterId: 'case5-encounter',
  start: '2026-06-08T12:10:00Z',
  reported: { rateAtTarget: 0.35, hoursToTarget: 73 },
  // prettier-ignore
  rows: [
    ['-1:50', 9, 'S2', 'needs-data', 'not-started', 0, null, { missing: ['weight-missing', 'ekg-missing', 'pregnancy-test-missing'] }],
    ['-0:10', 9, 'S3', 'start', 'not-started', 0, 0.1],
    ['1:30', 9, 'T1', 'hold', 'titration', 0.1, 0.1],
    ['3:10', 8, 'T8', 'increase', 'titration', 0.1, 0.2],
    ['5:00', 7, 'T1', 'hold', 'titration', 0.2, 0.2], // changed 3:20
    ['6:30', 6, 'T8', 'increase', 'titration', 0.2, 0.3],
    ['8:30', 5, 'T1', 'hold', 'titration', 0.3, 0.3], // changed 6:40
    ['9:50', 5, 'T8', 'increase', 'titration', 0.3, 0.4], // the attending gives 0.35 at 10:00
    ['12:00', 5, 'T1', 'hold', 'titration', 0.35, 0.35],
    ['13:10', 3, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['16:10', 3, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['19:30', 2, 'T6', 'hold', 'titration', 0.35, 0.35], // run 6 h 20
    ['21:00', 6, 'T8', 'increase', 'titration', 0.35, 0.45, { overdue: true }], // 11 h since change
    ['22:10', 5, 'A1', 'decrease', 'titration', 0.45, 0.35], // dizziness 22:05, suspect = running ketamine
    ['24:00', 5, 'T1', 'hold', 'titration', 0.35, 0.35], // changed 22:20
    ['25:30', 5, 'T7', 'hold', 'titration', 0.35, 0.35], // 0.45 > max tolerated 0.35
    ['28:30', 4, 'T7', 'hold', 'titration', 0.35, 0.35],
    ['32:00', 3, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['35:30', 3, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['39:00', 4, 'T7', 'hold', 'titration', 0.35, 0.35],
    ['42:00', 3, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['45:30', 2, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['49:00', 3, 'T6', 'hold', 'titration', 0.35, 0.35], // run 7 h
    ['51:00', 5, 'T7', 'hold', 'titration', 0.35, 0.35],
    ['54:00', 4, 'T7', 'hold', 'titration', 0.35, 0.35],
    ['57:00', 3, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['61:00', 3, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['64:00', 5, 'T7', 'hold', 'titration', 0.35, 0.35],
    ['64:50', 3, 'T6', 'hold', 'titration', 0.35, 0.35], // run starts
    ['69:00', 2, 'T6', 'hold', 'titration', 0.35, 0.35],
    ['73:00', 2, 'T4', 'taper', 'taper', 0.35, 0.15], // run 8 h 10: target at 73 h
    ['75:00', 2, 'T1', 'hold', 'taper', 0.15, 0.15], // changed 73:10
    ['76:20', 2, 'T5', 'stop', 'taper', 0.15, 0],
    ['78:00', 1, 'X1', 'completed', 'stopped', 0, null],
  ],
};
