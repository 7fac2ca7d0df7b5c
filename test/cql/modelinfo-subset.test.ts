/**
 * The record layer reads records through the part of the FHIR model info the ELM reaches
 * (fhir-resources/elm/fhir-modelinfo-4.0.1-subset.xml, written by `npm run cql:build`; CI's cql:check
 * fails when it is not current). Here: every type the ELM names, and every type those reach, is in it
 * exactly as in cql-exec-fhir's whole model info.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FHIRWrapper } from 'cql-exec-fhir';
import { loadFhirModelInfo, type ModelInfo } from '../../src/cql/fhir-record';

const ELM_DIR = path.join(__dirname, '..', '..', 'fhir-resources', 'elm');

interface Spec {
  name?: string;
  namespace?: string;
  elementType?: Spec;
  choices?: Spec[];
}
interface Info {
  name: string;
  baseTypeSpecifier?: Spec;
  elements: Array<{ name: string; typeSpecifier: Spec }>;
}

const full = (
  FHIRWrapper.FHIRv401().wrap({ resourceType: 'Patient' }).getTypeInfo() as unknown as { modelInfo: ModelInfo }
).modelInfo;
const subset = loadFhirModelInfo();
const find = (m: ModelInfo, name: string) => m.findClass(name) as unknown as Info | undefined;

/** The FHIR type names one specifier refers to (named, list element, choices). */
function namesIn(spec: Spec | undefined): string[] {
  if (!spec) return [];
  const own = spec.name && (spec.namespace === 'FHIR' || spec.namespace === undefined) ? [spec.name] : [];
  return [...own, ...namesIn(spec.elementType), ...(spec.choices ?? []).flatMap(namesIn)];
}

function elmTypeNames(): string[] {
  const names = new Set<string>(['Patient']);
  for (const file of readdirSync(ELM_DIR).filter((f) => f.endsWith('.json'))) {
    const text = readFileSync(path.join(ELM_DIR, file), 'utf8');
    for (const m of text.matchAll(/\{http:\/\/hl7\.org\/fhir\}([A-Za-z][A-Za-z0-9_.]*)/g)) names.add(m[1]!);
  }
  return [...names].filter((name) => find(full, name) !== undefined);
}

describe('the FHIR model info subset the record layer reads', () => {
  it('holds every type the ELM names (the retrieved resources among them)', () => {
    const names = elmTypeNames();
    expect(names).toEqual(expect.arrayContaining(['Observation', 'MedicationAdministration', 'Condition']));
    expect(names.filter((name) => find(subset, name) === undefined)).toEqual([]);
  });

  it('is closed: every base, element and choice type of a type in it is in it too, with the same elements as the whole model info', () => {
    const seen = new Set<string>();
    const todo = elmTypeNames();
    const missing: string[] = [];
    const different: string[] = [];
    while (todo.length > 0) {
      const name = todo.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const mine = find(subset, name);
      const theirs = find(full, name);
      if (!theirs) continue; // a System type
      if (!mine) {
        missing.push(name);
        continue;
      }
      if (JSON.stringify(mine.elements.map((e) => e.name)) !== JSON.stringify(theirs.elements.map((e) => e.name)))
        different.push(name);
      todo.push(...namesIn(mine.baseTypeSpecifier), ...mine.elements.flatMap((e) => namesIn(e.typeSpecifier)));
    }
    expect(missing).toEqual([]);
    expect(different).toEqual([]);
    expect(seen.size).toBeGreaterThan(50);
  });
});
