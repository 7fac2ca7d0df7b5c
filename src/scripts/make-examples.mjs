// Writes the example patients of fhir-resources/examples/ (one FHIR R4 transaction Bundle per patient,
// PUT entries with stable ids, so loading twice is idempotent) and their manifest index.json.
//
//   node src/scripts/make-examples.mjs          regenerate (deterministic: same input, same bytes)
//   node src/scripts/make-examples.mjs --check  exit 1 when a committed file differs from what it would write
//
// Each patient is a HAND-WRITTEN chart timeline below: what a nurse and a pump would have charted
// (rates in the unit the ward charts, pain scores, vitals, tests, adverse events). The chart builder
// (test/support/chart.ts) turns the timeline into FHIR resources; nothing computes a protocol decision. The recommendations
// expected at each pain assessment are written by hand, separately, from docs/clinical-specification.md, in
// test/replay/expectations/ (the replay tests compare them to the real evaluator + decision core).
//
// Times in a timeline are offsets 'h:mm' (or '-h:mm') from the spec's `start` (the infusion start for
// infused patients), in UTC.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT_DIR = path.join(root, 'fhir-resources', 'examples');

// The timelines are turned into FHIR by the one chart builder, test/support/chart.ts (shared with the tests
// and the benchmark). It is TypeScript: compiled here on the fly by swc (as jest does), so that this script
// runs without a build.
const require = createRequire(import.meta.url);
Module._extensions['.ts'] ??= (module, filename) =>
  module._compile(
    transformSync(readFileSync(filename, 'utf8'), {
      filename,
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
      module: { type: 'commonjs' },
    }).code,
    filename,
  );
const { chartBundle, COMORBIDITY, iso, MIGRAINE, offsetMs } = require('../../test/support/chart.ts');

// ---------------------------------------------------------------------------------------------------
// The six patients of the case series (Lauritsen et al. 2016, Table 1)
// ---------------------------------------------------------------------------------------------------

/** Admission work-up common to the series: admission VAS, weight, EKG, pregnancy test (women), consent, baseline VAS, order. */
function workup({ admissionVas, weightKg, female, ekg = 'Observation', ekgAt = '-1:15', orderRate }) {
  return [
    ['-1:50', 'pain', admissionVas],
    ['-1:30', 'weight', weightKg],
    ...(ekgAt === null ? [] : [[ekgAt, 'ekg', ekg]]),
    ...(female ? [['-1:00', 'pregnancy-test', 'negative']] : []),
    ['-0:40', 'consent'],
    ['-0:10', 'pain', admissionVas],
    ['-0:05', 'order', orderRate],
  ];
}

const CASES = [
  {
    key: 'case1',
    file: 'case1-chronic-migraine-mg-per-hour.json',
    kind: 'case-series',
    mrn: 'KET-CS-0001',
    title: 'Case 1: 42-year-old woman, 0.42 mg/kg/h at target after 36 h (pump charted in mg/h)',
    description:
      'Case series patient 1 (42/F; migraine since age 26; depression, panic attacks, chronic back pain; admission VAS 10). ' +
      'Pump charted in mg/h at 83 kg: started at 10 mg/h (0.12 mg/kg/h, off the 0.1 grid), then 18.3 / 26.6 / 34.9 mg/h ' +
      '(0.22 / 0.32 / 0.42). Relief at 0.22 and 0.32 rebounded after a few hours (each time an overdue step). ' +
      'Pain <= 3 from 27:45 to 36:00 at 0.42 mg/kg/h: sustained target at 36 h; tapered 0.42 -> 0.22 -> 0.02 -> stop.',
    admission: '2026-02-09T08:00:00Z',
    start: '2026-02-09T10:10:00Z',
    patient: { family: 'Example', given: 'Case One', gender: 'female', birthDate: '1983-06-21' },
    conditions: [
      { key: 'migraine', code: MIGRAINE, onsetAge: 26 },
      { key: 'depression', code: COMORBIDITY.depression },
      { key: 'panic', code: COMORBIDITY.panic },
      { key: 'back-pain', code: COMORBIDITY.backPain },
    ],
    chart: {
      unit: 'mg/h',
      // The bag the patients of the series would have had (the paper gives no strength): named on cards.
      medication: { text: 'Ketamine 100 mg in sodium chloride 0.9% 100 mL (1 mg/mL)', mg: 100, ml: 100 },
    },
    painCode: '38214-3',
    bp: 'panel',
    timeline: [
      ...workup({ admissionVas: 10, weightKg: 83, female: true, orderRate: 10 }),
      ['0:00', 'rate', 10],
      ['1:30', 'pain', 9],
      ['3:30', 'pain', 8],
      ['3:40', 'rate', 18.3],
      ['5:30', 'pain', 6],
      ['6:50', 'pain', 3],
      ['10:30', 'pain', 2],
      ['13:00', 'pain', 5],
      ['13:10', 'rate', 26.6],
      ['15:00', 'pain', 5],
      ['16:15', 'pain', 3],
      ['19:30', 'pain', 3],
      ['22:30', 'pain', 2],
      ['24:15', 'pain', 6],
      ['24:25', 'rate', 34.9],
      ['26:00', 'pain', 5],
      ['27:45', 'pain', 3],
      ['32:00', 'pain', 2],
      ['36:00', 'pain', 1],
      ['36:10', 'rate', 18.3],
      ['38:00', 'pain', 2],
      ['39:15', 'pain', 2],
      ['39:25', 'rate', 1.7],
      ['42:30', 'pain', 2],
      ['42:40', 'stop'],
      ['45:00', 'pain', 1],
    ],
    scenarios: [
      ['-1:50', 'Admission: weight, EKG and pregnancy test pending', 'S2'],
      ['-0:10', 'Work-up complete: start suggested', 'S3'],
      ['3:30', 'First step from the off-grid 0.12 mg/kg/h', 'T8'],
      ['13:00', 'Rebound after relief at 0.22 (step overdue)', 'T8'],
      ['36:00', 'Pain <= 3 for 8 h at 0.42 mg/kg/h: taper', 'T4'],
      ['42:30', 'Taper reaches 0: stop', 'T5'],
      ['45:00', 'Infusion completed', 'X1'],
    ],
  },
  {
    key: 'case2',
    file: 'case2-chronic-migraine-mg-per-hour.json',
    kind: 'case-series',
    mrn: 'KET-CS-0002',
    title: 'Case 2: 29-year-old woman, 0.38 mg/kg/h at target after 40 h',
    description:
      'Case series patient 2 (29/F; migraine since age 15; panic attacks; admission VAS 10). Pump charted in mg/h at 68 kg: ' +
      'started at 5.5 mg/h (0.08 mg/kg/h: the pump was programmed from the 55 kg the patient reported), then 12.2 / 19.0 / 25.8 mg/h ' +
      '(0.18 / 0.28 / 0.38). Relief at 0.18 and 0.28 rebounded; pain <= 3 from 29:20 to 40:00 at 0.38: target at 40 h; ' +
      'tapered 0.38 -> 0.18 -> stop. Blood pressure charted as separate systolic/diastolic observations; EKG as a DiagnosticReport.',
    admission: '2026-03-16T09:00:00Z',
    start: '2026-03-16T11:10:00Z',
    patient: { family: 'Example', given: 'Case Two', gender: 'female', birthDate: '1996-08-02' },
    conditions: [
      { key: 'migraine', code: MIGRAINE, onsetAge: 15 },
      { key: 'panic', code: COMORBIDITY.panic },
    ],
    chart: {
      unit: 'mg/h',
      // The bag the patients of the series would have had (the paper gives no strength): named on cards.
      medication: { text: 'Ketamine 100 mg in sodium chloride 0.9% 100 mL (1 mg/mL)', mg: 100, ml: 100 },
    },
    painCode: '72514-3',
    bp: 'separate',
    timeline: [
      ...workup({ admissionVas: 10, weightKg: 68, female: true, ekg: 'DiagnosticReport', orderRate: 5.5 }),
      ['0:00', 'rate', 5.5],
      ['1:45', 'pain', 9],
      ['3:10', 'pain', 8],
      ['3:20', 'rate', 12.2],
      ['5:00', 'pain', 6],
      ['6:30', 'pain', 3],
      ['9:30', 'pain', 3],
      ['12:30', 'pain', 2],
      ['14:00', 'pain', 5],
      ['14:10', 'rate', 19.0],
      ['16:00', 'pain', 5],
      ['17:20', 'pain', 3],
      ['20:30', 'pain', 3],
      ['24:00', 'pain', 2],
      ['26:00', 'pain', 6],
      ['26:10', 'rate', 25.8],
      ['28:00', 'pain', 5],
      ['29:20', 'pain', 3],
      ['33:00', 'pain', 2],
      ['37:00', 'pain', 2],
      ['40:00', 'pain', 1],
      ['40:10', 'rate', 12.2],
      ['42:00', 'pain', 1],
      ['43:15', 'pain', 1],
      ['43:25', 'stop'],
      ['45:00', 'pain', 1],
    ],
    scenarios: [
      ['-1:50', 'Admission: weight, EKG and pregnancy test pending', 'S2'],
      ['-0:10', 'Work-up complete: start suggested', 'S3'],
      ['3:10', 'First step from the off-grid 0.08 mg/kg/h', 'T8'],
      ['26:00', 'Rebound at 0.28 (step overdue)', 'T8'],
      ['40:00', 'Pain <= 3 for 8 h at 0.38 mg/kg/h: taper', 'T4'],
      ['43:15', 'Taper reaches 0: stop', 'T5'],
      ['45:00', 'Infusion completed', 'X1'],
    ],
  },
  {
    key: 'case3',
    file: 'case3-chronic-migraine-ml-per-hour.json',
    kind: 'case-series',
    mrn: 'KET-CS-0003',
    title: 'Case 3: 31-year-old man, 0.41 mg/kg/h at target after 20 h (pump charted in mL/h)',
    description:
      'Case series patient 3 (31/M; migraine since age 19; complex regional pain syndrome; admission VAS 9). No pregnancy test (male). ' +
      'Pump charted in mL/h of a 100 mg/100 mL bag (a Medication with its strength) at 91 kg: 10 / 19.1 / 28.2 / 37.3 mL/h ' +
      '(0.11 / 0.21 / 0.31 / 0.41 mg/kg/h), a step every 3 h; pain <= 3 from 11:30 to 20:00: target at 20 h; ' +
      'tapered 0.41 -> 0.21 -> 0.01 -> stop (0.9 mL/h is 0.01 mg/kg/h).',
    admission: '2026-04-13T07:30:00Z',
    start: '2026-04-13T09:40:00Z',
    patient: { family: 'Example', given: 'Case Three', gender: 'male', birthDate: '1994-11-27' },
    conditions: [
      { key: 'migraine', code: MIGRAINE, onsetAge: 19 },
      { key: 'crps', code: COMORBIDITY.crps },
    ],
    chart: {
      unit: 'mL/h',
      medication: { text: 'Ketamine 100 mg in sodium chloride 0.9% 100 mL (1 mg/mL)', mg: 100, ml: 100 },
    },
    painCode: '38214-3',
    bp: 'panel',
    timeline: [
      ...workup({ admissionVas: 9, weightKg: 91, female: false, orderRate: 10 }),
      ['0:00', 'rate', 10],
      ['1:30', 'pain', 9],
      ['3:05', 'pain', 8],
      ['3:15', 'rate', 19.1],
      ['5:00', 'pain', 7],
      ['6:20', 'pain', 6],
      ['6:30', 'rate', 28.2],
      ['8:00', 'pain', 5],
      ['9:35', 'pain', 5],
      ['9:45', 'rate', 37.3],
      ['11:30', 'pain', 3],
      ['14:50', 'pain', 2],
      ['17:50', 'pain', 2],
      ['20:00', 'pain', 1],
      ['20:10', 'rate', 19.1],
      ['22:00', 'pain', 1],
      ['23:15', 'pain', 1],
      ['23:25', 'rate', 0.9],
      ['26:30', 'pain', 1],
      ['26:40', 'stop'],
      ['28:00', 'pain', 0],
    ],
    scenarios: [
      ['-1:50', 'Admission: weight and EKG pending (no pregnancy test for a man)', 'S2'],
      ['-0:10', 'Work-up complete: start suggested', 'S3'],
      ['9:35', 'Third step, 28.2 -> 37.3 mL/h (0.31 -> 0.41 mg/kg/h)', 'T8'],
      ['20:00', 'Pain <= 3 for 8.5 h at 0.41 mg/kg/h: taper', 'T4'],
      ['23:15', 'Second taper step: 0.21 -> 0.01 mg/kg/h', 'T4'],
      ['26:30', 'Taper reaches 0: stop', 'T5'],
      ['28:00', 'Infusion completed', 'X1'],
    ],
  },
  {
    key: 'case4',
    file: 'case4-chronic-migraine-ml-per-hour.json',
    kind: 'case-series',
    mrn: 'KET-CS-0004',
    title: 'Case 4: 54-year-old woman, 0.12 mg/kg/h at target after 12 h (pump charted in mL/h)',
    description:
      'Case series patient 4 (54/F; migraine since age 8; no comorbidity; admission VAS 9; EKG done in the emergency department before admission). ' +
      'Pump charted in mL/h of a 200 mg/100 mL bag at 75 kg: 4.5 mL/h = 9 mg/h = 0.12 mg/kg/h (off-grid) from the start; ' +
      'pain <= 3 from 3:10 to 12:00: target at 12 h at 0.12; 0.12 - 0.2 <= 0 so the taper is a stop.',
    admission: '2026-05-11T08:00:00Z',
    start: '2026-05-11T10:10:00Z',
    patient: { family: 'Example', given: 'Case Four', gender: 'female', birthDate: '1971-09-03' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 8 }],
    chart: {
      unit: 'mL/h',
      medication: { text: 'Ketamine 200 mg in sodium chloride 0.9% 100 mL (2 mg/mL)', mg: 200, ml: 100 },
    },
    painCode: '72514-3',
    bp: 'separate',
    timeline: [
      ...workup({
        admissionVas: 9,
        weightKg: 75,
        female: true,
        ekg: 'DiagnosticReport',
        ekgAt: '-3:00',
        orderRate: 4.5,
      }),
      ['0:00', 'rate', 4.5],
      ['1:30', 'pain', 6],
      ['3:10', 'pain', 3],
      ['7:00', 'pain', 2],
      ['10:30', 'pain', 2],
      ['12:00', 'pain', 1],
      ['12:10', 'stop'],
      ['14:00', 'pain', 1],
    ],
    scenarios: [
      ['-1:50', 'Admission: weight and pregnancy test pending', 'S2'],
      ['-0:10', 'Work-up complete: start suggested', 'S3'],
      ['1:30', 'Pain 6/10 1 h 30 min into the infusion: hold until the next review', 'T1'],
      ['3:10', 'Pain 3/10 at 0.12 mg/kg/h: hold', 'T6'],
      ['12:00', 'Pain <= 3 for 8 h 50 min at 0.12 mg/kg/h: stop (0.12 - 0.2 <= 0)', 'T5'],
      ['14:00', 'Infusion completed', 'X1'],
    ],
  },
  {
    key: 'case5',
    file: 'case5-chronic-migraine-adverse-event.json',
    kind: 'case-series',
    mrn: 'KET-CS-0005',
    title: 'Case 5: 30-year-old woman, 0.35 mg/kg/h at target after 73 h (max tolerated rate after an adverse event)',
    description:
      'Case series patient 5 (30/F; migraine since age 10; depression, borderline personality disorder, chronic neck pain; admission VAS 9). ' +
      'Charted in mg/kg/h at 60 kg: 0.1 / 0.2 / 0.3, then the attending chose a half step to 0.35 (the protocol suggested 0.4). ' +
      'After a rebound, 0.45; 55 min later transient dizziness, charted as an AdverseEvent whose suspect is the running ketamine ' +
      'administration (a minor effect: the paper reports no other significant side effect) -> decrease to 0.35, the maximum tolerated rate. ' +
      'Pain fluctuated at the 0.35 ceiling until <= 3 from 64:50 to 73:00: target at 73 h; tapered 0.35 -> 0.15 -> stop.',
    admission: '2026-06-08T10:00:00Z',
    start: '2026-06-08T12:10:00Z',
    patient: { family: 'Example', given: 'Case Five', gender: 'female', birthDate: '1995-12-12' },
    conditions: [
      { key: 'migraine', code: MIGRAINE, onsetAge: 10 },
      { key: 'depression', code: COMORBIDITY.depression },
      { key: 'borderline', code: COMORBIDITY.borderline },
      { key: 'neck-pain', code: COMORBIDITY.neckPain },
    ],
    chart: {
      unit: 'mg/kg/h',
      // The bag the patients of the series would have had (the paper gives no strength): named on cards.
      medication: { text: 'Ketamine 100 mg in sodium chloride 0.9% 100 mL (1 mg/mL)', mg: 100, ml: 100 },
    },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ...workup({ admissionVas: 9, weightKg: 60, female: true, orderRate: 0.1 }),
      ['0:00', 'rate', 0.1],
      ['1:30', 'pain', 9],
      ['3:10', 'pain', 8],
      ['3:20', 'rate', 0.2],
      ['5:00', 'pain', 7],
      ['6:30', 'pain', 6],
      ['6:40', 'rate', 0.3],
      ['8:30', 'pain', 5],
      ['9:50', 'pain', 5],
      ['10:00', 'rate', 0.35],
      ['12:00', 'pain', 5],
      ['13:10', 'pain', 3],
      ['16:10', 'pain', 3],
      ['19:30', 'pain', 2],
      ['21:00', 'pain', 6],
      ['21:10', 'rate', 0.45],
      [
        '22:05',
        'adverse-event',
        { code: '404640003', display: 'Dizziness', text: 'Transient dizziness after the rate increase' },
        { suspectCurrentAdministration: true },
      ],
      ['22:10', 'pain', 5],
      ['22:20', 'rate', 0.35],
      ['24:00', 'pain', 5],
      ['25:30', 'pain', 5],
      ['28:30', 'pain', 4],
      ['32:00', 'pain', 3],
      ['35:30', 'pain', 3],
      ['39:00', 'pain', 4],
      ['42:00', 'pain', 3],
      ['45:30', 'pain', 2],
      ['49:00', 'pain', 3],
      ['51:00', 'pain', 5],
      ['54:00', 'pain', 4],
      ['57:00', 'pain', 3],
      ['61:00', 'pain', 3],
      ['64:00', 'pain', 5],
      ['64:50', 'pain', 3],
      ['69:00', 'pain', 2],
      ['73:00', 'pain', 2],
      ['73:10', 'rate', 0.15],
      ['75:00', 'pain', 2],
      ['76:20', 'pain', 2],
      ['76:30', 'stop'],
      ['78:00', 'pain', 1],
    ],
    scenarios: [
      ['-0:10', 'Work-up complete: start suggested', 'S3'],
      ['9:50', 'Step suggested to 0.4 (the attending gives 0.35)', 'T8'],
      ['21:00', 'Rebound at 0.35: step to 0.45', 'T8'],
      ['22:10', 'Dizziness charted against the running ketamine: decrease', 'A1'],
      ['25:30', 'Pain 5/10 at the maximum tolerated rate 0.35: hold', 'T7'],
      ['73:00', 'Pain <= 3 for 8 h 10 min at 0.35 mg/kg/h: taper', 'T4'],
      ['76:20', 'Taper reaches 0: stop', 'T5'],
      ['78:00', 'Infusion completed', 'X1'],
    ],
  },
  {
    key: 'case6',
    file: 'case6-chronic-migraine-hallucination.json',
    kind: 'case-series',
    mrn: 'KET-CS-0006',
    title: 'Case 6: 47-year-old woman, 0.34 mg/kg/h at target after 82 h (hallucination after an increase)',
    description:
      'Case series patient 6 (47/F; migraine since age 29; depression; admission VAS 9). Charted in mg/kg/h at 72 kg from an off-grid 0.14: ' +
      "0.24, 0.34; after a rebound, 0.44; 55 min later the paper's transient out-of-body hallucination (an Observation coded SNOMED 7011001) " +
      '-> decrease to 0.34, the maximum tolerated rate for the rest of the infusion. Pain fluctuated at the ceiling until <= 3 from 73:50 to 82:00: ' +
      'target at 82 h; tapered 0.34 -> 0.14 -> stop. Blood pressure as separate observations; EKG as a DiagnosticReport.',
    admission: '2026-09-14T08:00:00Z',
    start: '2026-09-14T10:10:00Z',
    patient: { family: 'Example', given: 'Case Six', gender: 'female', birthDate: '1979-01-30' },
    conditions: [
      { key: 'migraine', code: MIGRAINE, onsetAge: 29 },
      { key: 'depression', code: COMORBIDITY.depression },
    ],
    chart: {
      unit: 'mg/kg/h',
      // The bag the patients of the series would have had (the paper gives no strength): named on cards.
      medication: { text: 'Ketamine 100 mg in sodium chloride 0.9% 100 mL (1 mg/mL)', mg: 100, ml: 100 },
    },
    painCode: '38214-3',
    bp: 'separate',
    timeline: [
      ...workup({ admissionVas: 9, weightKg: 72, female: true, ekg: 'DiagnosticReport', orderRate: 0.14 }),
      ['0:00', 'rate', 0.14],
      ['1:40', 'pain', 9],
      ['3:10', 'pain', 8],
      ['3:20', 'rate', 0.24],
      ['5:00', 'pain', 7],
      ['6:30', 'pain', 7],
      ['6:40', 'rate', 0.34],
      ['8:30', 'pain', 5],
      ['9:50', 'pain', 3],
      ['13:00', 'pain', 3],
      ['16:30', 'pain', 3],
      ['18:00', 'pain', 6],
      ['18:10', 'rate', 0.44],
      [
        '19:05',
        'hallucination-observation',
        'Transient out-of-body experience about 1 h after the rate increase; oriented, no distress.',
      ],
      ['19:10', 'pain', 6],
      ['19:20', 'rate', 0.34],
      ['21:00', 'pain', 6],
      ['22:30', 'pain', 5],
      ['26:00', 'pain', 4],
      ['29:30', 'pain', 3],
      ['33:00', 'pain', 3],
      ['36:30', 'pain', 5],
      ['40:00', 'pain', 4],
      ['43:30', 'pain', 3],
      ['47:00', 'pain', 2],
      ['50:30', 'pain', 3],
      ['52:00', 'pain', 5],
      ['55:30', 'pain', 4],
      ['59:00', 'pain', 3],
      ['62:30', 'pain', 3],
      ['65:00', 'pain', 6],
      ['68:30', 'pain', 4],
      ['72:00', 'pain', 4],
      ['73:50', 'pain', 3],
      ['77:50', 'pain', 2],
      ['82:00', 'pain', 2],
      ['82:10', 'rate', 0.14],
      ['84:00', 'pain', 2],
      ['85:20', 'pain', 1],
      ['85:30', 'stop'],
      ['87:00', 'pain', 1],
    ],
    scenarios: [
      ['-0:10', 'Work-up complete: start suggested', 'S3'],
      ['18:00', 'Rebound at 0.34 (step overdue): step to 0.44', 'T8'],
      ['19:10', 'Hallucination after the increase: decrease', 'A1'],
      ['22:30', 'Pain 5/10 at the maximum tolerated rate 0.34: hold', 'T7'],
      ['82:00', 'Pain <= 3 for 8 h 10 min at 0.34 mg/kg/h: taper', 'T4'],
      ['85:20', 'Taper reaches 0: stop', 'T5'],
      ['87:00', 'Infusion completed', 'X1'],
    ],
  },
];

// ---------------------------------------------------------------------------------------------------
// Boundary patients: one protocol edge each, at named times
// ---------------------------------------------------------------------------------------------------

/** The boundary patients: one protocol edge each; `scenarios` name the edge's times and rules. */
const BOUNDARY = [
  {
    key: 'stale-weight',
    file: 'stale-weight.json',
    kind: 'boundary',
    mrn: 'KET-BD-0001',
    title: 'Boundary: dosing weight goes stale during the infusion',
    description:
      'Admitted 2026-10-05 (weight 68 kg charted on arrival, never repeated). The infusion starts 6.5 days later; at 11:30 the weight is ' +
      '7 days 30 min old: no pump rate can be computed (D1), even though the last change was only 1.5 h before (D1 comes before T1).',
    admission: '2026-10-05T09:00:00Z',
    start: '2026-10-11T22:30:00Z',
    patient: { family: 'Example', given: 'Stale Weight', gender: 'female', birthDate: '1988-04-17' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 22 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-157:00', 'weight', 68],
      ['-2:00', 'ekg', 'Observation'],
      ['-2:00', 'pregnancy-test', 'negative'],
      ['-1:00', 'consent'],
      ['-0:10', 'pain', 8],
      ['-0:05', 'order', 0.1],
      ['0:00', 'rate', 0.1],
      ['3:10', 'pain', 7],
      ['3:20', 'rate', 0.2],
      ['6:30', 'pain', 6],
      ['6:40', 'rate', 0.3],
      ['9:50', 'pain', 5],
      ['10:00', 'rate', 0.4],
      ['11:30', 'pain', 5],
    ],
    scenarios: [
      ['-0:10', 'Weight 6 days 13 h old: still fresh, start suggested', 'S3'],
      ['9:50', 'Weight 6 days 23 h old: step to 0.4', 'T8'],
      ['11:30', 'Weight 7 days 30 min old: stale', 'D1'],
    ],
  },
  {
    key: 'missing-ekg',
    file: 'missing-ekg.json',
    kind: 'boundary',
    mrn: 'KET-BD-0002',
    title: 'Boundary: no EKG before the start',
    description:
      'Weight, negative pregnancy test, consent and a baseline VAS are charted, but no EKG: the start waits (S2, EKG missing). The EKG is charted at 1:00; at 1:30 the start is suggested.',
    admission: '2026-10-19T08:00:00Z',
    start: '2026-10-19T10:00:00Z',
    patient: { family: 'Example', given: 'Missing Ekg', gender: 'female', birthDate: '1990-02-11' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 17 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 71],
      ['-1:00', 'pregnancy-test', 'negative'],
      ['-0:40', 'consent'],
      ['0:00', 'pain', 8],
      ['1:00', 'ekg', 'Observation'],
      ['1:30', 'pain', 8],
    ],
    scenarios: [
      ['0:00', 'No EKG charted: start waits', 'S2'],
      ['1:30', 'EKG charted: start suggested', 'S3'],
    ],
  },
  {
    key: 'positive-pregnancy-test',
    file: 'positive-pregnancy-test.json',
    kind: 'boundary',
    mrn: 'KET-BD-0003',
    title: 'Boundary: positive pregnancy test',
    description:
      'A urine hCG (LOINC 2106-3) charted Positive (SNOMED 10828004): the infusion is contraindicated (S1), whatever else is ready.',
    admission: '2026-10-26T08:00:00Z',
    start: '2026-10-26T10:00:00Z',
    patient: { family: 'Example', given: 'Positive Test', gender: 'female', birthDate: '1993-07-08' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 14 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 64],
      ['-1:15', 'ekg', 'Observation'],
      ['-1:00', 'pregnancy-test', 'positive'],
      ['-0:40', 'consent'],
      ['0:00', 'pain', 9],
    ],
    scenarios: [['0:00', 'Positive pregnancy test: contraindicated', 'S1']],
  },
  {
    key: 'hallucination-after-increase',
    file: 'hallucination-after-increase.json',
    kind: 'boundary',
    mrn: 'KET-BD-0004',
    title: 'Boundary: hallucination 50 min after an increase, then the maximum tolerated rate',
    description:
      'Titrated 0.1 -> 0.2 -> 0.3 -> 0.4 mg/kg/h; 50 min after the last increase an AdverseEvent coded SNOMED 7011001 (hallucinations, no suspect entity). ' +
      'At 11:00 the protocol suggests a decrease to 0.3 (A1, before T1); at 12:00 a hold (T1); at 14:20 pain 6/10 but 0.4 exceeds the maximum tolerated 0.3 (T7).',
    admission: '2026-11-02T08:00:00Z',
    start: '2026-11-02T10:10:00Z',
    patient: { family: 'Example', given: 'Hallucination', gender: 'female', birthDate: '1985-10-21' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 20 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 70],
      ['-1:15', 'ekg', 'Observation'],
      ['-1:00', 'pregnancy-test', 'negative'],
      ['-0:40', 'consent'],
      ['-0:10', 'pain', 9],
      ['-0:05', 'order', 0.1],
      ['0:00', 'rate', 0.1],
      ['3:10', 'pain', 8],
      ['3:20', 'rate', 0.2],
      ['6:30', 'pain', 7],
      ['6:40', 'rate', 0.3],
      ['9:50', 'pain', 6],
      ['10:00', 'rate', 0.4],
      [
        '10:50',
        'adverse-event',
        { code: '7011001', display: 'Hallucinations', text: 'Visual hallucinations after the rate increase' },
      ],
      ['11:00', 'pain', 6],
      ['11:10', 'rate', 0.3],
      ['12:00', 'pain', 6],
      ['14:20', 'pain', 6],
    ],
    scenarios: [
      ['9:50', 'Step to 0.4', 'T8'],
      ['11:00', 'Hallucination since the increase: decrease to 0.3', 'A1'],
      ['12:00', 'Decreased 50 min ago: hold', 'T1'],
      ['14:20', 'Pain 6/10 at the maximum tolerated rate: hold', 'T7'],
    ],
  },
  {
    key: 'sbp-190',
    file: 'sbp-190.json',
    kind: 'boundary',
    mrn: 'KET-BD-0005',
    title: 'Boundary: systolic blood pressure 190 mm[Hg] before and during the infusion',
    description:
      'SBP 190 at -1:00 defers the start (S1, vital-sign breach); rechecked 142 at -0:20: start suggested. ' +
      'At 6:20, running at 0.2 mg/kg/h, SBP 190 again: at 6:30 a decrease to 0.1 (A2); at 8:00, BP normal, a hold (T1).',
    admission: '2026-11-09T08:00:00Z',
    start: '2026-11-09T10:10:00Z',
    patient: { family: 'Example', given: 'High Pressure', gender: 'male', birthDate: '1977-05-30' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 18 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 88],
      ['-1:15', 'ekg', 'Observation'],
      ['-1:00', 'vitals', { sbp: 190, dbp: 96, hr: 84 }],
      ['-0:55', 'pain', 9, { vitals: false }],
      ['-0:40', 'consent'],
      ['-0:20', 'vitals', { sbp: 142, dbp: 84, hr: 80 }],
      ['-0:10', 'pain', 9, { vitals: false }],
      ['-0:05', 'order', 0.1],
      ['0:00', 'rate', 0.1],
      ['3:10', 'pain', 7],
      ['3:20', 'rate', 0.2],
      ['6:20', 'vitals', { sbp: 190, dbp: 98, hr: 88 }],
      ['6:30', 'pain', 6, { vitals: false }],
      ['6:40', 'rate', 0.1],
      ['8:00', 'pain', 6],
    ],
    scenarios: [
      ['-0:55', 'SBP 190: start deferred', 'S1'],
      ['-0:10', 'SBP 142 on recheck: start suggested', 'S3'],
      ['6:30', 'SBP 190 during the infusion: decrease', 'A2'],
      ['8:00', 'BP normal, decreased 1 h 20 min ago: hold', 'T1'],
    ],
  },
  {
    key: 'ceiling-reached',
    file: 'ceiling-reached.json',
    kind: 'boundary',
    mrn: 'KET-BD-0006',
    title: 'Boundary: titrated to the hard maximum rate 1.0 mg/kg/h',
    description:
      'Pain stays 6-8/10 while the infusion climbs 0.1 mg/kg/h every 3 h 20 min: 0.4 -> 0.5 is info, 0.5 -> 0.6 above the soft maximum ' +
      '(attending review), 0.9 -> 1.0 the last step; at 1.0 the next step would exceed hardMaxRate: hold (T7).',
    admission: '2026-11-16T07:00:00Z',
    start: '2026-11-16T09:10:00Z',
    patient: { family: 'Example', given: 'Ceiling', gender: 'male', birthDate: '1981-12-03' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 16 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 80],
      ['-1:15', 'ekg', 'Observation'],
      ['-0:40', 'consent'],
      ['-0:10', 'pain', 9],
      ['-0:05', 'order', 0.1],
      ['0:00', 'rate', 0.1],
      ['3:10', 'pain', 8],
      ['3:20', 'rate', 0.2],
      ['6:30', 'pain', 8],
      ['6:40', 'rate', 0.3],
      ['9:50', 'pain', 7],
      ['10:00', 'rate', 0.4],
      ['13:10', 'pain', 7],
      ['13:20', 'rate', 0.5],
      ['16:30', 'pain', 7],
      ['16:40', 'rate', 0.6],
      ['19:50', 'pain', 6],
      ['20:00', 'rate', 0.7],
      ['23:10', 'pain', 6],
      ['23:20', 'rate', 0.8],
      ['26:30', 'pain', 6],
      ['26:40', 'rate', 0.9],
      ['29:50', 'pain', 6],
      ['30:00', 'rate', 1.0],
      ['33:10', 'pain', 6],
    ],
    scenarios: [
      ['13:10', 'Step 0.4 -> 0.5 (not above the soft maximum)', 'T8'],
      ['16:30', 'Step 0.5 -> 0.6: above the soft maximum, attending review', 'T8'],
      ['29:50', 'Last step 0.9 -> 1.0', 'T8'],
      ['33:10', 'At the hard maximum 1.0 with pain 6/10: hold', 'T7'],
    ],
  },
  {
    key: 'vas-in-mm',
    file: 'vas-in-mm.json',
    kind: 'boundary',
    mrn: 'KET-BD-0007',
    title: 'Boundary: VAS charted in millimetres',
    description:
      'Every pain score is a VAS (LOINC 38214-3) on the 100 mm line: 85 mm and 80 mm before the start, 72 mm at 3:10 (7.2: step), ' +
      'a valueInteger 25 on 38214-3 at 6:30 (read as 25 mm = 2.5: hold), 45 mm at 9:40 (4.5: step, overdue).',
    admission: '2026-11-23T08:00:00Z',
    start: '2026-11-23T10:10:00Z',
    patient: { family: 'Example', given: 'Vas Millimetres', gender: 'female', birthDate: '1987-03-25' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 19 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '38214-3',
    painUnit: 'mm',
    bp: 'panel',
    timeline: [
      ['-1:50', 'pain', 85],
      ['-1:30', 'weight', 64],
      ['-1:15', 'ekg', 'Observation'],
      ['-1:00', 'pregnancy-test', 'negative'],
      ['-0:40', 'consent'],
      ['-0:10', 'pain', 80],
      ['-0:05', 'order', 0.1],
      ['0:00', 'rate', 0.1],
      ['3:10', 'pain', 72],
      ['3:20', 'rate', 0.2],
      ['6:30', 'pain', 25, { valueInteger: true }],
      ['9:40', 'pain', 45],
    ],
    scenarios: [
      ['-1:50', 'Admission VAS 85 mm, work-up pending', 'S2'],
      ['-0:10', 'VAS 80 mm (8/10): start suggested', 'S3'],
      ['3:10', 'VAS 72 mm (7.2/10): step', 'T8'],
      ['6:30', 'VAS 25 (valueInteger on 38214-3, read as mm: 2.5/10): hold', 'T6'],
      ['9:40', 'VAS 45 mm (4.5/10): step, overdue', 'T8'],
    ],
  },
  {
    key: 'rate-in-ml-per-hour',
    file: 'rate-in-ml-per-hour.json',
    kind: 'boundary',
    mrn: 'KET-BD-0008',
    title: 'Boundary: pump rate charted in mL/h with a contained Medication (2 mg/mL)',
    description:
      'Every administration and the order carry a contained Medication (ketamine 500 mg in 250 mL, 2 mg/mL) by a #reference; ' +
      'the pump is charted in mL/h at 70 kg: 3.5 / 7 / 10.5 mL/h = 0.1 / 0.2 / 0.3 mg/kg/h (1 mg/mL would read half of that).',
    admission: '2026-11-30T08:00:00Z',
    start: '2026-11-30T10:10:00Z',
    patient: { family: 'Example', given: 'Millilitres', gender: 'female', birthDate: '1984-08-14' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 21 }],
    chart: {
      unit: 'mL/h',
      medication: {
        contained: true,
        id: 'ketamine-bag',
        text: 'Ketamine 500 mg in sodium chloride 0.9% 250 mL (2 mg/mL)',
        mg: 500,
        ml: 250,
      },
    },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 70],
      ['-1:15', 'ekg', 'Observation'],
      ['-1:00', 'pregnancy-test', 'negative'],
      ['-0:40', 'consent'],
      ['-0:10', 'pain', 8],
      ['-0:05', 'order', 3.5],
      ['0:00', 'rate', 3.5],
      ['3:10', 'pain', 7],
      ['3:20', 'rate', 7],
      ['6:30', 'pain', 6],
      ['6:40', 'rate', 10.5],
      ['9:50', 'pain', 6],
    ],
    scenarios: [
      ['3:10', '3.5 mL/h at 2 mg/mL and 70 kg = 0.1 mg/kg/h: step to 0.2', 'T8'],
      ['9:50', '10.5 mL/h = 0.3 mg/kg/h: step to 0.4', 'T8'],
    ],
  },
  {
    key: 'not-inpatient',
    file: 'not-inpatient.json',
    kind: 'boundary',
    mrn: 'KET-BD-0009',
    title: 'Boundary: headache clinic visit (ambulatory encounter), no ketamine order',
    description:
      'Chronic migraine, work-up complete, but the encounter is ambulatory (class AMB) and no ketamine is ordered: ' +
      'the inpatient start card is not offered on patient-view.',
    admission: '2026-12-07T14:00:00Z',
    start: '2026-12-07T15:00:00Z',
    encounterClass: 'AMB',
    encounterReason: 'Headache clinic follow-up',
    patient: { family: 'Example', given: 'Outpatient', gender: 'female', birthDate: '1982-01-19' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 15 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-0:50', 'weight', 66],
      ['-0:40', 'ekg', 'Observation'],
      ['-0:30', 'pregnancy-test', 'negative'],
      ['0:00', 'pain', 7],
    ],
    scenarios: [['0:00', 'Ambulatory visit: no start card', 'S3']],
  },
  {
    key: 'male-no-pregnancy-test',
    file: 'male-no-pregnancy-test.json',
    kind: 'boundary',
    mrn: 'KET-BD-0010',
    title: 'Boundary: male patient, no pregnancy test',
    description:
      'A man with weight, EKG, consent and a baseline pain score and no pregnancy test: the start is suggested (the test is required only for women).',
    admission: '2026-12-14T08:00:00Z',
    start: '2026-12-14T10:00:00Z',
    patient: { family: 'Example', given: 'Male', gender: 'male', birthDate: '1987-06-02' },
    conditions: [{ key: 'migraine', code: MIGRAINE, onsetAge: 18 }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 84],
      ['-1:15', 'ekg', 'DiagnosticReport'],
      ['-0:40', 'consent'],
      ['0:00', 'pain', 8],
    ],
    scenarios: [['0:00', 'Work-up complete without a pregnancy test: start suggested', 'S3']],
  },
  {
    key: 'other-indication',
    file: 'other-indication.json',
    kind: 'boundary',
    mrn: 'KET-BD-0011',
    title: 'Boundary: ketamine infusion for CRPS, no chronic migraine (out of scope)',
    description:
      'An inpatient ketamine infusion run by the pain service for complex regional pain syndrome; no chronic-migraine diagnosis: the protocol stays silent (P0), before and during the infusion.',
    admission: '2026-12-21T08:00:00Z',
    start: '2026-12-21T10:10:00Z',
    encounterReason: 'Complex regional pain syndrome: ketamine infusion (pain service)',
    patient: { family: 'Example', given: 'Other Indication', gender: 'male', birthDate: '1979-09-09' },
    conditions: [{ key: 'crps', code: COMORBIDITY.crps }],
    chart: { unit: 'mg/kg/h' },
    painCode: '72514-3',
    bp: 'panel',
    timeline: [
      ['-1:30', 'weight', 77],
      ['-1:15', 'ekg', 'Observation'],
      ['-0:40', 'consent'],
      ['-0:10', 'pain', 8],
      ['-0:05', 'order', 0.1],
      ['0:00', 'rate', 0.1],
      ['3:10', 'pain', 7],
      ['3:20', 'rate', 0.2],
      ['6:30', 'pain', 6],
    ],
    scenarios: [
      ['-0:10', 'No chronic migraine: out of scope', 'P0'],
      ['6:30', 'Running, no chronic migraine: out of scope', 'P0'],
    ],
  },
];

// ---------------------------------------------------------------------------------------------------

function manifestEntry(spec) {
  const t0 = Date.parse(spec.start);
  return {
    file: spec.file,
    patientId: `${spec.key}-patient`,
    encounterId: `${spec.key}-encounter`,
    title: spec.title,
    description: spec.description,
    kind: spec.kind,
    admission: spec.admission,
    infusionStart: spec.timeline.some(([, kind]) => kind === 'rate') ? spec.start : null,
    scenarioTimes: spec.scenarios.map(([off, label, expectedRuleId]) => ({
      at: iso(t0 + offsetMs(off)),
      label,
      expectedRuleId,
    })),
  };
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

export function outputs() {
  const specs = [...CASES, ...BOUNDARY];
  const files = new Map(specs.map((s) => [s.file, json(chartBundle(s))]));
  files.set('index.json', json(specs.map(manifestEntry)));
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = outputs();
  if (process.argv.includes('--check')) {
    const stale = [...files].filter(([name, text]) => {
      try {
        return readFileSync(path.join(OUT_DIR, name), 'utf8') !== text;
      } catch {
        return true;
      }
    });
    for (const [name] of stale)
      console.error(`fhir-resources/examples/${name} differs: run node src/scripts/make-examples.mjs`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  mkdirSync(OUT_DIR, { recursive: true });
  for (const [name, text] of files) writeFileSync(path.join(OUT_DIR, name), text);
  console.log(`wrote ${files.size} files to fhir-resources/examples/`);
}
