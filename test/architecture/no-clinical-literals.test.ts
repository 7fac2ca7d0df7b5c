/**
 * Every protocol number lives in cds-hooks/protocol-parameters.json. This test reads the TypeScript
 * sources and fails when a clinical module holds a numeric literal other than 0 or 1, or when any
 * module holds a literal equal to a protocol rate/step (the numbers most likely to be copied by hand).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { loadParameters } from '../../src/config/parameters';

const SRC = path.resolve(__dirname, '../../src');
/** Modules that decide or describe clinical things: only 0 and 1 may appear as literals. */
const CLINICAL_DIRS = ['protocol', 'cards', 'cql', 'terminology'];
/** Definitions of units of time (not protocol numbers). */
const UNIT_DEFINITION_FILES = new Set([path.join(SRC, 'protocol', 'units.ts')]);

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return full.endsWith('.ts') ? [full] : [];
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
