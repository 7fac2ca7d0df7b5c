/** Load-time checks of the compiled CQL: what the engine would otherwise get wrong silently. */
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CQL_PARAMETERS, createEvaluator, DEFAULT_ELM_DIR, ElmLoadError, FACT_DEFINES } from '../../src/cql';
import { loadEntryLibraries } from '../../src/cql/elm';
import { loadTerminology } from '../../src/terminology';

const terminology = loadTerminology();
const load = (overrides: Partial<Parameters<typeof loadEntryLibraries>[0]> = {}) =>
  loadEntryLibraries({
    elmDir: DEFAULT_ELM_DIR,
    defines: FACT_DEFINES,
    parameters: CQL_PARAMETERS,
    codeService: terminology.codeService,
    ...overrides,
  });

function withElmCopy(edit: (dir: string) => void, check: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'ketamine-elm-'));
  try {
    cpSync(DEFAULT_ELM_DIR, dir, { recursive: true });
    edit(dir);
    check(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('loading the compiled CQL', () => {
  it('the shipped ELM loads: every hook runs the one entry library, which exposes every fact the evaluator reads', () => {
    const entries = load();
    expect(Object.fromEntries(Object.entries(entries).map(([hook, e]) => [hook, e.name]))).toEqual({
      'patient-view': 'KetamineProtocol',
      'order-select': 'KetamineProtocol',
      'order-sign': 'KetamineProtocol',
    });
    expect(createEvaluator({ terminology }).libraries['order-sign']).toEqual({
      name: 'KetamineProtocol',
      version: '1.0.0',
    });
  });

  it('when an entry library lacks a define the evaluator reads, startup fails naming it', () => {
    expect(() => load({ defines: [...FACT_DEFINES, 'Latest Lactate'] })).toThrow(ElmLoadError);
    expect(() => load({ defines: [...FACT_DEFINES, 'Latest Lactate'] })).toThrow(
      /KetamineProtocol \(patient-view\) does not define "Latest Lactate"/,
    );
  });

  it('when a parameter is passed that no library declares, startup fails (the engine would ignore it)', () => {
    expect(() => load({ parameters: { ...CQL_PARAMETERS, 'Ketamine Text Patern': 'x' } })).toThrow(
      /parameter "Ketamine Text Patern" is passed but no library/,
    );
  });

  it('when a declared parameter without default is not passed, startup fails (it would evaluate as null)', () => {
    expect(() => load({ parameters: {} })).toThrow(/parameter "Ketamine Text Pattern" \(declared without default/);
  });

  it('when a parameter is passed a value of the wrong type, startup fails', () => {
    expect(() => load({ parameters: { 'Ketamine Text Pattern': 42 } })).toThrow(
      /parameter "Ketamine Text Pattern" is declared \{urn:hl7-org:elm-types:r1\}String but passed a number/,
    );
  });

  it('when an entry library or an included library is missing, startup fails naming it', () => {
    withElmCopy(
      (dir) => unlinkSync(path.join(dir, 'KetamineProtocol.json')),
      (dir) => expect(() => load({ elmDir: dir })).toThrow(/entry library KetamineProtocol \(order-sign\) is missing/),
    );
    withElmCopy(
      (dir) => unlinkSync(path.join(dir, 'KetamineCommon.json')),
      (dir) =>
        expect(() => load({ elmDir: dir })).toThrow(/includes KetamineCommon 1.0.0, which is not in the ELM directory/),
    );
  });

  it('when the ELM names a value set the terminology does not have, startup fails naming it', () => {
    withElmCopy(
      (dir) => {
        const file = path.join(dir, 'KetamineCommon.json');
        writeFileSync(file, readFileSync(file, 'utf8').replace('ValueSet/ekg"', 'ValueSet/ekg-typo"'));
      },
      (dir) =>
        expect(() => load({ elmDir: dir })).toThrow(
          /value set "EKG" \(https:\/\/ketamine-cds.example.org\/fhir\/ValueSet\/ekg-typo\)/,
        ),
    );
  });
});
