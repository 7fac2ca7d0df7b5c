import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Code } from 'cql-execution';
import type { ValueSet } from 'fhir/r4';
import {
  DEFAULT_VALUE_SET_DIR,
  KETAMINE_TEXT_PATTERN,
  loadTerminology,
  TerminologyError,
  VALUE_SET_BASE_URL,
  VALUE_SET_IDS,
} from '../../src/terminology';

const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const LOINC = 'http://loinc.org';

const terminology = loadTerminology();

function copyOfValueSets(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ketamine-vs-'));
  cpSync(DEFAULT_VALUE_SET_DIR, dir, { recursive: true });
  return dir;
}

describe('the value sets of docs/clinical-specification.md §5', () => {
  it('every expected value set is a FHIR R4 ValueSet with its canonical url, version, status, compose and an expansion', () => {
    expect(terminology.valueSets.size).toBe(VALUE_SET_IDS.length);
    for (const id of VALUE_SET_IDS) {
      const vs = JSON.parse(readFileSync(path.join(DEFAULT_VALUE_SET_DIR, `${id}.json`), 'utf8')) as ValueSet;
      expect(vs.resourceType).toBe('ValueSet');
      expect(vs.url).toBe(`https://ketamine-cds.example.org/fhir/ValueSet/${id}`);
      expect(vs.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(['draft', 'active']).toContain(vs.status);
      expect(vs.compose?.include.length).toBeGreaterThan(0);
      expect(vs.expansion?.timestamp).toBeDefined();
      for (const c of vs.expansion?.contains ?? []) {
        expect(c.system).toMatch(/^http/);
        expect(c.code).toBeTruthy();
        expect(c.display).toBeTruthy();
      }
      expect(vs.expansion?.total).toBe(vs.expansion?.contains?.length);
    }
  });

  it('ICD-10-CM ranges are enumerated in the expansion and the description says so', () => {
    const enumerated: Array<[(typeof VALUE_SET_IDS)[number], string[]]> = [
      ['psychosis', ['F20.0', 'F20.81', 'F21', 'F25.9', 'F29']],
      ['caution-glaucoma', ['H40.001', 'H40.1111', 'H40.10X0', 'H40.33X4', 'H40.9']],
      ['caution-substance-use', ['F10.20', 'F11.23', 'F14.259', 'F17.210', 'F19.29']],
      ['caution-ischemic-heart-disease', ['I20.0', 'I21.A1', 'I24.9', 'I25.10', 'I25.799']],
      ['caution-cirrhosis', ['K70.30', 'K70.31', 'K74.60', 'K74.69']],
      ['psychotomimetic-effect', ['R44.0', 'R44.1', 'R44.2', 'R44.3', 'F48.1']],
    ];
    for (const [id, codes] of enumerated) {
      for (const code of codes) expect([id, code, terminology.contains(id, ICD, code)]).toEqual([id, code, true]);
      expect(terminology.valueSets.get(id)?.description).toMatch(/enumerat/);
    }
    // Abuse (F1x.1x) is not dependence; I26 is not ischemic heart disease.
    expect(terminology.contains('caution-substance-use', ICD, 'F10.10')).toBe(false);
    expect(terminology.contains('caution-ischemic-heart-disease', ICD, 'I26.99')).toBe(false);
  });

  it('codes docs/clinical-specification.md says still need confirming are kept, and their value sets say so', () => {
    for (const code of ['238082', '238083', '238084'])
      expect(terminology.contains('ketamine', RXNORM, code)).toBe(true);
    expect(terminology.contains('psychotomimetic-effect', SCT, '7011001')).toBe(true);
    expect(terminology.valueSets.get('ketamine')?.description).toMatch(/confirm/);
    expect(terminology.valueSets.get('psychotomimetic-effect')?.description).toMatch(/confirm/);
  });

  it('qualitative pregnancy results include the v3 interpretation codes POS and NEG', () => {
    const interpretation = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
    expect(terminology.contains('pregnancy-test-positive', interpretation, 'POS')).toBe(true);
    expect(terminology.contains('pregnancy-test-negative', interpretation, 'NEG')).toBe(true);
    expect(terminology.contains('pregnancy-test-negative', interpretation, 'POS')).toBe(false);
  });

  it('inpatient encounter classes are IMP, ACUTE and NONAC, not AMB or EMER', () => {
    const actCode = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
    for (const code of ['IMP', 'ACUTE', 'NONAC'])
      expect(terminology.contains('inpatient-encounter-class', actCode, code)).toBe(true);
    for (const code of ['AMB', 'EMER'])
      expect(terminology.contains('inpatient-encounter-class', actCode, code)).toBe(false);
  });
});

describe('membership questions', () => {
  it('a code matches only with its own system', () => {
    expect(terminology.contains('chronic-migraine', ICD, 'G43.719')).toBe(true);
    expect(terminology.contains('chronic-migraine', SCT, 'G43.719')).toBe(false);
    expect(terminology.contains('chronic-migraine', null, 'G43.719')).toBe(false);
  });

  it('a CodeableConcept or a list of Codings is in a value set when any coding is', () => {
    const concept = {
      coding: [
        { system: LOINC, code: '0000-0' },
        { system: LOINC, code: '38214-3' },
      ],
    };
    expect(terminology.inValueSet('pain-score', concept)).toBe(true);
    expect(terminology.inValueSet('pain-score', concept.coding)).toBe(true);
    expect(terminology.matchingCoding('pain-score', concept)?.code).toBe('38214-3');
    expect(terminology.inValueSet('body-weight', concept)).toBe(false);
    expect(terminology.inValueSet('pain-score', undefined)).toBe(false);
    expect(terminology.inValueSet('pain-score', { text: '38214-3' })).toBe(false);
  });

  it('ketamine is recognised by code, by text naming it (said as text), and not otherwise', () => {
    expect(terminology.ketamineRecognition({ coding: [{ system: RXNORM, code: '6130' }] })).toBe('code');
    expect(
      terminology.ketamineRecognition({
        coding: [{ system: RXNORM, code: '999999', display: 'Ketamine HCl 10 mg/mL' }],
      }),
    ).toBe('text');
    expect(terminology.ketamineRecognition({ text: 'KETAMINE infusion in NS' })).toBe('text');
    expect(terminology.ketamineRecognition({ text: 'Ketalar 50 mg/mL' })).toBe('text');
    expect(terminology.ketamineRecognition({ text: 'esketamine nasal spray' })).toBeNull();
    expect(terminology.ketamineRecognition({ text: 'morphine' })).toBeNull();
    expect(terminology.ketamineRecognition(undefined)).toBeNull();
  });

  it('the text pattern handed to the CQL is the one TypeScript uses (whole-string match on lower case)', () => {
    const re = new RegExp(`^${KETAMINE_TEXT_PATTERN}$`);
    expect(re.test('ketamine 1 mg/ml\nin ns')).toBe(true);
    expect(terminology.textNamesKetamine('KETAMINE 1 mg/mL\nin NS')).toBe(true);
    expect(terminology.textNamesKetamine('Esketamine')).toBe(false);
  });
});

describe('the CodeService cql-execution uses', () => {
  it('is built from the same expansions and answers by canonical url (any or the exact version)', () => {
    const url = `${VALUE_SET_BASE_URL}chronic-migraine`;
    const vs = terminology.codeService.findValueSet(url) as { hasMatch(c: unknown): boolean; codes: unknown[] } | null;
    expect(vs?.codes).toHaveLength(terminology.valueSets.get('chronic-migraine')?.expansion?.contains?.length ?? -1);
    expect(vs?.hasMatch(new Code('G43.711', ICD))).toBe(true);
    expect(vs?.hasMatch(new Code('G43.711', SCT))).toBe(false);
    expect(vs?.hasMatch([new Code('x', ICD), new Code('423279000', SCT)])).toBe(true);
    expect(terminology.codeService.findValueSet(url, '1.0.0')).not.toBeNull();
    expect(terminology.codeService.findValueSet(url, '9.9.9')).toBeNull();
    expect(terminology.codeService.findValueSet(`${VALUE_SET_BASE_URL}nope`)).toBeNull();
  });
});

describe('validation at load', () => {
  it('when a value set file is missing, loading fails naming it', () => {
    const dir = copyOfValueSets();
    try {
      unlinkSync(path.join(dir, 'ekg.json'));
      expect(() => loadTerminology(dir)).toThrow(TerminologyError);
      expect(() => loadTerminology(dir)).toThrow(/ekg: missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a value set has the wrong url or an empty expansion, loading fails naming the problem', () => {
    const dir = copyOfValueSets();
    try {
      const file = path.join(dir, 'heart-rate.json');
      const vs = JSON.parse(readFileSync(file, 'utf8')) as ValueSet;
      vs.url = 'http://example.org/other';
      vs.expansion = { timestamp: '2025-01-01T00:00:00Z', contains: [] };
      writeFileSync(file, JSON.stringify(vs));
      expect(() => loadTerminology(dir)).toThrow(/heart-rate: url is http:\/\/example.org\/other/);
      expect(() => loadTerminology(dir)).toThrow(/heart-rate: no expansion.contains/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
