/**
 * The record windowed before CQL, between gather and evaluate: only the resources a library can
 * retrieve go on to the evaluation (and, with the worker pool, across the thread boundary).
 *
 * What the libraries retrieve is read from the compiled ELM once (every `Retrieve` of every library:
 * its data type, and its code property and value set when it filters by one). A resource is kept when
 * - it is a Patient (the evaluation's context), or
 * - some retrieve reads its type without a code filter, or
 * - some retrieve's value set may hold its code (the same raw-JSON check as the record layer's retrieve,
 *   ./data-provider.ts `mayMatch`, with the codes read once per code property; a code it cannot read is
 *   kept, the engine decides).
 * Every dropped resource is one that no retrieve returns, so the facts are the same with and without
 * the window. Order is kept (ties in "latest" facts go to the first listed), and a resource without an
 * id gets the id the evaluation would have given it in the whole record (./prepare.ts `withEntryId`).
 * The references the CQL follows (medicationReference, request, suspectEntity) point to types read
 * without a code filter, so their targets always stay.
 *
 * Time is not windowed here: the libraries read no look-back (KetamineCommon: "no windows, thresholds
 * or other protocol numbers"). Facts such as the latest weight or vital sign "whatever its age", every
 * final pain score and every ketamine administration (the decision core applies `lookbackDays`, and
 * reports unreadable or excluded ones in its notes) depend on resources of any age, so dropping
 * resources outside the look-back would change the facts.
 */
import type { Bundle, BundleEntry, FhirResource, Resource } from 'fhir/r4';
import { loadTerminology, type Terminology } from '../terminology';
import { DEFAULT_ELM_DIR, readElmDir, type ElmJson } from './elm';
import { mayMatch, rawCodes, rawProperty, type RawCode } from './data-provider';
import { collect, withEntryId } from './prepare';

type Json = Record<string, unknown>;

/** How the libraries read one resource type: without a code filter, or only through these filters. */
type TypeRead = 'all' | Array<{ codeProperty: string; codes: unknown }>;

interface IndexedMatcher {
  hasSystemCode(system: string | undefined, code: string): boolean;
}
const isIndexed = (codes: unknown): codes is IndexedMatcher =>
  codes != null && typeof (codes as Partial<IndexedMatcher>).hasSystemCode === 'function';

/**
 * A type's filters grouped by code property: its raw codes are read once per property and looked up in
 * each value set's index (what mayMatch does filter by filter); a value set without an index goes
 * through mayMatch itself.
 */
function filterTest(filters: Array<{ codeProperty: string; codes: unknown }>): (resource: Json) => boolean {
  const byProperty = new Map<string, IndexedMatcher[]>();
  const others = filters.filter((f) => !isIndexed(f.codes));
  for (const { codeProperty, codes } of filters) {
    if (!isIndexed(codes)) continue;
    const list = byProperty.get(codeProperty) ?? [];
    list.push(codes);
    byProperty.set(codeProperty, list);
  }
  const groups = [...byProperty];
  const found: RawCode[] = [];
  return (resource) => {
    for (const [property, valueSets] of groups) {
      found.length = 0;
      if (!rawCodes(rawProperty(resource, property), found)) return true; // unreadable: the engine decides
      for (const c of found) {
        for (const valueSet of valueSets) if (valueSet.hasSystemCode(c.system, c.code)) return true;
      }
    }
    return others.some((filter) => mayMatch(resource, filter));
  };
}

/** What the libraries retrieve, by resource type; null when some retrieve could not be read (no window). */
export type RetrieveMap = ReadonlyMap<string, TypeRead> | null;

const FHIR_TYPE = /^\{http:\/\/hl7\.org\/fhir\}([A-Za-z]+)$/;

/** Every Retrieve of the ELM libraries, by resource type, with its value set resolved in the terminology. */
export function retrievesOf(elm: ReadonlyMap<string, ElmJson>, terminology: Terminology): RetrieveMap {
  const byType = new Map<string, TypeRead>();
  let readable = true;
  for (const lib of elm.values()) {
    const includes = new Map((lib.library.includes?.def ?? []).map((d) => [d.localIdentifier, d.path]));
    const valueSetOf = (ref: Json): { id: string; version?: string } | undefined => {
      const owner = typeof ref['libraryName'] === 'string' ? elm.get(includes.get(ref['libraryName']) ?? '') : lib;
      return owner?.library.valueSets?.def?.find((d) => d.name === ref['name']);
    };
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) visit(item);
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const n = node as Json;
      if (n['type'] === 'Retrieve') {
        const type = FHIR_TYPE.exec(String(n['dataType']))?.[1];
        if (!type) {
          readable = false;
          return;
        }
        const codes = n['codes'] as Json | undefined;
        const codeProperty = n['codeProperty'];
        const read = byType.get(type);
        if (codes === undefined) {
          byType.set(type, 'all');
          return;
        }
        const def = codes['type'] === 'ValueSetRef' ? valueSetOf(codes) : undefined;
        const valueSet = def ? terminology.codeService.findValueSet(def.id, def.version) : null;
        if (!valueSet || typeof codeProperty !== 'string' || codeProperty.includes('.')) {
          byType.set(type, 'all'); // a filter this module does not read: keep every resource of the type
          return;
        }
        if (read !== 'all') byType.set(type, [...(read ?? []), { codeProperty, codes: valueSet }]);
        return;
      }
      for (const value of Object.values(n)) visit(value);
    };
    visit(lib.library);
  }
  return readable ? byType : null;
}

interface WindowOptions {
  /** Directory of ELM JSON files (default fhir-resources/elm). */
  elmDir?: string;
  terminology?: Terminology;
}

/** The window over the libraries in `elmDir`: a record → the part of it the libraries can retrieve. */
function createRecordWindow(options: WindowOptions = {}): (bundle: Bundle) => Bundle {
  const retrieves = retrievesOf(
    readElmDir(options.elmDir ?? DEFAULT_ELM_DIR),
    options.terminology ?? loadTerminology(),
  );
  if (!retrieves) return (bundle) => bundle;

  const tests = new Map<string, ((resource: Json) => boolean) | 'all'>();
  for (const [type, read] of retrieves) tests.set(type, read === 'all' ? 'all' : filterTest(read));
  const keeps = (resource: Resource): boolean => {
    if (resource.resourceType === 'Patient') return true;
    const test = tests.get(resource.resourceType);
    if (test === undefined) return false;
    return test === 'all' || test(resource as unknown as Json);
  };

  return (bundle) => {
    const items: Array<{ fullUrl: string | undefined; resource: Resource & Json }> = [];
    collect(bundle, items);
    const entry: BundleEntry[] = [];
    items.forEach(({ fullUrl, resource }, index) => {
      if (!keeps(resource)) return;
      const kept = withEntryId(resource, index) as unknown as FhirResource;
      entry.push(fullUrl !== undefined ? { fullUrl, resource: kept } : { resource: kept });
    });
    return { resourceType: 'Bundle', type: 'collection', entry };
  };
}

let defaultWindow: ((bundle: Bundle) => Bundle) | undefined;

/**
 * The flow's window step (src/service/steps.ts): the project's libraries (fhir-resources/elm) and value
 * sets, read on first use. Every hook's libraries are read together (they share their retrieves).
 */
export function windowRecord(bundle: Bundle): Bundle {
  defaultWindow ??= createRecordWindow();
  return defaultWindow(bundle);
}
