/**
 * The EHR's side of a CDS Hooks call, as the CLI (and the tests) play it: read discovery, render the
 * prefetch templates against the context, read them from the FHIR server, build draft orders, call the
 * service. The CDS Hooks types and the template renderer are the service's own (src/contract,
 * src/fhir/prefetch-template.ts): one definition of the contract; what the EHR does with them is written here.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Encounter, FhirResource, MedicationRequest } from 'fhir/r4';
import type { Card as CdsHooksCard, CdsContext, CdsRequest, CdsResponse, HookName } from '../contract/cds-hooks';
import { loadKetamineMedication } from '../cards/medication';
import { renderTemplate } from '../fhir/prefetch-template';
import { loadTerminology } from '../terminology';
import { CliError, type FetchLike, httpRequest, joinUrl, outcomeText } from './http';
import { clinicalStart } from './as-of';

export interface DiscoveredService {
  id: string;
  hook: string;
  title?: string;
  description?: string;
  prefetch?: Record<string, string>;
}

/** The hook context as this EHR sends it: always with the user. */
export type HookContext = CdsContext & { userId: string };

/** A request as this EHR sends it: always with fhirServer and a prefetch. */
type CdsHookRequest = CdsRequest & {
  fhirServer: string;
  context: HookContext;
  prefetch: Record<string, FhirResource | null>;
};

export const RATE_UNITS = ['mg/kg/h', 'mg/h', 'mL/h'] as const;
export type RateUnit = (typeof RATE_UNITS)[number];

const UCUM = 'http://unitsofmeasure.org';
export const DEFAULT_USER = 'Practitioner/demo-clinician';
/** How many `next` pages of a searchset the EHR follows before it stops. */
const MAX_PAGES = 20;

export interface Transport {
  fetch?: FetchLike;
  /** Extra headers for calls to the CDS service (Authorization, X-Demo-Now…), by URL called. */
  serviceHeaders?: (url: string) => Promise<Record<string, string>> | Record<string, string>;
  /** Notes for the person at the terminal (what a public FHIR server did differently, and what was done). */
  warn?: (line: string) => void;
}

/**
 * A `next` link as this client can follow it: servers behind a proxy often write their own host name
 * (`http://internal:8080/fhir?_getpages=…`) into absolute links. A link on another origin is followed on
 * the origin of the base the user gave (same path and query), and the user is told once.
 */
function nextOnBase(next: string, fhirBase: string, transport: Transport = {}): string {
  let target: URL;
  let base: URL;
  try {
    base = new URL(fhirBase);
    target = new URL(next, `${fhirBase.replace(/\/+$/, '')}/`);
  } catch {
    return next;
  }
  if (target.origin === base.origin) return target.toString();
  transport.warn?.(
    `The FHIR server's next link points at ${target.origin}; following it on ${base.origin} (the base you gave).`,
  );
  return `${base.origin}${target.pathname}${target.search}`;
}

async function serviceHeaders(transport: Transport, url: string): Promise<Record<string, string>> {
  return transport.serviceHeaders ? await transport.serviceHeaders(url) : {};
}

function statusError(what: string, url: string, status: number, body: unknown): CliError {
  if (status === 401) {
    return new CliError(
      `${what} answered 401 Unauthorized at ${url}: it requires a signed JWT. Re-run with --jwt, and start the ` +
        'service with the CDS_TRUSTED_ISSUERS value printed by `ketamine-cds trusted-issuers`.',
    );
  }
  const detail = outcomeText(body);
  return new CliError(`${what} answered ${status} at ${url}${detail ? `: ${detail}` : ''}`);
}

/** GET {serviceBase} → the discovery document's services. */
export async function discover(serviceBase: string, transport: Transport = {}): Promise<DiscoveredService[]> {
  const url = serviceBase.replace(/\/+$/, '');
  const res = await httpRequest(
    'the CDS service',
    url,
    { headers: { Accept: 'application/json', ...(await serviceHeaders(transport, url)) } },
    transport,
  );
  if (!res.ok) throw statusError('The CDS service', url, res.status, res.json);
  const services = (res.json as { services?: unknown })?.services;
  if (!Array.isArray(services))
    throw new CliError(`${url} is not a CDS Hooks discovery endpoint (no "services" array)`);
  return services as DiscoveredService[];
}

/** The service for `hook` (or the one named `serviceId`). */
export function pickService(services: DiscoveredService[], hook: HookName, serviceId?: string): DiscoveredService {
  const found = serviceId ? services.find((s) => s.id === serviceId) : services.find((s) => s.hook === hook);
  if (!found) {
    const offered = services.map((s) => `${s.id} (${s.hook})`).join(', ') || 'none';
    throw new CliError(
      `No CDS service ${serviceId ? `with id "${serviceId}"` : `for hook ${hook}`} in discovery; offered: ${offered}`,
    );
  }
  if (found.hook !== hook) throw new CliError(`Service ${found.id} is for hook ${found.hook}, not ${hook}`);
  return found;
}

/** GET {fhirBase}/{relative}; a searchset's `next` pages are merged into one Bundle. */
async function fhirRead(
  fhirBase: string,
  relative: string,
  transport: Transport = {},
): Promise<{ status: number; resource: FhirResource | null; truncated?: boolean }> {
  let url: string | undefined = joinUrl(fhirBase, relative);
  let first: FhirResource | null = null;
  let status = 0;
  const seen = new Set<string>();
  let page = 0;
  for (; url && page < MAX_PAGES; page++) {
    seen.add(url);
    const res = await httpRequest('the FHIR server', url, { headers: { Accept: 'application/fhir+json' } }, transport);
    status = res.status;
    if (!res.ok) return { status, resource: (res.json as FhirResource | undefined) ?? null };
    const body = res.json as FhirResource;
    if (!first) first = body;
    else if (first.resourceType === 'Bundle' && body.resourceType === 'Bundle')
      first.entry = [...(first.entry ?? []), ...(body.entry ?? [])];
    const next = body.resourceType === 'Bundle' ? body.link?.find((l) => l.relation === 'next')?.url : undefined;
    url = next ? nextOnBase(next, fhirBase, transport) : undefined;
    if (url && seen.has(url)) url = undefined; // a server repeating its own page: stop rather than loop
  }
  if (first?.resourceType === 'Bundle') first.link = first.link?.filter((l) => l.relation !== 'next');
  return { status, resource: first, ...(url ? { truncated: true } : {}) };
}

/**
 * The searchset's entries in clinical-time order (`descending` for `_sort=-…`). All of them: `_count` is a
 * page size, and the EHR follows every page anyway.
 */
function sortedByClinicalTime(bundle: Bundle, descending: boolean): Bundle {
  const time = (e: BundleEntry) => (e.resource ? (clinicalStart(e.resource) ?? Number.NEGATIVE_INFINITY) : 0);
  const entry = [...(bundle.entry ?? [])].sort((a, b) => (descending ? time(b) - time(a) : time(a) - time(b)));
  return { ...bundle, entry };
}

/** Sort parameters whose order is the clinical time `clinicalStart` reads, by resource type. */
const CLINICAL_TIME_SORTS: Record<string, string> = {
  Observation: 'date',
  DiagnosticReport: 'date',
  Encounter: 'date',
  MedicationAdministration: 'effective-time',
  MedicationRequest: 'authoredon',
};

/** Whether a searchset sorted by `_sort` came in another clinical-time order (the server ignored `_sort`). */
function ignoredSort(resourceType: string, sort: string, bundle: Bundle): boolean {
  if (CLINICAL_TIME_SORTS[resourceType] !== sort.replace(/^-/, '')) return false;
  const times = (bundle.entry ?? [])
    .filter((e) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome' && e.resource)
    .map((e) => clinicalStart(e.resource as FhirResource))
    .filter((t): t is number => t !== null);
  const descending = sort.startsWith('-');
  return times.some((t, i) => i > 0 && (descending ? t > (times[i - 1] as number) : t < (times[i - 1] as number)));
}

/**
 * Read one prefetch query as an EHR would, coping with what public FHIR servers do: a refused or ignored
 * `_sort` (read again without it, sorted here by clinical time), a capped `_count` without `next` links, or
 * more pages than the EHR follows (all said on `warn`).
 */
async function readPrefetchQuery(
  key: string,
  rendered: string,
  fhirBase: string,
  transport: Transport,
): Promise<{ status: number; resource: FhirResource | null }> {
  const [path = '', query = ''] = rendered.split('?');
  const params = new URLSearchParams(query);
  const countText = params.get('_count');
  const count = countText !== null && /^\d+$/.test(countText) ? Number(countText) : undefined;
  let read = await fhirRead(fhirBase, rendered, transport);
  const sort = params.get('_sort');
  if (read.status >= 400 && read.status < 500 && read.status !== 404 && sort) {
    const reason = outcomeText(read.resource);
    params.delete('_sort');
    params.delete('_count');
    const retry = params.toString() ? `${path}?${params.toString()}` : path;
    const again = await fhirRead(fhirBase, retry, transport);
    if (again.status < 400 && again.resource?.resourceType === 'Bundle') {
      transport.warn?.(
        `prefetch "${key}": the FHIR server refused _sort=${sort} (${read.status}${reason ? `: ${reason}` : ''}); ` +
          'read without it (every page) and sorted here by clinical time.',
      );
      read = { ...again, resource: sortedByClinicalTime(again.resource, sort.startsWith('-')) };
    }
  } else if (
    read.status < 400 &&
    sort &&
    read.resource?.resourceType === 'Bundle' &&
    ignoredSort(path, sort, read.resource)
  ) {
    // 200, but not in the order asked: the server ignored _sort (and _count then kept arbitrary entries)
    params.delete('_sort');
    params.delete('_count');
    const again = await fhirRead(fhirBase, params.toString() ? `${path}?${params.toString()}` : path, transport);
    if (again.status < 400 && again.resource?.resourceType === 'Bundle') {
      transport.warn?.(
        `prefetch "${key}": the FHIR server ignored _sort=${sort} (the entries came in another order); ` +
          'read without it (every page) and sorted here by clinical time.',
      );
      read = { ...again, resource: sortedByClinicalTime(again.resource, sort.startsWith('-')) };
    }
  }
  const bundle = read.resource?.resourceType === 'Bundle' ? read.resource : undefined;
  const got = bundle?.entry?.filter((e) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome').length ?? 0;
  if (read.truncated)
    transport.warn?.(`prefetch "${key}": stopped after ${MAX_PAGES} pages; the prefetch holds ${got} entries.`);
  else if (bundle && typeof bundle.total === 'number' && bundle.total > got && (count === undefined || got < count))
    transport.warn?.(
      `prefetch "${key}": the FHIR server returned ${got} of ${bundle.total} matches` +
        `${count !== undefined ? ` (asked for ${count}: it caps _count)` : ''} and no next link to the rest.`,
    );
  return read;
}

/** Fill every prefetch key: rendered and read from the FHIR server (null when not renderable or not found). */
export async function fillPrefetch(
  templates: Record<string, string>,
  fhirBase: string,
  context: HookContext,
  transport: Transport = {},
): Promise<Record<string, FhirResource | null>> {
  const entries = await Promise.all(
    Object.entries(templates).map(async ([key, template]): Promise<[string, FhirResource | null]> => {
      const rendered = renderTemplate(template, { context });
      if (rendered === null) return [key, null];
      const { status, resource } = await readPrefetchQuery(key, rendered, fhirBase, transport);
      if (status === 404) return [key, null];
      if (status >= 400)
        throw new CliError(
          `The FHIR server answered ${status} to ${rendered} (prefetch "${key}")${outcomeText(resource) ? `: ${outcomeText(resource)}` : ''}`,
        );
      return [key, resource];
    }),
  );
  return Object.fromEntries(entries);
}

/** Check the patient exists on the FHIR server (a clear error instead of a confusing card). */
export async function assertPatient(fhirBase: string, patientId: string, transport: Transport = {}): Promise<void> {
  const { status } = await fhirRead(fhirBase, `Patient/${encodeURIComponent(patientId)}`, transport);
  if (status === 404 || status === 410)
    throw new CliError(
      `Patient ${patientId} was not found on the FHIR server ${fhirBase} (load the examples with ` +
        `\`ketamine-cds load --fhir ${fhirBase} --at titration\`; public test servers purge their data now and then)`,
    );
  if (status >= 400) throw new CliError(`The FHIR server answered ${status} when reading Patient/${patientId}`);
}

/**
 * The encounter an EHR would put in context: at a scenario time (`nowMs`), the one whose period covers it
 * (inpatient first); otherwise the patient's in-progress one. Undefined when there is none.
 */
export async function findOpenEncounter(
  fhirBase: string,
  patientId: string,
  transport: Transport = {},
  nowMs?: number,
): Promise<string | undefined> {
  const { status, resource } = await fhirRead(
    fhirBase,
    `Encounter?patient=${encodeURIComponent(patientId)}`,
    transport,
  );
  if (status >= 400 || resource?.resourceType !== 'Bundle') return undefined;
  const encounters = (resource.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Encounter => r?.resourceType === 'Encounter');
  const open = encounters.filter((e) => {
    if (['cancelled', 'entered-in-error'].includes(e.status)) return false;
    if (nowMs === undefined) return e.status === 'in-progress';
    const start = Date.parse(e.period?.start ?? '');
    const end = e.period?.end ? Date.parse(e.period.end) : Number.POSITIVE_INFINITY;
    return !Number.isNaN(start) && start <= nowMs && nowMs < end;
  });
  // Inpatient as the service's CQL judges it: the class code is one of the inpatient value set's codes.
  const inpatientClasses = loadTerminology().codes('inpatient-encounter-class');
  const inpatient = open.find((e) => inpatientClasses.includes(e.class?.code ?? ''));
  return (inpatient ?? open[0])?.id;
}

export interface DraftOrderInput {
  patientId: string;
  encounterId?: string;
  rate: number;
  unit: RateUnit;
  authoredOn: string;
  requesterId?: string;
  id?: string;
}

/**
 * A draft ketamine infusion order as an EHR holds it before signing. The drug is the ordering concept of the
 * Ketamine ValueSet (the one the cards' suggestions order; the codes live only in the ValueSets).
 */
export function buildDraftOrder(input: DraftOrderInput): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: input.id ?? `draft-${randomUUID()}`,
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: {
      coding: loadKetamineMedication().coding ?? [],
      text: 'Ketamine continuous IV infusion',
    },
    subject: { reference: `Patient/${input.patientId}` },
    ...(input.encounterId ? { encounter: { reference: `Encounter/${input.encounterId}` } } : {}),
    authoredOn: input.authoredOn,
    ...(input.requesterId ? { requester: { reference: input.requesterId } } : {}),
    dosageInstruction: [
      {
        text: `Ketamine IV infusion at ${input.rate} ${input.unit}`,
        doseAndRate: [
          {
            type: {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/dose-rate-type', code: 'ordered', display: 'Ordered' },
              ],
            },
            rateQuantity: { value: input.rate, unit: input.unit, system: UCUM, code: input.unit },
          },
        ],
      },
    ],
  };
}

function draftOrdersBundle(orders: MedicationRequest[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: orders.map((resource): BundleEntry => ({ resource })),
  };
}

export interface BuildRequestInput {
  hook: HookName;
  fhirServer: string;
  patientId: string;
  encounterId?: string;
  userId?: string;
  draftOrders?: MedicationRequest[];
}

export function buildContext(input: BuildRequestInput): HookContext {
  const context: HookContext = { userId: input.userId ?? DEFAULT_USER, patientId: input.patientId };
  if (input.encounterId) context.encounterId = input.encounterId;
  if (input.hook !== 'patient-view') {
    const orders = input.draftOrders ?? [];
    context.draftOrders = draftOrdersBundle(orders);
    if (input.hook === 'order-select') context.selections = orders.map((o) => `MedicationRequest/${o.id}`);
  }
  return context;
}

/** What the CLI reads of a card: CDS Hooks 2.0 (src/contract) and, unchecked, the ketamine-protocol extension. */
export type Card = CdsHooksCard<{ 'ketamine-protocol'?: Record<string, unknown> }>;
export type CardsResponse = CdsResponse<Card>;

/** POST the request to {serviceBase}/{id}; non-200 answers become clear errors. */
export async function callService(
  serviceBase: string,
  serviceId: string,
  request: CdsHookRequest,
  transport: Transport = {},
  extraHeaders: Record<string, string> = {},
): Promise<CardsResponse> {
  const url = joinUrl(serviceBase, encodeURIComponent(serviceId));
  const res = await httpRequest(
    'the CDS service',
    url,
    {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        ...extraHeaders,
        ...(await serviceHeaders(transport, url)),
      },
      body: JSON.stringify(request),
    },
    transport,
  );
  if (!res.ok) throw statusError('The CDS service', url, res.status, res.json);
  const body = res.json as CardsResponse | undefined;
  if (!body || !Array.isArray(body.cards))
    throw new CliError(`The CDS service's answer from ${url} has no "cards" array`);
  return body;
}

export function newHookInstance(): string {
  return randomUUID();
}
