/**
 * What callService needs, passed in (never read from globals): the steps of the flow, the clock, the
 * uuid generator, the parameters, the store and the logger. Tests hand in fakes (a slow gather, a fixed
 * clock); main.ts hands in the real modules (src/service/steps.ts).
 */
import type { Bundle } from 'fhir/r4';
import type { CardInput } from '../cards/build';
import type { Card, CdsResponse } from '../cards/types';
import type { ProtocolParameters } from '../config/parameters';
import type { GatherDeps } from '../fhir/gather';
import type { Logger } from '../log';
import type { Metrics } from '../ops/metrics';
import type { ChartedRate, ClinicalFacts } from '../protocol/facts';
import type { OrderCheck, Recommendation } from '../protocol/recommendation';
import type { AuditRow } from '../store';
import type { Definitions } from './definitions';
import type { CdsRequest, GatheredRecord, HookName, ServiceDefinition } from './types';

export type { Card, CdsResponse };

/** src/cql: FHIR record → ClinicalFacts at `now`. */
export interface Evaluator {
  evaluate(bundle: Bundle, now: Date, hook: HookName): Promise<ClinicalFacts>;
}

/** What decide() needs to know about the hook call besides the facts. */
export interface DecideContext {
  hook: HookName;
  encounterId: string | null;
  /** Ids of the MedicationRequests in context.draftOrders (order hooks), to tell them from the record's orders. */
  draftOrderIds: string[];
}

/** One selected draft ketamine order, as checkDraftOrder reads it. */
export interface DraftToCheck {
  id: string;
  rate: ChartedRate | null;
  concentrationMgPerMl: number | null;
}

/** The modules the flow calls, in the order it calls them. */
export interface Steps {
  gather(definition: ServiceDefinition, request: CdsRequest, deps: GatherDeps): Promise<GatheredRecord>;
  decide(facts: ClinicalFacts, params: ProtocolParameters, now: Date, context: DecideContext): Recommendation;
  checkDraftOrder(
    draft: DraftToCheck,
    recommendation: Recommendation,
    params: ProtocolParameters,
    hook: HookName,
  ): OrderCheck;
  buildCards(input: CardInput): Card[];
  /** Throws a 500 OperationOutcomeError when the response is not conformant (CH-C9). */
  assertConformant(response: CdsResponse): void;
}

export interface ServiceConfigForCalls {
  /** Time budget of one call (ms), CH-B2. */
  deadlineMs: number;
  fhirServerAllowlist: string[];
  fhirTimeoutMs: number;
  fhirMaxPages: number;
  /** Absolute URL of the protocol documentation (card links). */
  docsUrl: string;
  /** Canonical URL of the protocol PlanDefinition (draft orders' instantiatesCanonical). */
  planDefinitionUrl: string;
}

/** Fixed inputs of buildCards loaded once at startup (else the card module reads its own defaults). */
export type CardDefaults = Pick<CardInput, 'evidence' | 'medication' | 'sourceLabel'>;

export interface ServiceDeps {
  definitions: Definitions;
  parameters: ProtocolParameters;
  steps: Steps;
  evaluator: Evaluator;
  store: { recordAudit(row: AuditRow): void };
  logger: Logger;
  clock: () => Date;
  uuid: () => string;
  config: ServiceConfigForCalls;
  cardDefaults?: CardDefaults;
  /** The request id of this call (X-Request-Id), for its audit row. */
  requestId?: string;
  /** Cards and degraded-call counters (src/ops/metrics.ts); absent = not counted. */
  metrics?: Pick<Metrics, 'cards' | 'degraded'>;
}
