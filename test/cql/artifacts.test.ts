/**
 * The knowledge artifacts: PlanDefinition ↔ parameter file ↔ ELM, generated Library resources in step
 * with the CQL, and the rule that the CQL holds no numbers (this test alone scans the CQL sources).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Library, PlanDefinition, PlanDefinitionAction } from 'fhir/r4';
import { ENTRY_LIBRARIES, PLAN_DEFINITION_URL } from '../../src/cql';
import { readElmDir } from '../../src/cql/elm';
import { PROTOCOL_RULE_SYSTEM } from '../../src/cards/suggestions';
import { RULE_IDS } from '../support/rule-ids';

const ROOT = path.resolve(__dirname, '../..');
const read = <T>(...parts: string[]): T => JSON.parse(readFileSync(path.join(ROOT, ...parts), 'utf8')) as T;
const planDefinition = read<PlanDefinition>('fhir-resources', 'PlanDefinition', 'ketamine-protocol.json');
const elm = readElmDir(path.join(ROOT, 'fhir-resources', 'elm'));
const CQL_DIR = path.join(ROOT, 'fhir-resources', 'cql');
const cqlFiles = readdirSync(CQL_DIR).filter((f) => f.endsWith('.cql'));

function allActions(actions: PlanDefinitionAction[] = []): PlanDefinitionAction[] {
  return actions.flatMap((a) => [a, ...allActions(a.action)]);
}

describe('the protocol PlanDefinition', () => {
  it('has the canonical url the cards use, and its version is the parameter file protocolVersion', () => {
    const parameters = read<{ protocolVersion: string }>('cds-hooks', 'protocol-parameters.json');
    expect(planDefinition.url).toBe(PLAN_DEFINITION_URL);
    expect(planDefinition.version).toBe(parameters.protocolVersion);
  });

  it('when it codes a rule, it uses the one code system of rule codes, the one the cards put in card.source.topic', () => {
    const codings = allActions(planDefinition.action).flatMap((a) => (a.code ?? []).flatMap((c) => c.coding ?? []));
    const ruleCodings = codings.filter((c) => (RULE_IDS as readonly string[]).includes(c.code ?? ''));
    expect(ruleCodings.length).toBeGreaterThanOrEqual(RULE_IDS.length);
    expect([...new Set(ruleCodings.map((c) => c.system))]).toEqual([PROTOCOL_RULE_SYSTEM]);
  });

  it('names every rule of docs/clinical-specification.md §3/§4 as an action', () => {
    const ids = allActions(planDefinition.action).map((a) => a.id);
    for (const rule of RULE_IDS) {
      expect(ids).toContain(rule);
    }
  });

  it('every condition names a define that each of its entry libraries exposes in the ELM', () => {
    const libraries = (planDefinition.library ?? []).map((canonical) =>
      canonical.replace(/\|.*$/, '').replace(/^.*\/Library\//, ''),
    );
    expect(libraries.sort()).toEqual([...new Set(Object.values(ENTRY_LIBRARIES))].sort());
    const conditions = allActions(planDefinition.action).flatMap((a) => a.condition ?? []);
    expect(conditions.length).toBeGreaterThan(0);
    for (const condition of conditions) {
      expect(condition.expression?.language).toBe('text/cql-identifier');
      for (const library of libraries) {
        const defines = (elm.get(library)?.library.statements?.def ?? []).map((d) => d.name);
        expect([
          library,
          condition.expression?.expression,
          defines.includes(condition.expression?.expression ?? ''),
        ]).toEqual([library, condition.expression?.expression, true]);
      }
    }
  });

  it('cites the paper and the parameter file', () => {
    const artifacts = JSON.stringify(planDefinition.relatedArtifact);
    expect(artifacts).toContain('10.1186/s10194-016-0700-3');
    expect(artifacts).toContain('protocol-parameters.json');
  });
});

describe('the CQL sources', () => {
  it('hold no numeric literal (windows and thresholds are parameters applied in TypeScript)', () => {
    expect(cqlFiles.length).toBeGreaterThan(0);
    for (const file of cqlFiles) {
      const code = readFileSync(path.join(CQL_DIR, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, ' ') // block comments
        .replace(/\/\/.*$/gm, ' ') // line comments
        .replace(/'(?:[^'\\]|\\.)*'/g, "''") // string literals (versions, urls, codes)
        .replace(/"(?:[^"\\]|\\.)*"/g, '""') // quoted identifiers
        .replace(/`(?:[^`\\]|\\.)*`/g, '``');
      const numbers = code.match(/(?<![A-Za-z_])\d+(?:\.\d+)?/g) ?? [];
      expect([file, numbers]).toEqual([file, []]);
    }
  });

  it('the scan would catch a number (the test can fail)', () => {
    const strip = (s: string) => s.replace(/'(?:[^'\\]|\\.)*'/g, "''").replace(/"(?:[^"\\]|\\.)*"/g, '""');
    expect(strip(`define "X": Q.value > 3 and 'a 5'`).match(/(?<![A-Za-z_])\d+(?:\.\d+)?/g)).toEqual(['3']);
  });
});

describe('the generated ELM and Library resources', () => {
  it('there is one ELM file and one FHIR Library per CQL library, marked as generated', () => {
    for (const file of cqlFiles) {
      const name = file.replace(/\.cql$/, '');
      const elmFile = read<{ generated?: string; library: { identifier: { id: string } } }>(
        'fhir-resources',
        'elm',
        `${name}.json`,
      );
      expect(elmFile.generated).toMatch(/GENERATED/);
      expect(elmFile.library.identifier.id).toBe(name);
      const library = read<Library>('fhir-resources', 'Library', `${name}.json`);
      expect(library.url).toBe(`https://ketamine-cds.example.org/fhir/Library/${name}`);
      expect(library.content?.map((c) => c.contentType)).toEqual(['text/cql', 'application/elm+json']);
    }
  });

  it('each Library carries the current CQL and ELM (run `npm run cql:build` after editing the CQL)', () => {
    for (const file of cqlFiles) {
      const name = file.replace(/\.cql$/, '');
      const library = read<Library>('fhir-resources', 'Library', `${name}.json`);
      const [cql, elmContent] = library.content ?? [];
      expect(Buffer.from(cql?.data ?? '', 'base64').toString('utf8')).toBe(
        readFileSync(path.join(CQL_DIR, file), 'utf8'),
      );
      expect(Buffer.from(elmContent?.data ?? '', 'base64').toString('utf8')).toBe(
        readFileSync(path.join(ROOT, 'fhir-resources', 'elm', `${name}.json`), 'utf8'),
      );
    }
  });

  it("when a project library took HL7's name FHIRHelpers, a system loading both would clash: none does", () => {
    const names = cqlFiles.map((f) => /^library\s+(\S+)/m.exec(readFileSync(path.join(CQL_DIR, f), 'utf8'))?.[1]);
    expect(names).toContain('KetamineFHIRHelpers');
    expect(names).not.toContain('FHIRHelpers');
  });

  it('each Library depends on the libraries its CQL includes', () => {
    const library = read<Library>('fhir-resources', 'Library', 'KetaminePredicates.json');
    const dependsOn = (library.relatedArtifact ?? []).filter((r) => r.type === 'depends-on').map((r) => r.resource);
    expect(dependsOn).toEqual(
      expect.arrayContaining([
        'https://ketamine-cds.example.org/fhir/Library/KetamineFHIRHelpers|1.0.0',
        'https://ketamine-cds.example.org/fhir/Library/KetamineCommon|1.0.0',
      ]),
    );
  });
});
