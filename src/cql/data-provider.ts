/**
 * The record as cql-execution reads it: a per-evaluation DataProvider over one prepared bundle.
 *
 * cql-exec-fhir's PatientSource wraps every resource of the retrieved type into a new FHIRObject on
 * each retrieve (its constructor defines a property per model element), so a record with a few
 * hundred Observations and a dozen Observation retrieves spent ~300 ms wrapping. This provider uses
 * cql-exec-fhir's parsed model info with light records (./fhir-record.ts) and:
 * - indexes the resources by type once per evaluation,
 * - drops, before wrapping, resources whose code cannot be in the retrieve's value set (a raw-JSON
 *   check with the same code+system semantics; the engine still applies its own filter after), and
 * - wraps each resource at most once per evaluation.
 * Each evaluation gets its own provider, so concurrent evaluations share no mutable state.
 */
import { Code } from 'cql-execution';
import type { DataProvider, PatientObject } from 'cql-execution';
import type { Bundle, Resource } from 'fhir/r4';
import type { FhirRecord } from './fhir-record';
import { loadFhirModelInfo, wrapResource, type ModelInfo } from './fhir-record';

type Json = Record<string, unknown>;

interface RetrieveDetails {
  datatype?: string;
  codeProperty?: string;
  codes?: unknown;
}

interface CodeMatcher {
  hasMatch(code: unknown): boolean;
  /** Fast path of the project's indexed value sets (src/terminology). */
  hasSystemCode?(system: string | undefined, code: string): boolean;
}

const TYPE_NAME = /^(?:\{http:\/\/hl7\.org\/fhir\})?(?:FHIR\.)?([A-Za-z]+)$/;

type RawCode = { system: string | undefined; code: string };

/** Codes of a raw CodeableConcept or Coding (or a list of them); null when the shape is not one of those. */
function rawCodes(value: unknown, out: RawCode[]): boolean {
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

/** The raw value at a (one-segment) code property; choice elements (value → valueCodeableConcept) included. */
function rawProperty(resource: Json, property: string): unknown {
  if (property in resource) return resource[property];
  for (const suffix of ['CodeableConcept', 'Coding']) {
    const key = `${property}${suffix}`;
    if (key in resource) return resource[key];
  }
  return undefined;
}

/** Could this resource pass the retrieve's terminology filter? (true when unsure: the engine decides.) */
function mayMatch(resource: Json, details: RetrieveDetails): boolean {
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
    const wrap = (json: Json): FhirRecord[] => {
      let record = wrapped.get(json);
      if (!record) {
        record = wrapResource(json, this.modelInfo);
        if (!record) return [];
        wrapped.set(json, record);
      }
      return [record];
    };

    const patientJson = byType.get('Patient')?.[0];
    const patientRecord = patientJson ? wrap(patientJson)[0] : undefined;
    if (!patientRecord) return { currentPatient: () => undefined, nextPatient: () => undefined };

    const findRecords = (profile: string, details?: RetrieveDetails): FhirRecord[] => {
      const m = TYPE_NAME.exec(details?.datatype ?? profile) ?? TYPE_NAME.exec(profile.replace(/^.*\//, ''));
      const type = m?.[1];
      if (!type) return [];
      const resources = byType.get(type) ?? [];
      return resources.filter((r) => !details || mayMatch(r, details)).flatMap(wrap);
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
