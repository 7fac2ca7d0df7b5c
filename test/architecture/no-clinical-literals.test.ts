/**
 * Every protocol number lives in cds-hooks/protocol-parameters.json, and every clinical code in
 * fhir-resources/ValueSet. This test reads the sources and fails when a clinical module holds a numeric
 * literal other than 0 or 1, when any module holds a literal equal to a protocol rate/step (the numbers
 * most likely to be copied by hand), or when a module of src/ holds a clinical code (a code of a ValueSet,
 * or a string shaped like a LOINC, SNOMED CT or ICD-10-CM code).
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { loadParameters } from '../../src/config/parameters';

const SRC = path.resolve(__dirname, '../../src');
/** Modules that decide or describe clinical things: only 0 and 1 may appear as literals. */
const CLINICAL_DIRS = ['protocol', 'cards', 'cql', 'terminology'];
/** Definitions of units of time (not protocol numbers). */
const UNIT_DEFINITION_FILES = new Set([path.join(SRC, 'protocol', 'units.ts')]);

function tsFiles(dir: string, extensions = ['.ts']): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full, extensions);
    return extensions.some((e) => full.endsWith(e)) ? [full] : [];
  });
}

interface Literal {
  file: string;
  line: number;
  text: string;
  value: number;
}

function numericLiterals(file: string): Literal[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: Literal[] = [];
  const visit = (node: ts.Node): void => {
    // An index into an array or a regex match (m[2]) is a position, not a clinical number.
    const isIndex =
      node.parent !== undefined && ts.isElementAccessExpression(node.parent) && node.parent.argumentExpression === node;
    if (ts.isNumericLiteral(node) && !isIndex) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push({ file: path.relative(SRC, file), line: line + 1, text: node.getText(), value: Number(node.text) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('protocol numbers live only in the reviewed parameter file', () => {
  it('when a clinical module (protocol, cards, cql, terminology) holds a number other than 0 or 1, the build fails', () => {
    const offending = CLINICAL_DIRS.flatMap((d) => {
      const dir = path.join(SRC, d);
      try {
        return tsFiles(dir);
      } catch {
        return [];
      }
    })
      .filter((f) => !UNIT_DEFINITION_FILES.has(f))
      .flatMap(numericLiterals)
      .filter((l) => l.value !== 0 && l.value !== 1)
      .map((l) => `${l.file}:${l.line} ${l.text}`);
    expect(offending).toEqual([]);
  });

  it('when any module holds a literal equal to a protocol rate, step or rounding value, the build fails', () => {
    const { values } = loadParameters();
    const fractional = new Set(
      Object.entries(values)
        .filter(([, v]) => typeof v === 'number' && !Number.isInteger(v))
        .map(([, v]) => v as number),
    );
    const offending = tsFiles(SRC)
      .filter((f) => !UNIT_DEFINITION_FILES.has(f))
      .flatMap(numericLiterals)
      .filter((l) => fractional.has(l.value))
      .map((l) => `${l.file}:${l.line} ${l.text}`);
    expect(offending).toEqual([]);
  });

  it('the scan itself finds literals (a guard against a scan that cannot fail)', () => {
    const probe = path.join(SRC, 'protocol', 'units.ts');
    expect(numericLiterals(probe).some((l) => l.value === 60)).toBe(true);
  });
});

// ----- clinical codes ------------------------------------------------------------------------------

const VALUE_SET_DIR = path.resolve(__dirname, '../../fhir-resources/ValueSet');

/**
 * Files of src/ that may still hold codes, each with the reason (test data charted as an EHR charts; the
 * chart builder itself is test/support/chart.ts; the demo page reads the ValueSets from demo/api/value-sets).
 */
const CODE_ALLOWED: Readonly<Record<string, string>> = {
  'scripts/make-examples.mjs': "the example patients' hand-written timelines and descriptions (test data)",
};

/** Every code of every ValueSet (compose and expansion). */
function valueSetCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of readdirSync(VALUE_SET_DIR).filter((f) => f.endsWith('.json'))) {
    const vs = JSON.parse(readFileSync(path.join(VALUE_SET_DIR, file), 'utf8')) as {
      compose?: { include?: Array<{ concept?: Array<{ code: string }> }> };
      expansion?: { contains?: Array<{ code?: string }> };
    };
    for (const inc of vs.compose?.include ?? []) for (const c of inc.concept ?? []) codes.add(c.code);
    for (const c of vs.expansion?.contains ?? []) if (c.code) codes.add(c.code);
  }
  return codes;
}

/**
 * The shapes of codes of the code systems the protocol uses. A SNOMED CT id is 6–18 digits whose
 * second- and third-last digits are a partition identifier (00–05, 10–15): 1048576 is a byte count.
 */
const CODE_SHAPES: ReadonlyArray<[string, RegExp]> = [
  ['LOINC', /^\d{1,5}-\d$/],
  ['SNOMED CT', /^\d{3,15}[01][0-5]\d$/],
  ['ICD-10-CM', /^[A-TV-Z]\d{2}\.[0-9A-Z]{1,4}$/],
];

interface CodeLiteral {
  file: string;
  line: number;
  code: string;
  why: string;
}

/** The string literals (and template text) of a file, cut into words, that are clinical codes. */
function codeLiterals(file: string, known: ReadonlySet<string>): CodeLiteral[] {
  const text = readFileSync(file, 'utf8');
  const found: CodeLiteral[] = [];
  const check = (at: () => number, words: string) => {
    for (const word of words.split(/[^A-Za-z0-9.\-]+/)) {
      const code = word.replace(/\.+$/, '');
      if (code === '') continue;
      const shape = CODE_SHAPES.find(([, re]) => re.test(code))?.[0];
      const why = known.has(code) ? 'a code of a ValueSet' : shape ? `shaped like a ${shape} code` : null;
      if (why === null) continue;
      found.push({ file: path.relative(SRC, file), line: at(), code, why });
    }
  };
  // A page (the demo's, the report's): every word of its markup, line by line.
  if (file.endsWith('.html')) {
    text.split('\n').forEach((line, i) => check(() => i + 1, line));
    return found;
  }
  const kind = file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, kind);
  const lineOf = (node: ts.Node) => () => source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) check(lineOf(node), node.text);
    else if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node))
      check(lineOf(node), node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('clinical codes live only in the ValueSets', () => {
  const known = valueSetCodes();

  it('when a module or page of src/ holds a clinical code (a ValueSet code, or one shaped like LOINC, SNOMED CT or ICD-10-CM), the build fails', () => {
    const offending = tsFiles(SRC, ['.ts', '.js', '.mjs', '.html'])
      .filter((f) => !(path.relative(SRC, f) in CODE_ALLOWED))
      .flatMap((f) => codeLiterals(f, known))
      .map((l) => `${l.file}:${l.line} ${l.code} (${l.why})`);
    expect(offending).toEqual([]);
  });

  it('every file allowed to hold codes exists and still holds one (the list only shrinks)', () => {
    for (const file of Object.keys(CODE_ALLOWED))
      expect([file, codeLiterals(path.join(SRC, file), known).length > 0]).toEqual([file, true]);
  });

  it('the scan itself finds codes (a guard against a scan that cannot fail)', () => {
    expect(known.has('72514-3')).toBe(true);
    const probe = path.join(SRC, 'scripts', 'make-examples.mjs');
    expect(codeLiterals(probe, known).some((l) => l.code === '38214-3')).toBe(true);
    const page = path.join(mkdtempSync(path.join(os.tmpdir(), 'code-scan-')), 'page.html');
    writeFileSync(page, '<select>\n  <option value="7011001">Hallucinations</option>\n</select>\n');
    expect(codeLiterals(page, known)).toEqual([
      expect.objectContaining({ line: 2, code: '7011001', why: 'a code of a ValueSet' }),
    ]);
    const shapeOf = (code: string) => CODE_SHAPES.find(([, re]) => re.test(code))?.[0];
    expect(['11524-6', '260385009', '124171000119105', 'G43.719', '1048576'].map(shapeOf)).toEqual([
      'LOINC',
      'SNOMED CT',
      'SNOMED CT',
      'ICD-10-CM',
      undefined,
    ]);
  });
});
