/**
 * The layers of src/ are written down once, in the README's "How it is built" section (between the
 * layers markers). This test reads that table and fails when a module imports from a higher layer than
 * its own, or when a module is in no layer (a new folder must be placed in the table first).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const SRC = path.join(ROOT, 'src');

interface Layer {
  rank: number;
  name: string;
  paths: string[];
}

/** The README's layer table: one row per layer, lowest first; each backticked path is a file or a folder. */
function readLayers(readme: string): Layer[] {
  const match = /<!-- layers:begin[^>]*-->([\s\S]*?)<!-- layers:end -->/.exec(readme);
  if (!match?.[1]) throw new Error('README.md has no layers table (<!-- layers:begin --> … <!-- layers:end -->)');
  const rows = match[1].split('\n').filter((line) => /^\|\s*\d/.test(line));
  return rows.map((row) => {
    const [, first = '', modules = ''] = row.split('|');
    const [rank = '', ...name] = first.trim().split(/\s+/);
    return {
      rank: Number(rank),
      name: name.join(' '),
      paths: [...modules.matchAll(/`([^`]+)`/g)].map((m) => path.join(ROOT, m[1] ?? '')),
    };
  });
}

/** The layer of a file: the row naming the longest path that is the file or a folder holding it. */
function layerOf(file: string, layers: Layer[]): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of layers)
    for (const p of layer.paths) {
      const holds = file === p || file.startsWith(p.endsWith(path.sep) ? p : p + path.sep);
      if (holds && (!best || p.length > best.length)) best = { layer, length: p.length };
    }
  return best?.layer;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** The project files a module imports (static imports, re-exports, import() and require()). */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => resolveFile(path.resolve(path.dirname(file), s)));
}

/** The file an import names: itself (`.json`), `x` → `x.ts`, a folder → its `index.ts`. */
function resolveFile(target: string): string {
  if (statSync(target, { throwIfNoEntry: false })?.isFile()) return target;
  for (const candidate of [`${target}.ts`, path.join(target, 'index.ts')])
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
  return target;
}

/** Every import that goes up a layer, as `from → to (layer → layer)`. */
function upwardImports(edges: Array<[string, string]>, layers: Layer[]): string[] {
  return edges.flatMap(([from, to]) => {
    const a = layerOf(from, layers);
    const b = layerOf(to, layers);
    if (!a || !b || b.rank <= a.rank) return [];
    const rel = (f: string) => path.relative(ROOT, f);
    return [`${rel(from)} → ${rel(to)} (${a.rank} ${a.name} → ${b.rank} ${b.name})`];
  });
}

const layers = readLayers(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
const files = tsFiles(SRC);

describe('the layers written down in the README', () => {
  it('when the README lists the layers, they are numbered from 1 upwards and each names existing modules', () => {
    expect(layers.map((l) => l.rank)).toEqual(layers.map((_l, i) => i + 1));
    const missing = layers.flatMap((l) => l.paths).filter((p) => !statSync(p, { throwIfNoEntry: false }));
    expect(missing.map((p) => path.relative(ROOT, p))).toEqual([]);
  });

  it('when a module of src/ is in no layer, the build fails (place it in the table first)', () => {
    const unplaced = files.filter((f) => !layerOf(f, layers)).map((f) => path.relative(ROOT, f));
    expect(unplaced).toEqual([]);
  });

  it('when a module imports from a higher layer than its own, the build fails', () => {
    const edges = files.flatMap((f) => importsOf(f).map((to): [string, string] => [f, to]));
    expect(upwardImports(edges, layers)).toEqual([]);
  });

  it('the check finds an upward import (a guard against a check that cannot fail)', () => {
    const decide = path.join(SRC, 'protocol', 'decide.ts');
    expect(upwardImports([[decide, path.join(SRC, 'service', 'deps.ts')]], layers)).toEqual([
      'src/protocol/decide.ts → src/service/deps.ts (3 decision core → 5 use case)',
    ]);
    expect(upwardImports([[path.join(SRC, 'service', 'deps.ts'), decide]], layers)).toEqual([]);
  });
});
