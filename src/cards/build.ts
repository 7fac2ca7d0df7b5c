/**
 * buildCards: a Recommendation (and, on order hooks, the OrderChecks of the selected drafts) turned
 * into CDS Hooks 2.0 cards: summary, Markdown detail, source, links, suggestions with actions,
 * override reasons and the machine-readable `ketamine-protocol` extension (docs/clinical-specification.md §6).
 *
 * Pure: the clock, the uuid generator, the parameters and the texts from files are passed in.
 */
import type { CodeableConcept, MedicationRequest } from 'fhir/r4';
import { loadParameters, type ProtocolParameters } from '../config/parameters';
import type { OrderCheck, OrderFindingId, Recommendation } from '../protocol/recommendation';
import { SUMMARY_MAX_LENGTH, type HookName } from '../contract/cds-hooks';
import { orderCheckDetail, recommendationDetail, type DetailContext, type Evidence } from './detail';
import { escapeMarkdown, numbers } from './format';
import { loadKetamineMedication } from './medication';
import {
  completedOrder,
  createAction,
  deleteAction,
  draftOrder,
  draftWithRate,
  mgPerHourFor,
  overrideReasons,
  PROTOCOL_RULE_SYSTEM,
  updateAction,
  type OrderContext,
} from './suggestions';
import { orderCheckSummary, recommendationSummary, RATE_UNIT, RULE_TITLES } from './text';
import type { Action, CardIndicator, Suggestion } from '../contract/cds-hooks';
import type { Card, KetamineProtocolExtension } from './types';

export interface CardInput {
  hook: HookName;
  recommendation: Recommendation;
  /** One per selected draft ketamine order (order hooks); ignored on patient-view. */
  orderChecks: OrderCheck[];
  /** The selected draft MedicationRequests, by id. */
  drafts: Record<string, MedicationRequest>;
  /** As in the hook context; a `Patient/` prefix is tolerated. */
  patientId: string;
  encounterId: string | null;
  params: ProtocolParameters;
  uuid: () => string;
  now: Date;
  /** Canonical URL of the protocol's PlanDefinition (the version is appended). */
  planDefinitionUrl: string;
  /** Absolute URL of the protocol documentation (card source and link). */
  docsUrl: string;
  sourceLabel?: string;
  /** Citation and evidence level; default: from loadParameters().file (pass `file` itself). */
  evidence?: Evidence;
  /** The medication put on created orders; default: the ordering concept of the Ketamine ValueSet file. */
  medication?: CodeableConcept;
  /** The whole active ketamine order, when known: a stop then updates it rather than a minimal resource. */
  activeOrder?: MedicationRequest;
}

const RATE_ACTIONS = new Set<Recommendation['action']>(['start', 'increase', 'taper', 'decrease']);

let defaultEvidence: Evidence | null = null;
function evidenceOf(input: CardInput): Evidence {
  if (input.evidence) return input.evidence;
  if (!defaultEvidence) {
    const { citation, evidenceLevel } = loadParameters().file;
    defaultEvidence = { citation, evidenceLevel };
  }
  return defaultEvidence;
}

const bareId = (reference: string, type: string) =>
  reference.startsWith(`${type}/`) ? reference.slice(type.length + 1) : reference;

/** Summaries are short by construction; this only guards the CDS Hooks limit (< 140 characters). */
function fitSummary(summary: string): string {
  const chars = [...summary];
  return chars.length <= SUMMARY_MAX_LENGTH ? summary : `${chars.slice(0, SUMMARY_MAX_LENGTH - 1).join('')}…`;
}

interface Shared {
  input: CardInput;
  rec: Recommendation;
  detail: DetailContext;
  order: () => OrderContext;
}

export function buildCards(input: CardInput): Card[] {
  const rec = input.recommendation;
  const n = numbers(input.params, input.now);
  const patientId = bareId(input.patientId, 'Patient');
  const encounterId = input.encounterId ? bareId(input.encounterId, 'Encounter') : null;
  let orderContext: OrderContext | null = null;
  const shared: Shared = {
    input,
    rec,
    detail: { params: input.params, n, evidence: evidenceOf(input), now: input.now },
    // Resolved lazily: the medication concept is only needed when an order is built.
    order: () =>
      (orderContext ??= {
        patientId,
        encounterId,
        medication: input.medication ?? loadKetamineMedication(),
        planDefinitionUrl: input.planDefinitionUrl,
        protocolVersion: rec.protocolVersion,
        now: input.now,
        params: input.params,
        n,
      }),
  };

  if (input.hook === 'patient-view') {
    return rec.action === 'none' ? [] : [recommendationCard(shared)];
  }
  return input.orderChecks
    .filter((check): check is OrderCheck & { ruleId: OrderFindingId } => check.ruleId !== null)
    .map((check) => orderCard(shared, check));
}

function recommendationCard(s: Shared): Card {
  const { rec, input } = s;
  const extension: KetamineProtocolExtension = {
    ruleId: rec.ruleId,
    action: rec.action,
    phase: rec.phase,
    currentRate: rec.currentRate,
    recommendedRate: rec.recommendedRate,
    unit: RATE_UNIT,
    draftRate: null,
    nextReviewAt: rec.nextReviewAt,
    maxToleratedRate: rec.maxToleratedRate,
    protocolVersion: rec.protocolVersion,
  };
  const cardUuid = input.uuid();
  return assemble(s, {
    uuid: cardUuid,
    summary: recommendationSummary(rec, input.params, s.detail.n),
    detail: recommendationDetail(rec, s.detail),
    indicator: rec.indicator,
    topic: rec.ruleId,
    suggestion: recommendationSuggestion(s),
    extension,
  });
}

function recommendationSuggestion(s: Shared): { label: string; action: Action } | null {
  const { rec, input } = s;
  const { n } = s.detail;
  const rate = rec.recommendedRate;
  if (RATE_ACTIONS.has(rec.action) && rate !== null && rate > 0) {
    const ctx = s.order();
    const mg = mgPerHourFor(rate, rec.arithmetic, rec.weightKg, input.params);
    const order = draftOrder(rate, mg, rec.activeOrderId, ctx);
    const dose = mg ? ` (${n.dose(mg.mgPerHour)} mg/h)` : '';
    const replaces = rec.activeOrderId ? `, replacing MedicationRequest/${rec.activeOrderId}` : '';
    const verb =
      rec.action === 'start'
        ? 'Start'
        : rec.action === 'increase'
          ? 'Increase'
          : rec.action === 'taper'
            ? 'Taper'
            : 'Decrease';
    return {
      label: `${verb}: draft ketamine order at ${n.rate(rate)} ${RATE_UNIT}${dose}`,
      action: createAction(
        order,
        `Create a draft ketamine infusion order at ${n.rate(rate)} ${RATE_UNIT}${dose}${replaces}`,
      ),
    };
  }
  if (rec.action === 'stop' && rec.activeOrderId) {
    const order = completedOrder(rec.activeOrderId, input.activeOrder, s.order());
    return {
      label: 'Stop: complete the active ketamine order',
      action: updateAction(order, `Set MedicationRequest/${rec.activeOrderId} (ketamine infusion) to completed`),
    };
  }
  return null;
}

function orderCard(s: Shared, check: OrderCheck & { ruleId: OrderFindingId }): Card {
  const { rec, input } = s;
  const extension: KetamineProtocolExtension = {
    ruleId: check.ruleId,
    action: rec.action,
    phase: rec.phase,
    currentRate: rec.currentRate,
    recommendedRate: check.suggestedRate ?? rec.recommendedRate,
    unit: RATE_UNIT,
    draftRate: check.draftRate,
    nextReviewAt: rec.nextReviewAt,
    maxToleratedRate: rec.maxToleratedRate,
    protocolVersion: rec.protocolVersion,
  };
  const cardUuid = input.uuid();
  return assemble(s, {
    uuid: cardUuid,
    summary: orderCheckSummary(check, rec, input.params, s.detail.n),
    detail: orderCheckDetail(check, rec, s.detail),
    indicator: check.indicator ?? 'warning',
    topic: check.ruleId,
    suggestion: orderSuggestion(s, check),
    extension,
  });
}

function orderSuggestion(
  s: Shared,
  check: OrderCheck & { ruleId: OrderFindingId },
): { label: string; action: Action } | null {
  const { n } = s.detail;
  if (check.suggestion === 'delete') {
    return {
      label: 'Remove the draft ketamine order',
      action: deleteAction(check.draftId, `Delete the draft ketamine order MedicationRequest/${check.draftId}`),
    };
  }
  const draft = s.input.drafts[check.draftId];
  if (check.suggestion === 'set-rate' && check.suggestedRate !== null && check.suggestedRate > 0 && draft) {
    const rate = check.suggestedRate;
    const mg = mgPerHourFor(rate, check.arithmetic, s.rec.weightKg, s.input.params);
    const dose = mg ? ` (${n.dose(mg.mgPerHour)} mg/h)` : '';
    const from = check.draftCharted ? ` instead of ${check.draftCharted}` : '';
    return {
      label: `Change the draft to ${n.rate(rate)} ${RATE_UNIT}${dose}`,
      action: updateAction(
        draftWithRate(draft, rate, mg, s.order()),
        `Set the draft ketamine order MedicationRequest/${check.draftId} to ${n.rate(rate)} ${RATE_UNIT}${dose}${from}`,
      ),
    };
  }
  return null;
}

function assemble(
  s: Shared,
  parts: {
    uuid: string;
    summary: string;
    detail: string;
    indicator: CardIndicator;
    topic: Recommendation['ruleId'] | OrderFindingId;
    suggestion: { label: string; action: Action } | null;
    extension: KetamineProtocolExtension;
  },
): Card {
  const { input } = s;
  const card: Card = {
    uuid: parts.uuid,
    summary: fitSummary(parts.summary),
    detail: parts.detail,
    indicator: parts.indicator,
    source: {
      label: input.sourceLabel ?? `IV ketamine protocol v${s.rec.protocolVersion}`,
      url: input.docsUrl,
      topic: { system: PROTOCOL_RULE_SYSTEM, code: parts.topic, display: RULE_TITLES[parts.topic] },
    },
  };
  if (parts.suggestion) {
    const suggestion: Suggestion = {
      label: parts.suggestion.label,
      uuid: input.uuid(),
      isRecommended: true,
      actions: [parts.suggestion.action],
    };
    card.suggestions = [suggestion];
    card.selectionBehavior = 'at-most-one';
    card.overrideReasons = overrideReasons();
  }
  card.links = [{ label: 'IV ketamine protocol documentation', url: input.docsUrl, type: 'absolute' }];
  card.extension = { 'ketamine-protocol': parts.extension };
  return card;
}

/**
 * The honest "cannot tell" card of a call that reached its deadline while FHIR sources were still being
 * fetched (issue 7): it names each slow source and recommends nothing. No rule fired, so it carries no
 * protocol extension and no suggestion.
 */
export function deadlineCard(input: {
  slowSources: readonly string[];
  uuid: () => string;
  docsUrl: string;
  protocolVersion: string;
  sourceLabel?: string;
}): Card {
  const sources = input.slowSources.map((s) => escapeMarkdown(s)).join(', ');
  return {
    uuid: input.uuid(),
    summary: 'Protocol could not be checked in time: the FHIR data did not arrive; no recommendation',
    detail:
      `**No recommendation**: the FHIR server did not answer in time for ${sources}, so the protocol could not be ` +
      'evaluated. Nothing is suggested; open the chart again to retry, or decide from the chart.  \n' +
      `Protocol version ${escapeMarkdown(input.protocolVersion)}. The protocol suggests; the treating clinician decides.`,
    indicator: 'warning',
    source: { label: input.sourceLabel ?? `IV ketamine protocol v${input.protocolVersion}`, url: input.docsUrl },
  };
}
