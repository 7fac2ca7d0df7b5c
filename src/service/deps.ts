/**
 * What callService needs, passed in (never read from globals): the steps of the flow, the clock, the
 * uuid generator, the parameters, the store and the logger. Tests hand in fakes (a slow gather, a fixed
 * clock); main.ts hands in the real modules (src/service/steps.ts).
 */
import type { Bundle } from 'fhir/r4';
import type { CardInput } from '../cards/build';
import type { Card, CdsResponse } from '../cards/types';
import type { ProtocolParameters } from '../config/parameters';
import type { FetchBudget, GatherDeps, GatheredRecord } from '../fhir/gather';
import type { Logger } from '../log';
import type { Metrics } from '../ops/metrics';
import type { Evaluator } from '../cql';
import type { DecisionContext } from '../protocol/decide';
import type { DraftOrder } from '../protocol/orders';
import type { ClinicalFacts } from '../protocol/facts';
import type { OrderCheck, Recommendation } from '../protocol/recommendation';
import type { AuditRow } from '../store';
import type { Definitions } from './definitions';
import type { CdsRequest, HookName, ServiceDefinition } from '../contract/cds-hooks';

export type { CdsResponse };

/** The modules the flow calls, in the order it calls them. */
export interface Steps {
  gather(definition: ServiceDefinition, request: CdsRequest, deps: GatherDeps): Promise<GatheredRecord>;
  /** The record (and drafts) cut to what the CQL libraries retrieve; the same facts come out (src/cql/window.ts). */
  window(bundle: Bundle): Bundle;
  decide(facts: ClinicalFacts, params: ProtocolParameters, now: Date, context: DecisionContext): Recommendation;
  checkDraftOrder(
    draft: DraftOrder,
    recommendation: Recommendation,
    params: ProtocolParameters,
    hook: HookName,
  ): OrderCheck;
  buildCards(input: CardInput): Card[];
  /** Throws a 500 OperationOutcomeError when the response is not conformant (CH-C9). */
  assertConformant(response: CdsResponse): void;
}

interface ServiceConfigForCalls {
  /** Time budget of one call (ms), CH-B2. */
  deadlineMs: number;
  fhirServerAllowlist: string[];
  fhirTimeoutMs: number;
  fhirMaxPages: number;
  /** Byte limits and most resources per key on the FHIR fallback path (absent = the defaults). */
  fetchBudget?: Partial<FetchBudget>;
  /** Absolute URL of the protocol documentation (card links). */
  docsUrl: string;
  /** Canonical URL of the protocol PlanDefinition (draft orders' instantiatesCanonical). */
  planDefinitionUrl: string;
  /** IANA zone of every time on cards (CDS_TIME_ZONE); UTC when absent. */
  timeZone?: string;
}

/** Fixed inputs of buildCards loaded once at startup (else the card module reads its own defaults). */
type CardDefaults = Pick<CardInput, 'evidence' | 'medication' | 'sourceLabel'>;

export interface ServiceDeps {
  definitions: Definitions;
  parameters: ProtocolParameters;
  steps: Steps;
  /** src/cql: FHIR record → ClinicalFacts at `now` (in process, or in the worker pool of src/cql/pool.ts). */
  evaluator: Pick<Evaluator, 'evaluate'>;
  store: { recordAudit(row: AuditRow): void };
  logger: Logger;
  clock: () => Date;
  uuid: () => string;
  config: ServiceConfigForCalls;
  cardDefaults?: CardDefaults;
  /** The request id of this call (X-Request-Id), for its audit row. */
  requestId?: string;
  /** Cards, degraded-call and FHIR fetch-failure counters (src/ops/metrics.ts); absent = not counted. */
  metrics?: Pick<Metrics, 'cards' | 'degraded' | 'fhirFetchFailures'>;
}
