/**
 * Prefetch engine with FHIR fallback (CDS Hooks 2.0 §Prefetch, CH-P1…CH-P7, CH-J7, CH-B2, CH-B3).
 *
 * Per prefetch key of the service definition:
 *  - present with a resource → used as is (a paged searchset is completed from the server when it can be);
 *  - present with `null` → "no data": no refetch, no 412 (CH-P2);
 *  - present with an OperationOutcome → treated as missing and refetched (CH-P5);
 *  - absent, or the whole `prefetch` absent (CH-P7) → fetched from `fhirServer` (CH-P3), only the missing
 *    keys, in parallel (at most MAX_REQUESTS_PER_CALL requests at a time, over kept-alive connections),
 *    each within `timeoutMs` (all its pages included), with the access token;
 *  - a template token without a value (e.g. no encounterId) → the key yields no data (source 'null').
 * A key that cannot be fetched (no fhirServer, a fhirServer off the allowlist, 401/403/404/5xx, timeout,
 * malformed JSON, redirect, paging link off the server) → 412 OperationOutcome naming the key; the
 * upstream body is never echoed (CH-P4), except the short reason a 4xx OperationOutcome gives (not for
 * 401/403), sanitised: control and invisible characters removed, URLs, queries, the token and the
 * patient id taken out, at most SERVER_REASON_CHARS characters ("HTTP 400, the FHIR server refused the
 * search: …"). A search refused is not retried without `_sort`: the keys rely on `_sort` + `_count` for
 * the newest items. A fhirServer off the allowlist is refused before any request.
 * A searchset that says it has more matches (`total`) than were received over all its pages, fewer than
 * the `_count` asked for, and gives no `next` link (a server capping `_count`) is incomplete: the key
 * fails like any other ("the server returned N of M results and no next page").
 * When `deps.signal` aborts (the caller's deadline, CH-B2) the call rejects with a 504 'timeout' outcome.
 *
 * Referenced Medications: once the keys are gathered (prefetch and fallback alike), the Medications that
 * the record's MedicationAdministrations and MedicationRequests (and the hook's draft orders) reference
 * (`Medication/<id>`) but that no key returned (a `medications` key capped, or not scoped to them) are
 * fetched from an allowed fhirServer in one request (`Medication?_id=a,b,…`, at most
 * MAX_REFERENCED_MEDICATIONS ids, under the same budgets, deadline and token). Only Medications with those
 * ids are kept. A failure there does not fail the call: it is logged and handed back in `failedSources`
 * (counted in the FHIR fetch failure metric), and the reference stays unresolved for the CQL to read as
 * such. Without an allowed fhirServer nothing is fetched.
 *
 * Fetch budget (src/fhir/fetch-json.ts): every response is streamed under a per-response byte limit and
 * the call's total; a request past a limit, its key's timeout or the caller's deadline is aborted (socket
 * closed, body dropped), so nothing fetched for a call outlives it. The 412 names the key and the resource
 * type that was too large or too slow. A key (prefetched or fetched) with more than `maxEntries` resources
 * is refused: 413 when the EHR sent it, 412 when it was fetched.
 *
 * Nothing mutable is shared between calls (CH-B3): one FHIR client and one abort controller per call.
 * Logs carry key names, sources, counts and timings only: never tokens, URLs with ids, or resource content.
 */
import type { Bundle, FhirResource } from 'fhir/r4';
import { badRequest, OperationOutcomeError, preconditionFailed, tooLarge } from '../errors';
import type { Logger } from '../log';
import { assertTokenPatientMatches } from '../security/fhir-authorization';
import type { CdsRequest, ServiceDefinition } from '../contract/cds-hooks';
import { isAllowedFhirServer, isUnderBase, normalizeBaseUrl } from './allowlist';
import { CallBudget, FetchError, getJson, limitConcurrency, type ByteLimits } from './fetch-json';
import { malformedBundleEntries } from './own-record';
import { renderTemplate } from './prefetch-template';

/** How each prefetch key was obtained (for logs/audit; never the data itself). */
export type PrefetchSource = 'prefetch' | 'null' | 'fetched' | 'outcome-refetched';

/** The patient's record as gathered for one call: every resource from prefetch or the FHIR server. */
export interface GatheredRecord {
  resources: FhirResource[];
  sources: Record<string, PrefetchSource>;
  /**
   * Null or malformed entries (and Bundles whose entry or link is not a list) in what was fetched from the
   * FHIR server: set aside and named like the prefetch's (src/fhir/own-record.ts, malformedPrefetchEntries).
   */
  malformedFetched?: number;
  /**
   * Sources that could not be read without failing the call (the Medications the record references): the
   * key they stand for, its resource type and the reason (as in a 412's "could not be fetched: <reason>").
   */
  failedSources?: FailedSource[];
}

/** A source that could not be read, the call going on without it. */
interface FailedSource {
  key: string;
  type: string;
  reason: string;
}

export interface GatherDeps {
  /** Allowed FHIR base URLs (origin + path prefix); empty = loopback hosts only (CH-J7). */
  allowlist: string[];
  /** Per-key budget for fetching one key, all its pages included. */
  timeoutMs: number;
  /** Most searchset pages read per key, the first included (CH-P6). */
  maxPages: number;
  logger: Logger;
  /** The caller's overall deadline (CH-B2): aborting it cancels every outstanding request. */
  signal?: AbortSignal;
  /** Byte limits and the most resources per key (defaults: FETCH_BUDGET_DEFAULTS). */
  budget?: Partial<FetchBudget>;
  /**
   * Filled at the deadline with the sources still being fetched ("vitals (Observation)"), so the caller's
   * degraded answer can name what was too slow (issue 7: the card says which source).
   */
  slowAtDeadline?: string[];
}

export interface FetchBudget extends ByteLimits {
  /** Most resources one prefetch key may contribute (all its pages together). */
  maxEntries: number;
}

const MIB = 1024 * 1024;
/** Defaults of the fetch budget (settings FHIR_MAX_RESPONSE_BYTES, FHIR_MAX_CALL_BYTES, PREFETCH_MAX_ENTRIES). */
const FETCH_BUDGET_DEFAULTS: FetchBudget = {
  maxResponseBytes: 4 * MIB,
  maxCallBytes: 16 * MIB,
  maxEntries: 5000,
};
/** Requests of one call in flight at a time (the keys are fetched in parallel up to this). */
const MAX_REQUESTS_PER_CALL = 6;
/** Most referenced Medications fetched in the one request for them (ids the keys did not return). */
const MAX_REFERENCED_MEDICATIONS = 50;
/** Longest reason quoted from a FHIR server's OperationOutcome in a message. */
const SERVER_REASON_CHARS = 200;
/** A FHIR id (R4: 1–64 of A–Z, a–z, 0–9, '-', '.'). */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Why a key could not be fetched: `reason` for the 412 diagnostics (it may quote the server's sanitised
 * reason), `logReason` for the log (never anything the server wrote).
 */
class FetchFailure extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
    readonly logReason: string = reason,
  ) {
    super(reason);
  }
}

/** The resource type a prefetch query asks for (`Observation?patient=…` → Observation), for messages. */
function resourceTypeOf(query: string): string | undefined {
  const type = /^\/?([A-Z][A-Za-z]{1,63})(?:[/?]|$)/.exec(query)?.[1];
  return type;
}

type ResourceLike = FhirResource;

const isResource = (value: unknown): value is ResourceLike =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  typeof (value as { resourceType?: unknown }).resourceType === 'string';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isBundle = (resource: ResourceLike): resource is Bundle => resource.resourceType === 'Bundle';

/**
 * A Bundle's `next` link. A link that is not a list (or not an object) is not read: the Bundle is counted as
 * malformed (malformedBundleEntries), and a `next` url that is not a string is a malformed paging link.
 */
function nextLink(resource: ResourceLike): unknown {
  if (!isBundle(resource) || !Array.isArray(resource.link)) return undefined;
  const links: unknown[] = resource.link;
  const next = links.find((link) => isObject(link) && link['relation'] === 'next');
  return isObject(next) ? next['url'] : undefined;
}

/** The resources a value contributes: a Bundle's entry resources (minus outcome entries), else itself. */
function resourcesOf(resource: ResourceLike): ResourceLike[] {
  if (!isBundle(resource)) return resource.resourceType === 'OperationOutcome' ? [] : [resource];
  const out: ResourceLike[] = [];
  // An entry that is not a list is skipped here and counted by the record check (src/fhir/own-record.ts).
  const entries: unknown[] = Array.isArray(resource.entry) ? resource.entry : [];
  for (const entry of entries) {
    // A null or malformed entry is skipped here and counted by the record check (src/fhir/own-record.ts).
    if (!isObject(entry) || (isObject(entry['search']) && entry['search']['mode'] === 'outcome')) continue;
    const resource = entry['resource'];
    if (!isResource(resource) || resource.resourceType === 'OperationOutcome') continue;
    out.push(resource);
  }
  return out;
}

function describeError(err: unknown, signal: AbortSignal): string {
  if (err instanceof FetchError && err.kind === 'too-large') return err.reason;
  if (signal.aborted) return 'timeout';
  if (err instanceof FetchError || err instanceof FetchFailure) return err.reason;
  return 'network error';
}

/**
 * An HTTP error said plainly: `HTTP 404, not found on the FHIR server`, `HTTP 400, the FHIR server refused
 * the search: <its reason>`. The server's reason is sanitised (sanitizeServerReason).
 */
function describeHttpError(status: number, serverReason: string | undefined, isSearch: boolean, redact: string[]) {
  const what =
    status === 404 || status === 410
      ? 'not found on the FHIR server'
      : status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 407
        ? `the FHIR server refused the ${isSearch ? 'search' : 'request'}`
        : undefined;
  const said = serverReason === undefined ? '' : sanitizeServerReason(serverReason, redact);
  return `HTTP ${status}${what ? `, ${what}` : ''}${said ? `: ${said}` : ''}`;
}

/**
 * A FHIR server's reason made safe to show: control, format and invisible characters removed; URLs,
 * query strings, bearer tokens (the call's own, and anything shaped like a JWT) and the patient id taken
 * out; whitespace collapsed; at most SERVER_REASON_CHARS characters.
 */
export function sanitizeServerReason(text: string, redact: string[] = []): string {
  let out = text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ');
  out = out.replace(/\b[A-Za-z][A-Za-z0-9+.-]*:\/\/\S*/g, '[URL]');
  out = out.replace(/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[token]');
  out = out.replace(/\bBearer\s+\S+/gi, 'Bearer [token]');
  out = out.replace(/\?[^\s"'=]*=\S*/g, '[query]');
  for (const secret of redact) {
    if (secret.length === 0) continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(?<![A-Za-z0-9.-])${escaped}(?![A-Za-z0-9.-])`, 'g'), '[…]');
  }
  out = out.replace(/\s+/g, ' ').trim();
  const chars = [...out];
  return chars.length > SERVER_REASON_CHARS ? `${chars.slice(0, SERVER_REASON_CHARS - 1).join('')}…` : out;
}

/** Entries of a searchset page that count toward its `total` (matches: not include or outcome entries). */
function matchEntries(bundle: Bundle): number {
  const entries: unknown[] = Array.isArray(bundle.entry) ? bundle.entry : [];
  return entries.filter((entry) => {
    const mode = isObject(entry) && isObject(entry['search']) ? entry['search']['mode'] : undefined;
    return mode !== 'include' && mode !== 'outcome';
  }).length;
}

/** A searchset's `total`, when it is a count. */
function totalOf(resource: ResourceLike): number | undefined {
  if (!isBundle(resource)) return undefined;
  const total: unknown = resource.total;
  return typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? total : undefined;
}

/** The `_count` a query asks for, when it is a number. */
function countAskedIn(query: string | null): number | undefined {
  if (query === null) return undefined;
  const questionMark = query.indexOf('?');
  if (questionMark < 0) return undefined;
  const value = new URLSearchParams(query.slice(questionMark + 1)).get('_count');
  return value !== null && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

interface KeyResult {
  key: string;
  resources: ResourceLike[];
  pages: number;
  truncated: boolean;
  /** Null or malformed entries in the pages fetched for this key (the prefetch's own page is counted elsewhere). */
  malformed: number;
}

/** One call's fetch context: base URL, client and signals. Created per `gather` call, never shared. */
class Fetcher {
  private readonly limit = limitConcurrency(MAX_REQUESTS_PER_CALL);

  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
    private readonly deps: GatherDeps,
    private readonly budget: CallBudget,
    private readonly maxEntries: number,
    private readonly group: AbortSignal,
    /** Never shown in a message quoting the server: the token, the patient id. */
    private readonly redact: string[],
  ) {}

  private async get(key: string, url: string, signal: AbortSignal): Promise<ResourceLike> {
    if (!isUnderBase(url, this.base)) throw new FetchFailure(key, 'URL off the FHIR server');
    let result: unknown;
    try {
      // Redirects are never followed: an allowed server must not bounce us (and the token) elsewhere.
      result = await this.limit(() =>
        getJson(url, { signal, budget: this.budget, ...(this.token ? { token: this.token } : {}) }),
      );
    } catch (err) {
      if (err instanceof FetchError && err.http && !signal.aborted) {
        const isSearch = new URL(url).search !== '';
        const { status, serverReason } = err.http;
        throw new FetchFailure(
          key,
          describeHttpError(status, serverReason, isSearch, this.redact),
          describeHttpError(status, undefined, isSearch, []),
        );
      }
      throw new FetchFailure(key, describeError(err, signal));
    }
    if (!isResource(result)) throw new FetchFailure(key, 'malformed response');
    if (result.resourceType === 'OperationOutcome') throw new FetchFailure(key, 'OperationOutcome returned');
    return result;
  }

  /** Reads a resource or searchset and follows `next` links up to maxPages (CH-P6). */
  async fetchKey(key: string, relative: string): Promise<KeyResult> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.deps.timeoutMs), this.group]);
    const first = await this.get(key, new URL(relative, `${this.base}/`).toString(), signal);
    return this.followPages(key, first, 1, signal, malformedBundleEntries(first), countAskedIn(relative));
  }

  /** Completes a searchset whose first page(s) are already in hand (`query`: the key's, for its `_count`). */
  async completePages(key: string, first: ResourceLike, query: string | null): Promise<KeyResult> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.deps.timeoutMs), this.group]);
    return this.followPages(key, first, 1, signal, 0, countAskedIn(query));
  }

  private async followPages(
    key: string,
    first: ResourceLike,
    pagesRead: number,
    signal: AbortSignal,
    malformedSoFar: number,
    countAsked: number | undefined,
  ): Promise<KeyResult> {
    const resources = resourcesOf(first);
    if (resources.length > this.maxEntries) throw new FetchFailure(key, `more than ${this.maxEntries} resources`);
    let pages = pagesRead;
    let malformed = malformedSoFar;
    let received = isBundle(first) ? matchEntries(first) : 0;
    let total = totalOf(first);
    let next = nextLink(first);
    while (next !== undefined && pages < this.deps.maxPages) {
      let url: string;
      try {
        if (typeof next !== 'string') throw new TypeError('not a string');
        url = new URL(next, `${this.base}/`).toString();
      } catch {
        throw new FetchFailure(key, 'malformed paging link');
      }
      if (!isUnderBase(url, this.base)) throw new FetchFailure(key, 'paging link off the FHIR server');
      const page = await this.get(key, url, signal);
      if (!isBundle(page)) throw new FetchFailure(key, 'malformed paging response');
      resources.push(...resourcesOf(page));
      malformed += malformedBundleEntries(page);
      if (resources.length > this.maxEntries) throw new FetchFailure(key, `more than ${this.maxEntries} resources`);
      pages += 1;
      received += matchEntries(page);
      total = totalOf(page) ?? total;
      next = nextLink(page);
    }
    // A server that caps `_count` and drops the `next` link: fewer matches than it says it has, fewer than
    // asked for, and no way to the rest. The newest items may be among those missing: the key is incomplete.
    if (
      next === undefined &&
      total !== undefined &&
      total > received &&
      (countAsked === undefined || received < countAsked)
    )
      throw new FetchFailure(key, `the server returned ${received} of ${total} results and no next page`);
    return { key, resources, pages, truncated: next !== undefined, malformed };
  }
}

function keyFailed(keys: string[], why: string, types: Map<string, string> = new Map()): OperationOutcomeError {
  const names = keys.map((k) => (types.has(k) ? `"${k}" (${types.get(k)})` : `"${k}"`)).join(', ');
  const noun = keys.length === 1 ? 'Prefetch key' : 'Prefetch keys';
  return preconditionFailed(
    `${noun} ${names} missing and could not be fetched: ${why}`,
    keys.map((k) => `prefetch.${k}`),
  );
}

const deadlineExceeded = (slow: string[] = []) =>
  new OperationOutcomeError(
    'timeout',
    `Gathering FHIR data exceeded the deadline${slow.length > 0 ? ` (still fetching: ${slow.join(', ')})` : ''}`,
    { status: 504, ...(slow.length > 0 ? { expression: slow.map((k) => `prefetch.${k.split(':')[0]}`) } : {}) },
  );

/** CDS Hooks prefetch with FHIR fallback: the patient's record for one call. */
export async function gather(
  definition: ServiceDefinition,
  request: CdsRequest,
  deps: GatherDeps,
): Promise<GatheredRecord> {
  assertTokenPatientMatches(request); // a token bound to another patient is never used (400)
  const started = performance.now();
  const sources: Record<string, PrefetchSource> = {};
  const byKey = new Map<string, ResourceLike[]>();
  let malformedFetched = 0;
  const provided = request.prefetch ?? undefined;
  const toFetch: Array<{ key: string; query: string; source: PrefetchSource }> = [];
  const toComplete: Array<{ key: string; first: ResourceLike; query: string | null }> = [];
  const budget: FetchBudget = { ...FETCH_BUDGET_DEFAULTS, ...deps.budget };
  const types = new Map<string, string>();

  for (const [key, template] of Object.entries(definition.prefetch)) {
    const present =
      provided !== undefined && Object.prototype.hasOwnProperty.call(provided, key) && provided[key] !== undefined;
    const value: unknown = present ? provided[key] : undefined;
    if (present && value === null) {
      sources[key] = 'null'; // CH-P2: "no data", not refetched.
      continue;
    }
    if (present && !isResource(value)) throw badRequest(`prefetch.${key} is not a FHIR resource`, [`prefetch.${key}`]);
    if (present && isResource(value) && value.resourceType !== 'OperationOutcome') {
      sources[key] = 'prefetch';
      const given = resourcesOf(value);
      if (given.length > budget.maxEntries)
        throw tooLarge(`prefetch.${key} has more than ${budget.maxEntries} resources (the service's limit per key)`);
      byKey.set(key, given);
      if (nextLink(value) !== undefined) {
        const type = resourceTypeOf(template);
        if (type !== undefined) types.set(key, type);
        toComplete.push({ key, first: value, query: renderTemplate(template, request) });
      }
      continue;
    }
    // Absent (CH-P3, CH-P7) or an OperationOutcome (CH-P5): fetch it if the request lets us.
    const query = renderTemplate(template, request);
    if (query === null) {
      sources[key] = 'null'; // a token without a value (e.g. no encounterId): this key has no data.
      continue;
    }
    const type = resourceTypeOf(query);
    if (type !== undefined) types.set(key, type);
    toFetch.push({ key, query, source: present ? 'outcome-refetched' : 'fetched' });
  }

  const fetchKeys = toFetch.map((f) => f.key);
  const server = request.fhirServer;
  const serverAllowed = server !== undefined && isAllowedFhirServer(server, deps.allowlist);
  if (toFetch.length > 0) {
    if (server === undefined) throw keyFailed(fetchKeys, 'no fhirServer in the request');
    if (!serverAllowed) {
      deps.logger.warn(
        { event: 'prefetch.server-refused', keys: fetchKeys, origin: normalizeBaseUrl(server)?.origin ?? 'invalid' },
        'fhirServer not on the allowlist',
      );
      throw keyFailed(fetchKeys, 'the fhirServer is not an allowed FHIR server');
    }
  }
  const completable = serverAllowed ? toComplete : [];
  for (const { key } of toComplete) {
    if (!serverAllowed)
      deps.logger.warn({ event: 'prefetch.truncated', key }, 'paged prefetch not completed: no allowed fhirServer');
  }
  const medicationKey = keyOfType(definition, 'Medication');
  types.set(medicationKey, 'Medication');
  const referenced: ResourceLike[] = [];
  const failedSources: FailedSource[] = [];

  if (serverAllowed && server !== undefined) {
    const base = server.replace(/\/+$/, '');
    const token = request.fhirAuthorization?.access_token;
    const group = new AbortController();
    const pending = new Set<string>();
    const onDeadline = () => {
      // Synchronously, as the deadline fires: the caller's degraded answer is built right after.
      deps.slowAtDeadline?.push(...[...pending].map((k) => (types.has(k) ? `${k} (${types.get(k)})` : k)));
      group.abort();
    };
    const callBudget = new CallBudget(budget);
    const patientId = request.context.patientId.replace(/^Patient\//, '');
    const redact = [...(token ? [token] : []), patientId, request.context.patientId];
    const fetcher = new Fetcher(base, token, deps, callBudget, budget.maxEntries, group.signal, redact);
    const timed = async (key: string, run: () => Promise<KeyResult>, source: PrefetchSource) => {
      const t0 = performance.now();
      pending.add(key);
      try {
        const result = await run();
        pending.delete(key);
        const ms = Math.round(performance.now() - t0);
        deps.logger.debug(
          { event: 'prefetch.key', key, source, pages: result.pages, count: result.resources.length, ms },
          'prefetch key gathered',
        );
        if (result.truncated)
          deps.logger.warn({ event: 'prefetch.page-limit', key, pages: result.pages }, 'page limit reached');
        return result;
      } catch (err) {
        group.abort(); // fail fast: the others are no longer needed.
        throw err;
      }
    };
    deps.signal?.addEventListener('abort', onDeadline, { once: true });
    try {
      if (toFetch.length > 0 || completable.length > 0) {
        if (deps.signal?.aborted) throw deadlineExceeded();
        const results = await Promise.all([
          ...toFetch.map(({ key, query, source }) => timed(key, () => fetcher.fetchKey(key, query), source)),
          ...completable.map(({ key, first, query }) =>
            timed(key, () => fetcher.completePages(key, first, query), 'prefetch'),
          ),
        ]);
        for (const result of results) {
          byKey.set(result.key, result.resources);
          malformedFetched += result.malformed;
        }
        for (const { key, source } of toFetch) sources[key] = source;
      }
      // The Medications the record references that no key returned: one bounded request, never fatal.
      const { ids, more } = missingMedicationIds([...byKey.values()].flat(), request, base);
      if (ids.length > 0 && !deps.signal?.aborted) {
        const query = `Medication?_id=${ids.map(encodeURIComponent).join(',')}&_count=${ids.length}`;
        const t0 = performance.now();
        pending.add(medicationKey);
        try {
          const result = await fetcher.fetchKey(medicationKey, query);
          const wanted = new Set(ids);
          const found = result.resources.filter((r) => r.resourceType === 'Medication' && wanted.has(r.id ?? ''));
          referenced.push(...found);
          malformedFetched += result.malformed;
          const unresolved = ids.length - new Set(found.map((r) => r.id)).size;
          deps.logger.debug(
            {
              event: 'prefetch.referenced-medications',
              key: medicationKey,
              asked: ids.length,
              found: found.length,
              unresolved,
              ms: Math.round(performance.now() - t0),
            },
            'referenced Medications fetched',
          );
        } catch (err) {
          if (deps.signal?.aborted || !(err instanceof FetchFailure)) throw err;
          failedSources.push({ key: medicationKey, type: 'Medication', reason: err.reason });
          deps.logger.warn(
            { event: 'prefetch.referenced-medications-failed', key: medicationKey, reason: err.logReason },
            'referenced Medications could not be fetched: the references stay unresolved',
          );
        } finally {
          pending.delete(medicationKey);
        }
      }
      if (more > 0) {
        failedSources.push({
          key: medicationKey,
          type: 'Medication',
          reason: `more than ${MAX_REFERENCED_MEDICATIONS} referenced Medications missing: ${more} not fetched`,
        });
        deps.logger.warn(
          { event: 'prefetch.referenced-medications-failed', key: medicationKey, notFetched: more },
          'too many referenced Medications missing: the rest stay unresolved',
        );
      }
    } catch (err) {
      if (deps.signal?.aborted) {
        // The keys still being fetched at the deadline, with their resource types: what was too slow.
        const slow = [...pending].map((k) => (types.has(k) ? `${k}:${types.get(k)}` : k));
        deps.logger.warn(
          { event: 'prefetch.deadline', keys: fetchKeys, slow, bytes: callBudget.bytesReceived },
          'deadline reached while gathering',
        );
        throw deadlineExceeded(slow);
      }
      if (err instanceof FetchFailure) {
        deps.logger.warn(
          { event: 'prefetch.failed', key: err.key, type: types.get(err.key), reason: err.logReason },
          'prefetch key could not be fetched',
        );
        throw keyFailed([err.key], err.reason, types);
      }
      throw err;
    } finally {
      deps.signal?.removeEventListener('abort', onDeadline);
      group.abort(); // belt and braces: nothing of this call keeps running once it has settled.
    }
  }

  const keys = Object.keys(definition.prefetch);
  const resources = dedupe([...keys.flatMap((key) => byKey.get(key) ?? []), ...referenced]);
  const ordered: Record<string, PrefetchSource> = {};
  for (const key of keys) if (sources[key] !== undefined) ordered[key] = sources[key];
  deps.logger.info(
    {
      event: 'prefetch.gathered',
      // `key:source` strings: a key named like a redacted path (e.g. `patient`) must stay visible.
      sources: keys.filter((k) => ordered[k] !== undefined).map((k) => `${k}:${ordered[k]}`),
      fetched: fetchKeys,
      count: resources.length,
      ...(referenced.length > 0 ? { referencedMedications: referenced.length } : {}),
      ...(failedSources.length > 0 ? { failed: failedSources.map((f) => f.key) } : {}),
      ms: Math.round(performance.now() - started),
    },
    'prefetch gathered',
  );
  return {
    resources,
    sources: ordered,
    ...(malformedFetched > 0 ? { malformedFetched } : {}),
    ...(failedSources.length > 0 ? { failedSources } : {}),
  };
}

/** The key of the definition that reads `type` (e.g. `medications` for Medication), for messages. */
function keyOfType(definition: ServiceDefinition, type: string): string {
  const entry = Object.entries(definition.prefetch).find(([, template]) => resourceTypeOf(template) === type);
  return entry?.[0] ?? `${type.charAt(0).toLowerCase()}${type.slice(1)}s`;
}

/** The id of a `Medication/<id>` reference (relative, or absolute on `base`); undefined for anything else. */
function medicationIdOf(reference: unknown, base: string): string | undefined {
  if (!isObject(reference) || typeof reference['reference'] !== 'string') return undefined;
  let ref = reference['reference'];
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(ref)) {
    if (!ref.startsWith(`${base}/`)) return undefined; // another server's Medication is not fetched
    ref = ref.slice(base.length + 1);
  }
  const match = /^Medication\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(ref);
  const id = match?.[1];
  return id !== undefined && FHIR_ID.test(id) ? id : undefined;
}

/**
 * The ids of the Medications referenced by the record's MedicationAdministrations and MedicationRequests
 * and by the hook's draft orders, that neither the record nor the drafts hold: at most
 * MAX_REFERENCED_MEDICATIONS (`more`: how many were left out).
 */
function missingMedicationIds(
  record: ResourceLike[],
  request: CdsRequest,
  base: string,
): { ids: string[]; more: number } {
  const drafts = (request.context.draftOrders?.entry ?? []).flatMap((entry) =>
    isObject(entry) && isResource(entry['resource']) ? [entry['resource']] : [],
  );
  const all = [...record, ...drafts];
  const held = new Set(all.filter((r) => r.resourceType === 'Medication' && r.id).map((r) => r.id));
  const missing = new Set<string>();
  for (const resource of all) {
    if (resource.resourceType !== 'MedicationAdministration' && resource.resourceType !== 'MedicationRequest') continue;
    const id = medicationIdOf((resource as unknown as Record<string, unknown>)['medicationReference'], base);
    if (id !== undefined && !held.has(id)) missing.add(id);
  }
  const ids = [...missing];
  return {
    ids: ids.slice(0, MAX_REFERENCED_MEDICATIONS),
    more: Math.max(0, ids.length - MAX_REFERENCED_MEDICATIONS),
  };
}

/** Resources de-duplicated by type/id, first occurrence kept; resources without id are all kept. */
function dedupe(resources: ResourceLike[]): ResourceLike[] {
  const seen = new Set<string>();
  return resources.filter((resource) => {
    if (resource.id === undefined) return true;
    const ref = `${resource.resourceType}/${resource.id}`;
    if (seen.has(ref)) return false;
    seen.add(ref);
    return true;
  });
}
