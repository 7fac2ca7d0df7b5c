/**
 * The record as cql-execution reads it: a per-evaluation DataProvider over one prepared bundle.
 *
 * cql-exec-fhir's PatientSource wraps every resource of the retrieved type into a new FHIRObject on
 * each retrieve (its constructor defines a property per model element), so a record with a few
 * hundred Observations and a dozen Observation retrieves spent ~300 ms wrapping. This provider uses
 * cql-exec-fhir's parsed model info with light records (./fhir-record.ts) and:
 * - indexes the resources by type once per evaluation, and by their raw codes once per type and code
 *   property (on the first retrieve that filters by a value set),
 * - drops, before wrapping, resources whose code cannot be in the retrieve's value set (a raw-JSON
 *   check with the same code+system semantics; the engine still applies its own filter after): a
 *   retrieve looks up the value set's codes in that index instead of testing every resource, and
 * - wraps each resource at most once per evaluation.
 * Each evaluation gets its own provider, so concurrent evaluations share no mutable state.
 */
import { Code } from 'cql-execution';
import type { DataProvider, PatientObject } from 'cql-execution';
import type { Bundle, Resource } from 'fhir/r4';
import type { FhirRecord } from './fhir-record';
import { loadFhirModelInfo, wrapResource, type ModelInfo } from './fhir-record';

type Json = Record<string, unknown>;

export interface RetrieveDetails {
  datatype?: string;
  codeProperty?: string;
  codes?: unknown;
}

interface CodeMatcher {
  hasMatch(code: unknown): boolean;
  /** Fast path of the project's indexed value sets (src/terminology): membership by system and code. */
  hasSystemCode?(system: string | undefined, code: string): boolean;
  /** The expansion (cql-execution ValueSet). */
  codes?: unknown;
}

/** The key under which a raw code is indexed: the same system|code pairing hasSystemCode tests. */
const codeKey = (system: string | undefined, code: string): string => `${system ?? ''}|${code}`;

/** The resources of one type indexed by the raw codes at one code property. */
interface CodeIndex {
  /** Positions (in the type's list) of the resources carrying each system|code. */
  byKey: Map<string, number[]>;
  /** Positions of resources whose code property has a shape the raw check cannot read (the engine decides). */
  unreadable: number[];
}

function buildCodeIndex(resources: readonly Json[], property: string): CodeIndex {
  const byKey = new Map<string, number[]>();
  const unreadable: number[] = [];
  const found: RawCode[] = [];
  resources.forEach((resource, position) => {
    found.length = 0;
    if (!rawCodes(rawProperty(resource, property), found)) {
      unreadable.push(position);
      return;
    }
    for (const c of found) {
      const key = codeKey(c.system, c.code);
      const positions = byKey.get(key);
      if (!positions) byKey.set(key, [position]);
      else if (positions[positions.length - 1] !== position) positions.push(position);
    }
  });
  return { byKey, unreadable };
}

/** The index keys of an indexed value set's expansion (computed once per value set object). */
const expansionKeys = new WeakMap<object, string[]>();
function keysOf(valueSet: CodeMatcher & { codes: unknown[] }): string[] {
  let keys = expansionKeys.get(valueSet);
  if (!keys) {
    keys = [];
    for (const c of valueSet.codes) {
      const code = c as { system?: unknown; code?: unknown } | null;
      if (code == null || typeof code.code !== 'string') continue;
      keys.push(codeKey(typeof code.system === 'string' ? code.system : undefined, code.code));
    }
    expansionKeys.set(valueSet, keys);
  }
  return keys;
}

/** The expansion keys of a retrieve's value sets, when every one is an indexed value set with a readable expansion. */
function retrieveKeys(details: RetrieveDetails): string[][] | null {
  const { codes, codeProperty } = details;
  if (codes == null || !codeProperty || codeProperty.includes('.')) return null;
  const list = Array.isArray(codes) ? codes : [codes];
  const out: string[][] = [];
  for (const m of list as CodeMatcher[]) {
    if (m == null || typeof m.hasSystemCode !== 'function' || !Array.isArray(m.codes)) return null;
    out.push(keysOf(m as CodeMatcher & { codes: unknown[] }));
  }
  return out.length > 0 ? out : null;
}

const TYPE_NAME = /^(?:\{http:\/\/hl7\.org\/fhir\})?(?:FHIR\.)?([A-Za-z]+)$/;
/** Resource type of a retrieve's data type or profile (memoised: a handful of distinct strings). */
const typeNames = new Map<string, string | null>();
function typeNameOf(profile: string, datatype: string | undefined): string | null {
  const key = `${datatype ?? ''} ${profile}`;
  let type = typeNames.get(key);
  if (type === undefined) {
    const m = TYPE_NAME.exec(datatype ?? profile) ?? TYPE_NAME.exec(profile.replace(/^.*\//, ''));
    type = m?.[1] ?? null;
    typeNames.set(key, type);
  }
  return type;
}

export type RawCode = { system: string | undefined; code: string };

/** Codes of a raw CodeableConcept or Coding (or a list of them); null when the shape is not one of those. */
export function rawCodes(value: unknown, out: RawCode[]): boolean {
  if (value == null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!rawCodes(item, out)) return false;
    return true;
  }
  if (typeof value !== 'object') return false;
  const json = value as Json;
  if (Array.isArray(json['coding'])) return rawCodes(json['coding'], out);
  if (typeof json['code'] === 'string') {
    out.push({ system: typeof json['system'] === 'string' ? json['system'] : undefined, code: json['code'] });
    return true;
  }
  return 'text' in json && !('code' in json);
}

/** The JSON keys a (one-segment) code property may be charted under: itself, then its coded choices. */
const propertyKeys = new Map<string, string[]>();
function keysOfProperty(property: string): string[] {
  let keys = propertyKeys.get(property);
  if (!keys) {
    keys = [property, `${property}CodeableConcept`, `${property}Coding`];
    propertyKeys.set(property, keys);
  }
  return keys;
}

/** The raw value at a (one-segment) code property; choice elements (value → valueCodeableConcept) included. */
export function rawProperty(resource: Json, property: string): unknown {
  for (const key of keysOfProperty(property)) {
    if (key in resource) return resource[key];
  }
  return undefined;
}

/** Could this resource pass the retrieve's terminology filter? (true when unsure: the engine decides.) */
export function mayMatch(resource: Json, details: RetrieveDetails): boolean {
  const { codes, codeProperty } = details;
  if (codes == null || !codeProperty || codeProperty.includes('.')) return true;
  const matchers: CodeMatcher[] = (Array.isArray(codes) ? codes : [codes]).filter(
    (m): m is CodeMatcher => m != null && typeof (m as CodeMatcher).hasMatch === 'function',
  );
  if (matchers.length === 0) return true;
  const found: RawCode[] = [];
  if (!rawCodes(rawProperty(resource, codeProperty), found)) return true;
  if (found.length === 0) return false;
  return matchers.some((m) =>
    m.hasSystemCode
      ? found.some((c) => m.hasSystemCode?.(c.system, c.code))
      : m.hasMatch(found.map((c) => new Code(c.code, c.system))),
  );
}

/** Builds per-evaluation providers; holds only the (read-only) FHIR 4.0.1 model info. */
export class RecordProviderFactory {
  private readonly modelInfo: ModelInfo = loadFhirModelInfo();

  create(bundle: Bundle): DataProvider {
    const byType = new Map<string, Json[]>();
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as (Resource & Json) | undefined;
      if (!resource) continue;
      const list = byType.get(resource.resourceType) ?? [];
      list.push(resource);
      byType.set(resource.resourceType, list);
    }
    const wrapped = new Map<Json, FhirRecord>();
    const wrap = (json: Json): FhirRecord | undefined => {
      let record = wrapped.get(json);
      if (!record) {
        record = wrapResource(json, this.modelInfo);
        if (record) wrapped.set(json, record);
      }
      return record;
    };
    const wrapAll = (resources: readonly Json[]): FhirRecord[] => {
      const out: FhirRecord[] = [];
      for (const json of resources) {
        const record = wrap(json);
        if (record) out.push(record);
      }
      return out;
    };

    const patientJson = byType.get('Patient')?.[0];
    const patientRecord = patientJson ? wrap(patientJson) : undefined;
    if (!patientRecord) return { currentPatient: () => undefined, nextPatient: () => undefined };

    const codeIndexes = new Map<string, CodeIndex>();
    const codeIndex = (type: string, resources: readonly Json[], property: string): CodeIndex => {
      const key = `${type}.${property}`;
      let index = codeIndexes.get(key);
      if (!index) {
        index = buildCodeIndex(resources, property);
        codeIndexes.set(key, index);
      }
      return index;
    };

    const findRecords = (profile: string, details?: RetrieveDetails): FhirRecord[] => {
      const type = typeNameOf(profile, details?.datatype);
      if (!type) return [];
      const resources = byType.get(type) ?? [];
      if (!details) return wrapAll(resources);
      const valueSetKeys = retrieveKeys(details);
      const expansionSize = valueSetKeys?.reduce((n, keys) => n + keys.length, 0) ?? 0;
      if (valueSetKeys && details.codeProperty && expansionSize < resources.length) {
        // Look the value set's codes up in the index: the same answer as mayMatch on every resource.
        const index = codeIndex(type, resources, details.codeProperty);
        const selected = new Uint8Array(resources.length);
        for (const position of index.unreadable) selected[position] = 1;
        for (const keys of valueSetKeys) {
          for (const key of keys) {
            for (const position of index.byKey.get(key) ?? []) selected[position] = 1;
          }
        }
        const out: FhirRecord[] = [];
        selected.forEach((isSelected, position) => {
          const record = isSelected ? wrap(resources[position] as Json) : undefined;
          if (record) out.push(record);
        });
        return out;
      }
      return wrapAll(resources.filter((r) => mayMatch(r, details)));
    };
    // The patient record is also the engine's PatientObject: non-enumerable, so it still compares by content.
    const patient = Object.defineProperties(patientRecord, {
      findRecords: { value: findRecords },
      findRecord: { value: (profile: string, details?: RetrieveDetails) => findRecords(profile, details)[0] },
    }) as unknown as PatientObject;

    let done = false;
    return {
      currentPatient: () => (done ? undefined : patient),
      nextPatient: () => {
        done = true;
        return undefined;
      },
    };
  }
}
