/**
 * The project carries its own specification (docs/clinical-specification.md) and CDS Hooks conformance list
 * (docs/cds-hooks-conformance.md), and cites them, not documents outside the repository. These checks keep
 * the documents in step with the parameter file, the rule-id list of the tests and the CH- ids the tests name.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { RULE_IDS } from '../support/rule-ids';

const ROOT = path.resolve(__dirname, '../..');
const read = (...parts: string[]): string => readFileSync(path.join(ROOT, ...parts), 'utf8');
const spec = read('docs', 'clinical-specification.md');
const conformance = read('docs', 'cds-hooks-conformance.md');

/** Every file under a directory of the repository (generated folders and binary assets excluded). */
function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return filesUnder(rel);
    return /\.(ts|js|mjs|json|cql|md|html|css)$/.test(name) ? [rel] : [];
  });
}

/** The specification's section for a rule: a heading "### <id> — …". */
const ruleHeading = (id: string): RegExp => new RegExp(`^#{2,4} ${id} — \\S`, 'm');

/** The spec's table rows "| `name` | default | …", by parameter name. */
function specParameterRows(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\| `([A-Za-z0-9]+)` \|(.*)\|$/.exec(line);
    if (m)
      rows.set(
        m[1] as string,
        (m[2] as string).split('|').map((c) => c.trim()),
      );
  }
  return rows;
}

/** The conformance list's entries ("**CH-…** — what it requires. Checked by: `file`, …"), by id. */
function conformanceEntries(text: string): Map<string, { body: string; files: string[] }> {
  const entries = new Map<string, { body: string; files: string[] }>();
  const parts = text.split(/^\*\*(CH-[A-Z][0-9]+)\*\* — /m);
  for (let i = 1; i < parts.length; i += 2) {
    const id = parts[i] as string;
    const body = (parts[i + 1] ?? '').split(/\n(?=\*\*CH-|## )/)[0] as string;
    const checked = /Checked by:([\s\S]*)$/.exec(body)?.[1] ?? '';
    const files = [...checked.matchAll(/`(test\/[^`]+)`/g)].map((m) => m[1] as string);
    entries.set(id, { body, files });
  }
  return entries;
}

describe('the clinical specification (docs/clinical-specification.md)', () => {
  it('when the tests know a rule id, the specification has a section for it with condition, action and provenance', () => {
    const missing = RULE_IDS.filter((id) => !ruleHeading(id).test(spec));
    expect(missing).toEqual([]);
    for (const id of RULE_IDS) {
      const section = spec.split(ruleHeading(id))[1]?.split(/^#{2,4} /m)[0] ?? '';
      expect([id, /\*\*When\*\*/.test(section), /\*\*Provenance\*\*/.test(section)]).toEqual([id, true, true]);
    }
  });

  it('the rule check can fail: an id without a section is found', () => {
    expect(ruleHeading('T9').test(spec)).toBe(false);
    expect(ruleHeading('T8').test('### T8 — increase')).toBe(true);
  });

  it('every parameter of cds-hooks/protocol-parameters.json is listed with its default value, unit and provenance', () => {
    const file = JSON.parse(read('cds-hooks', 'protocol-parameters.json')) as {
      parameters: Record<string, { value: number; unit: string; provenance: string }>;
    };
    const rows = specParameterRows(spec);
    const wrong = Object.entries(file.parameters).flatMap(([name, p]) => {
      const row = rows.get(name);
      if (!row) return [`${name}: not in the specification`];
      const [value, unit, provenance] = row;
      const problems: string[] = [];
      if (Number(value) !== p.value) problems.push(`${name}: specification says ${value}, the file ${p.value}`);
      if (unit !== p.unit) problems.push(`${name}: unit ${unit} in the specification, ${p.unit} in the file`);
      if (provenance !== p.provenance) problems.push(`${name}: provenance ${provenance} ≠ ${p.provenance}`);
      return problems;
    });
    expect(wrong).toEqual([]);
    expect(rows.size).toBeGreaterThanOrEqual(Object.keys(file.parameters).length);
  });

  it('states the protocol version of the parameter file, or the one about to be released with it', () => {
    const { protocolVersion } = JSON.parse(read('cds-hooks', 'protocol-parameters.json')) as {
      protocolVersion: string;
    };
    const stated = /\*\*Protocol version (\d+\.\d+\.\d+)\.\*\*/.exec(spec)?.[1];
    expect(stated).toBeDefined();
    // The specification may run ahead of the file while a version is being implemented, never behind it.
    const asNumbers = (v: string) => v.split('.').map(Number);
    const [a, b] = [asNumbers(stated as string), asNumbers(protocolVersion)];
    const cmp = a.map((x, i) => x - (b[i] as number)).find((d) => d !== 0) ?? 0;
    expect(cmp).toBeGreaterThanOrEqual(0);
  });

  it('names a ValueSet file that exists for every code set', () => {
    const named = [...spec.matchAll(/`([a-z0-9-]+\.json)`/g)].map((m) => m[1] as string);
    const valueSets = readdirSync(path.join(ROOT, 'fhir-resources', 'ValueSet'));
    expect(valueSets.filter((f) => !named.includes(f))).toEqual([]);
  });
});

describe('the CDS Hooks conformance list (docs/cds-hooks-conformance.md)', () => {
  const entries = conformanceEntries(conformance);

  it('when a test names a CH- id, the conformance list defines it', () => {
    const named = new Set(
      filesUnder('test').flatMap((file) => [...read(file).matchAll(/\bCH-[A-Z][0-9]+\b/g)].map((m) => m[0])),
    );
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((id) => !entries.has(id)).sort()).toEqual([]);
  });

  it('every test file listed as checking an id exists and names that id', () => {
    const wrong = [...entries].flatMap(([id, { files }]) =>
      files.flatMap((file) => {
        if (!existsSync(path.join(ROOT, file))) return [`${id}: ${file} does not exist`];
        return new RegExp(`\\b${id}\\b`).test(read(file)) ? [] : [`${id}: ${file} does not name it`];
      }),
    );
    expect(wrong).toEqual([]);
  });

  it('every id says what it requires and either which tests check it or that none does yet', () => {
    expect(entries.size).toBeGreaterThanOrEqual(40);
    for (const [id, { body, files }] of entries) {
      expect([id, body.length > 40, files.length > 0 || /\*\*no test yet\*\*/.test(body)]).toEqual([id, true, true]);
    }
  });
});

describe('citations', () => {
  it('no source, test, service definition, FHIR resource or the README cites a document outside the repository', () => {
    // Built from parts, so this file does not cite them itself.
    const outside = new RegExp(['PROTOCOL', 'CDS-HOOKS'].map((n) => `${n}\\.md`).join('|') + '|\\.\\./shared/');
    const files = [...filesUnder('src'), ...filesUnder('test'), ...filesUnder('cds-hooks'), 'README.md'];
    const fhir = filesUnder('fhir-resources');
    const citing = [...files, ...fhir].filter((file) => outside.test(read(file)));
    expect(citing).toEqual([]);
  });

  it('the citation check can fail: a cited outside document is found', () => {
    const outside = new RegExp(['PROTOCOL', 'CDS-HOOKS'].map((n) => `${n}\\.md`).join('|') + '|\\.\\./shared/');
    expect(outside.test('see ' + 'PROTOCOL' + '.md §3')).toBe(true);
    expect(outside.test('see docs/clinical-specification.md §3')).toBe(false);
  });
});
