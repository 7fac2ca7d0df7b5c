/**
 * checkDraftOrder(): a draft ketamine order against the current recommendation (docs/clinical-specification.md §4).
 * Most severe first: O1 (a contraindication needs no readable rate), O0, O3 (critical) before the O2
 * warning, then O4, O5, O6. A decrease is always allowed and a draft consistent with the protocol gets
 * no card (ruleId null).
 */
import type { ProtocolParameters } from '../config/parameters';
import type { ChartedRate } from './facts';
import type { Indicator, OrderCheck, OrderFinding, OrderRuleId, RateReading, Recommendation } from './recommendation';
import type { HookName } from '../contract/cds-hooks';
import {
  convertRate,
  describeChartedRate,
  rateAbove,
  rateArithmetic,
  roundRate,
  sameRate,
  toRateReading,
  unreadableRateText,
  type ConcentrationLookup,
} from './rates';

export interface DraftOrder {
  id: string;
  rate: ChartedRate | null;
  concentrationMgPerMl: number | null;
}

export function checkDraftOrder(
  draft: DraftOrder,
  rec: Recommendation,
  params: ProtocolParameters,
  hook: HookName,
): OrderCheck {
  const notes: string[] = [];
  const draftCharted = draft.rate ? describeChartedRate(draft.rate) : null;
  // Reading a draft's mg/h or mL/h needs a weight: the dosing weight, else the latest charted one (said).
  const weightKg = rec.weightKg ?? rec.prerequisites.weight?.valueKg ?? null;
  if (rec.weightKg === null && weightKg !== null && draft.rate)
    notes.push('The draft rate was read with a weight older than the dosing-weight window.');

  // The same concentration lookup as for charted administrations: the draft's own strength, then the
  // active order's, then defaultConcentration (said on the card).
  const concentration = draftConcentration(draft, rec);
  let draftRate: number | null = null;
  let draftReading: RateReading | null = null;
  let unreadable: string | null = null;
  let unreadableCause: OrderCheck['draftUnreadable'] | null = null;
  if (draft.rate === null) {
    unreadable = 'the draft has no rate (dosageInstruction.doseAndRate.rateQuantity or rateRatio)';
    unreadableCause = 'no-rate';
  } else {
    const conv = convertRate(draft.rate, { weightKg, concentrationMgPerMl: concentration.value }, params);
    if (conv.ok) {
      draftRate = roundRate(conv.mgPerKgPerHour, params);
      draftReading = toRateReading(conv, concentration.from, params);
      if (draftReading.concentrationFrom === 'active-order')
        notes.push(
          `The draft gives no strength: its mL/h rate was read with the active order's ${concentration.value} mg/mL.`,
        );
    } else {
      unreadable = unreadableRateText(conv, params);
      unreadableCause = conv.error;
    }
  }

  const result = (
    ruleId: OrderRuleId | null,
    indicator: Indicator | null,
    suggestedRate: number | null,
    suggestion: OrderCheck['suggestion'],
    reason?: OrderCheck['reason'],
  ): OrderCheck => ({
    ruleId,
    indicator,
    draftId: draft.id,
    draftRate,
    draftCharted,
    draftReading,
    ...(reason ? { reason } : {}),
    ...(unreadableCause ? { draftUnreadable: unreadableCause } : {}),
    suggestedRate,
    suggestion,
    arithmetic:
      suggestedRate === null
        ? null
        : rateArithmetic(
            {
              fromRate: draftRate ?? rec.currentRate ?? 0,
              toRate: suggestedRate,
              step: null,
              weightKg: rec.weightKg,
              concentrationMgPerMl: concentration.value,
              concentrationFrom: concentration.from,
            },
            params,
          ),
    notes,
  });

  // Out of scope (P0) or hidden: not this protocol's order to steer.
  if (rec.ruleId === 'P0') {
    notes.push('No active chronic-migraine diagnosis: the draft is not checked against this protocol.');
    return result(null, null, null, null);
  }

  // Every finding that applies, most severe first (v1.1: O1, O0, O3, O2, O4, O5, O6); one card lists them all.
  const findings: OrderFinding[] = [];
  const found = (
    ruleId: OrderRuleId,
    indicator: Indicator,
    suggestedRate: number | null,
    suggestion: OrderCheck['suggestion'],
    reason?: OrderCheck['reason'],
  ) => findings.push({ ruleId, indicator, suggestedRate, suggestion, ...(reason ? { reason } : {}) });
  const setTo = (rate: number | null): { rate: number | null; suggestion: OrderCheck['suggestion'] } => {
    if (rate === null) return { rate: null, suggestion: null };
    if (rate <= 0) return { rate: 0, suggestion: 'delete' }; // a stop: a draft at 0 is no order
    return { rate, suggestion: 'set-rate' };
  };
  const newStart = rec.phase === 'not-started' || rec.phase === 'stopped';
  const startNeedsData = newStart && rec.action === 'needs-data';
  const current = rec.currentRate;
  const recommendedOrCurrent = rec.recommendedRate ?? (current !== null && current > 0 ? current : null);
  const escalated = hook === 'order-sign' ? 'critical' : 'warning';

  // O1: contraindicated → delete the draft.
  if (rec.action === 'contraindicated') found('O1', 'critical', null, 'delete');
  if (draftRate === null) {
    // O0: no readable rate: nothing else about the rate can be judged.
    notes.push(`The draft rate could not be read: ${unreadable ?? 'unreadable'}.`);
    found('O0', 'warning', null, null, 'draft-rate-unreadable');
  } else if (rec.action !== 'contraindicated') {
    // O3: above the hard maximum. A start that still needs data gets no rate suggestion.
    if (rateAbove(draftRate, params.hardMaxRate, params)) {
      const target = setTo(
        startNeedsData ? null : newStart ? roundRate(params.startRate, params) : recommendedOrCurrent,
      );
      found('O3', 'critical', target.rate, target.suggestion);
    }
    if (newStart) {
      // O2: a start that needs data first; O4: a (new) start at another rate than startRate.
      if (startNeedsData) found('O2', 'warning', null, null);
      if (!sameRate(draftRate, params.startRate, params))
        found(
          'O4',
          'warning',
          startNeedsData ? null : roundRate(params.startRate, params),
          startNeedsData ? null : 'set-rate',
        );
    } else if (current === null) {
      // O0: the running rate cannot be read, so whether the draft is an increase (and by how much) is
      // unknown: never silently accepted; no rate is suggested.
      notes.push('The running rate could not be read: the draft could not be compared with it.');
      found('O0', escalated, null, null, 'current-rate-unreadable');
    } else {
      // O5: above the current rate when the protocol does not suggest an increase.
      if (rateAbove(draftRate, current, params) && rec.action !== 'increase') {
        const target = setTo(recommendedOrCurrent);
        found('O5', escalated, target.rate, target.suggestion);
      }
      // O6: more than one escalationStep above the current rate.
      if (rateAbove(draftRate, roundRate(current + params.escalationStep, params), params)) {
        const target = setTo(recommendedOrCurrent);
        found('O6', escalated, target.rate, target.suggestion);
      }
    }
  }
  findings.sort((x, y) => severityRank(x) - severityRank(y));
  const lead = findings[0];
  // A decrease, the current rate, or a step within the protocol: no card.
  if (!lead) return result(null, null, null, null);
  const indicator = findings.some((f) => f.indicator === 'critical') ? 'critical' : lead.indicator;
  // The suggestion of the most severe finding that makes one; none while a start still needs data.
  const suggesting = startNeedsData ? undefined : findings.find((f) => f.suggestion !== null);
  const check = result(
    lead.ruleId,
    indicator,
    suggesting?.suggestedRate ?? null,
    suggesting?.suggestion ?? null,
    lead.reason,
  );
  return { ...check, findings };
}

/** Most severe first (v1.1): the order in which findings are listed, the first one names the card. */
const ORDER_SEVERITY: readonly OrderRuleId[] = ['O1', 'O0', 'O3', 'O2', 'O4', 'O5', 'O6'];

/**
 * A finding's place in ORDER_SEVERITY. O0 for an unreadable running rate (the draft itself is readable)
 * ranks with O5/O6, the comparisons it stands in for, so a draft above the hard maximum still leads (O3).
 */
function severityRank(f: OrderFinding): number {
  return ORDER_SEVERITY.indexOf(f.reason === 'current-rate-unreadable' ? 'O5' : f.ruleId);
}

/** The draft's own strength, then the active order's (from the recommendation); null: defaultConcentration. */
function draftConcentration(draft: DraftOrder, rec: Recommendation): ConcentrationLookup {
  const usable = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (usable(draft.concentrationMgPerMl)) return { value: draft.concentrationMgPerMl, from: 'medication' };
  if (usable(rec.activeOrderConcentrationMgPerMl))
    return { value: rec.activeOrderConcentrationMgPerMl, from: 'active-order' };
  return { value: null, from: null };
}
