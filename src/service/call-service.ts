/**
 * The use case: one CDS Hooks call, from the request body to the cards, readable in one screen.
 *
 *   validate → gather → window → evaluate → decide (+ order checks) → buildCards → assertConformant → audit
 *
 * Everything it uses comes in `deps` (ServiceDeps); nothing mutable is shared between calls, so
 * concurrent calls for different patients cannot mix (CH-B3). A deadline budget bounds the call: past
 * it the answer comes in time, logged and audited as 'degraded' (CH-B2): one card naming the FHIR sources
 * still being fetched and recommending nothing, or `{ cards: [] }` when the data had arrived.
 */
import type { Bundle, FhirResource, MedicationRequest } from 'fhir/r4';
import { notFound, OperationOutcomeError } from '../errors';
import { deadlineCard } from '../cards/build';
import { inTimeZone } from '../protocol/display';
import { malformedPrefetchEntries, ownRecord, type SetAsideSummary } from '../fhir/own-record';
import type { OrderFact } from '../protocol/facts';
import type { OrderCheck, Recommendation } from '../protocol/recommendation';
import type { AuditOutcome } from '../store';
import { validateRequest } from '../validation/request';
import type { CdsResponse, ServiceDeps } from './deps';
import { fetchFailureKind, fetchReasonKind } from './fetch-failures';
import type { CdsRequest, ServiceDefinition } from '../contract/cds-hooks';
import type { PrefetchSource } from '../fhir/gather';

/** What one call produced, for the response and its audit row. */
interface Result {
  response: CdsResponse;
  recommendation: Recommendation | null;
  orderChecks: OrderCheck[];
  sources: Record<string, PrefetchSource>;
  setAside?: SetAsideSummary;
}

export async function callService(serviceId: string, body: unknown, deps: ServiceDeps): Promise<CdsResponse> {
  const started = performance.now();
  const definition = deps.definitions.get(serviceId);
  if (!definition) throw notFound('No CDS service with this id');
  const request = validateRequest(body, definition); // 1 validate (400 naming the field)
  const now = deps.clock();
  try {
    const slowAtDeadline: string[] = []; // filled by gather as the deadline fires
    const outcome = await withDeadline(deps.config.deadlineMs, (signal) =>
      recommend(definition, request, now, deps, signal, slowAtDeadline),
    );
    const result = outcome.timedOut ? degraded(definition, request, deps, slowAtDeadline) : outcome.value;
    deps.steps.assertConformant(result.response); // 6 the response schema, before sending (CH-C9)
    recordCall(deps, definition, request, started, outcome.timedOut ? 'degraded' : 'ok', result, 'deadline');
    return result.response;
  } catch (err) {
    const kind = fetchFailureKind(err); // a prefetch key that could not be fetched (412)
    if (kind) deps.metrics?.fhirFetchFailures.inc({ kind });
    recordCall(
      deps,
      definition,
      request,
      started,
      'error',
      { response: { cards: [] }, recommendation: null, orderChecks: [], sources: {} },
      errorCause(err),
    );
    throw err;
  }
}

/** Steps 2–5: the patient's record, its facts, the protocol's recommendation, the cards. */
async function recommend(
  definition: ServiceDefinition,
  request: CdsRequest,
  now: Date,
  deps: ServiceDeps,
  signal: AbortSignal,
  slowAtDeadline: string[],
): Promise<Result> {
  const { hook } = definition;
  const { config, parameters: params, steps } = deps;
  const record = await steps.gather(definition, request, {
    allowlist: config.fhirServerAllowlist,
    timeoutMs: config.fhirTimeoutMs,
    maxPages: config.fhirMaxPages,
    logger: deps.logger,
    signal,
    slowAtDeadline,
    ...(config.fetchBudget ? { budget: config.fetchBudget } : {}),
  });
  // A source read without failing the call (the Medications the record references) is counted like a key.
  for (const failed of record.failedSources ?? [])
    deps.metrics?.fhirFetchFailures.inc({ kind: fetchReasonKind(failed.reason) });
  // The record is the patient's: another patient's, unreadable or malformed resources are set aside.
  const malformed = malformedPrefetchEntries(request.prefetch) + (record.malformedFetched ?? 0);
  const own = ownRecord(record.resources, request.context.patientId, malformed, now);
  const drafts = draftResources(request);
  const windowed = steps.window(bundleOf(own.resources, drafts)); // only what the libraries retrieve
  const facts = await deps.evaluator.evaluate(windowed, now, hook, signal);
  signal.throwIfAborted();
  // Steps 4–5 are synchronous: every time they print is in the institution's zone (CDS_TIME_ZONE).
  return inTimeZone(config.timeZone ?? 'UTC', (): Result => {
    const encounterId = request.context.encounterId ?? null;
    const draftOrders = medicationRequestsById(drafts);
    const recommendation = steps.decide(facts, params, now, {
      hook,
      encounterId,
      draftOrderIds: [...draftOrders.keys()],
      setAside: own.setAside,
      ...(record.failedSources?.length ? { unfetched: [...new Set(record.failedSources.map((f) => f.type))] } : {}),
    });
    const checked = selectedKetamineDrafts(request, hook, draftOrders, facts.orders);
    const orderChecks = checked.map(({ order }) =>
      steps.checkDraftOrder(
        {
          id: order.id,
          rate: order.rate,
          concentrationMgPerMl: order.medication.concentrationMgPerMl,
          ...(order.medication.strengthUnreadable ? { strengthUnreadable: order.medication.strengthUnreadable } : {}),
        },
        recommendation,
        params,
        hook,
      ),
    );
    const activeOrder = recommendation.activeOrderId
      ? medicationRequestsById(record.resources).get(recommendation.activeOrderId)
      : undefined;
    const cards = steps.buildCards({
      ...deps.cardDefaults,
      hook,
      recommendation,
      orderChecks,
      drafts: Object.fromEntries(checked.map(({ order, draft }) => [order.id, draft])),
      patientId: request.context.patientId,
      encounterId,
      params,
      uuid: deps.uuid,
      now,
      planDefinitionUrl: config.planDefinitionUrl,
      docsUrl: config.docsUrl,
      ...(activeOrder ? { activeOrder } : {}),
    });
    return { response: { cards }, recommendation, orderChecks, sources: record.sources, setAside: own.setAside };
  });
}

/**
 * Past the deadline: no late cards (an EHR drops late answers anyway). When FHIR sources were still being
 * fetched, one card says which were too slow and recommends nothing; otherwise no card.
 */
function degraded(
  definition: ServiceDefinition,
  request: CdsRequest,
  deps: ServiceDeps,
  slowSources: string[],
): Result {
  deps.logger.warn(
    {
      event: 'service.deadline',
      serviceId: definition.id,
      hookInstance: loggableId(request.hookInstance),
      deadlineMs: deps.config.deadlineMs,
      slow: slowSources,
    },
    slowSources.length > 0
      ? 'deadline reached: the slow FHIR sources are named on a card'
      : 'deadline reached: answering with no cards',
  );
  if (slowSources.length > 0) deps.metrics?.fhirFetchFailures.inc({ kind: 'deadline' });
  const cards =
    slowSources.length > 0
      ? [
          deadlineCard({
            slowSources,
            uuid: deps.uuid,
            docsUrl: deps.config.docsUrl,
            protocolVersion: deps.parameters.protocolVersion,
          }),
        ]
      : [];
  return { response: { cards }, recommendation: null, orderChecks: [], sources: {} };
}

type DeadlineOutcome<T> = { timedOut: false; value: T } | { timedOut: true };

/** Runs `work` with an AbortSignal that fires after `ms`; resolves `{ timedOut: true }` at that moment. */
export async function withDeadline<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<DeadlineOutcome<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<DeadlineOutcome<T>>((resolve) => {
    timer = setTimeout(() => {
      resolve({ timedOut: true });
      controller.abort(new OperationOutcomeError('timeout', 'The deadline was reached', { status: 504 }));
    }, ms);
  });
  const running = work(controller.signal).then((value): DeadlineOutcome<T> => ({ timedOut: false, value }));
  running.catch(() => undefined); // a failure after the deadline is no longer anyone's answer
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why a call failed, for its audit row and the degraded-calls metric (no request data). */
function errorCause(err: unknown): string {
  if (!(err instanceof OperationOutcomeError)) return 'exception';
  if (err.status === 412) return 'fhir-unavailable';
  if (err.status === 504) return 'deadline';
  return `http-${err.status}`;
}

/** The audit row (queued for the store) and the log line of one call: ids and numbers only, never the record. */
function recordCall(
  deps: ServiceDeps,
  definition: ServiceDefinition,
  request: CdsRequest,
  started: number,
  outcome: AuditOutcome,
  result: Result,
  cause: string,
): void {
  const { recommendation: rec, orderChecks, response } = result;
  const cardIds = response.cards.flatMap((card) => (card.uuid ? [card.uuid] : []));
  const cards = response.cards.flatMap((card) => {
    const ruleId = card.extension?.['ketamine-protocol']?.ruleId;
    return card.uuid && ruleId ? [{ uuid: card.uuid, ruleId, indicator: card.indicator }] : [];
  });
  for (const card of cards)
    deps.metrics?.cards.inc({ service: definition.id, rule_id: card.ruleId, indicator: card.indicator });
  if (outcome !== 'ok') deps.metrics?.degraded.inc({ service: definition.id, cause });
  const ruleIds = [
    ...(rec ? [rec.ruleId] : []),
    ...orderChecks.flatMap((check) => (check.ruleId ? [check.ruleId] : [])),
  ];
  try {
    deps.store.recordAudit({
      at: deps.clock().toISOString(),
      hookInstance: request.hookInstance,
      serviceId: definition.id,
      hook: definition.hook,
      patientId: request.context.patientId,
      ruleIds,
      action: rec?.action ?? null,
      currentRate: rec?.currentRate ?? null,
      recommendedRate: rec?.recommendedRate ?? null,
      draftRate: orderChecks[0]?.draftRate ?? null,
      protocolVersion: deps.parameters.protocolVersion,
      durationMs: Math.round(performance.now() - started),
      cardCount: response.cards.length,
      outcome,
      ...(Object.keys(result.sources).length > 0 ? { fhirSources: result.sources } : {}),
      ...(cardIds.length > 0 ? { cardIds } : {}),
      ...(result.setAside && result.setAside.items.length > 0
        ? {
            setAside: {
              otherPatient: result.setAside.otherPatient,
              unreadable: result.setAside.unreadable,
              ...(result.setAside.afterNow ? { afterNow: result.setAside.afterNow } : {}),
            },
          }
        : {}),
      ...(cards.length > 0 ? { cards } : {}),
      ...(outcome !== 'ok' ? { degradedCause: cause } : {}),
      ...(deps.requestId ? { requestId: deps.requestId } : {}),
    });
  } catch (err) {
    // The audit must never cost the clinician the answer.
    deps.logger.error(
      { event: 'audit.failed', serviceId: definition.id, error: (err as Error).name },
      'audit row not recorded',
    );
  }
  deps.logger.info(
    {
      event: 'service.call',
      serviceId: definition.id,
      hookInstance: loggableId(request.hookInstance),
      outcome,
      ruleIds,
      cards: response.cards.length,
      ms: Math.round(performance.now() - started),
    },
    'service call',
  );
}

// ----- the hook's draft orders -------------------------------------------------------------------

/** Every resource of context.draftOrders (MedicationRequests and, as Epic sends them, Medications). */
function draftResources(request: CdsRequest): FhirResource[] {
  // Only orders (and their Medications) join the record from draftOrders: an Observation sent there (even
  // another patient's weight) is no part of this patient's chart.
  return (request.context.draftOrders?.entry ?? []).flatMap((entry) =>
    entry?.resource && DRAFT_TYPES.includes(entry.resource.resourceType) ? [entry.resource] : [],
  );
}
const DRAFT_TYPES: readonly string[] = ['MedicationRequest', 'Medication'];

function medicationRequestsById(resources: FhirResource[]): Map<string, MedicationRequest> {
  const byId = new Map<string, MedicationRequest>();
  for (const resource of resources)
    if (resource.resourceType === 'MedicationRequest' && resource.id) byId.set(resource.id, resource);
  return byId;
}

/**
 * The draft orders to check, as the CQL read them (facts.orders: ketamine only) with their resource:
 * order-select the selected ones, order-sign every draft being signed, patient-view none.
 */
function selectedKetamineDrafts(
  request: CdsRequest,
  hook: ServiceDefinition['hook'],
  drafts: Map<string, MedicationRequest>,
  orders: OrderFact[],
): Array<{ order: OrderFact; draft: MedicationRequest }> {
  const prefix = 'MedicationRequest/';
  const ids =
    hook === 'order-sign'
      ? [...drafts.keys()]
      : hook === 'order-select'
        ? (request.context.selections ?? []).filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length))
        : [];
  return ids.flatMap((id) => {
    const draft = drafts.get(id);
    return draft ? orders.filter((order) => order.id === id).map((order) => ({ order, draft })) : [];
  });
}

/** The record plus the hook's drafts as one collection Bundle; a draft replaces a record resource with its id. */
function bundleOf(record: FhirResource[], drafts: FhirResource[]): Bundle {
  const key = (r: FhirResource) => (r.id ? `${r.resourceType}/${r.id}` : null);
  const draftKeys = new Set(drafts.map(key).filter((k): k is string => k !== null));
  const resources = [...record.filter((r) => !draftKeys.has(key(r) ?? '')), ...drafts];
  return { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) };
}

/** A hookInstance as it may appear in logs: an id-like string, else nothing (a client could put anything there). */
export function loggableId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : undefined;
}
