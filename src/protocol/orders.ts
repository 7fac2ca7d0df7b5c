/**
 * checkDraftOrder(): a draft ketamine order against the current recommendation (docs/clinical-specification.md §4).
 * Every finding that applies is listed, most severe first: O1 (a contraindication needs no readable rate), O0,
 * O3 (critical) before the O2 warning, then O4, O5, O6; a finding about the draft's rate only when that rate
 * can be read. A new start that is a re-challenge (§8: the start recommendation S3 is a warning) is listed
 * last, as S3. A decrease is always allowed and a draft consistent with the protocol gets no card (ruleId null).
 */
import type { ProtocolParameters } from '../config/parameters';
import type { ChartedRate } from './facts';
import type {
  Indicator,
  OrderCheck,
  OrderFinding,
  OrderFindingId,
  RateReading,
  Recommendation,
} from './recommendation';
import type { HookName } from '../contract/cds-hooks';
import {
  convertRate,
  describeChartedRate,
  rateAbove,
  rateArithmetic,
  rateContext,
  roundRate,
  sameRate,
  strengthOf,
  toRateReading,
  unreadableRateText,
  type ConcentrationLookup,
} from './rates';

export interface DraftOrder {
  id: string;
  rate: ChartedRate | null;
  concentrationMgPerMl: number | null;
  /** The draft's Medication strength as charted, when it cannot be used (its mL/h rate is then unreadable). */
  strengthUnreadable?: string | null;
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
  // active order's, then defaultConcentration (said on the card); a charted strength that cannot be
  // used makes an mL/h draft unreadable (O0), never the default.
  const concentration = draftConcentration(draft, rec);
  let draftRate: number | null = null;
  let draftReading: RateReading | null = null;
  let unreadable: string | null = null;
  let unreadableCause: OrderCheck['draftUnreadable'] | null = null;
  let unreadableStrength: string | null = null;
  if (draft.rate === null) {
    unreadable = 'the draft has no rate (dosageInstruction.doseAndRate.rateQuantity or rateRatio)';
    unreadableCause = 'no-rate';
  } else {
    const conv = convertRate(draft.rate, rateContext(weightKg, concentration), params);
    if (conv.ok && conv.mgPerKgPerHour > 0 && roundRate(conv.mgPerKgPerHour, params) === 0) {
      // A positive rate that reads as 0 once rounded (a strength charted in the wrong unit) is no rate to judge.
      unreadable = `${conv.charted} reads as less than ${params.rateRounding} mg/kg/h: taken as a charting error`;
      unreadableCause = 'rounds-to-zero';
    } else if (conv.ok) {
      draftRate = roundRate(conv.mgPerKgPerHour, params);
      draftReading = toRateReading(conv, concentration.from, params);
      if (draftReading.concentrationFrom === 'active-order')
        notes.push(
          `The draft gives no strength: its mL/h rate was read with the active order's ${concentration.value} mg/mL.`,
        );
    } else {
      unreadable = unreadableRateText(conv, params);
      unreadableCause = conv.error;
      if (conv.error === 'unreadable-strength') unreadableStrength = conv.strength;
    }
  }

  const result = (
    ruleId: OrderFindingId | null,
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
    ruleId: OrderFindingId,
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

  // A contraindicated start, or one that still needs data, gets no rate suggestion.
  const contraindicated = rec.action === 'contraindicated';
  const noStartRate = contraindicated || startNeedsData;
  // O1: contraindicated → delete the draft.
  if (contraindicated) found('O1', 'critical', null, 'delete');
  if (draftRate === null) {
    // O0: no readable rate: nothing about the rate can be judged (O3–O6 cannot apply).
    notes.push(`The draft rate could not be read: ${unreadable ?? 'unreadable'}.`);
    found('O0', 'warning', null, null, 'draft-rate-unreadable');
  } else {
    // O3: above the hard maximum.
    if (rateAbove(draftRate, params.hardMaxRate, params)) {
      const target = setTo(noStartRate ? null : newStart ? roundRate(params.startRate, params) : recommendedOrCurrent);
      found('O3', 'critical', target.rate, target.suggestion);
    }
    if (newStart) {
      // O4: a (new) start at another rate than startRate.
      if (!sameRate(draftRate, params.startRate, params))
        found(
          'O4',
          'warning',
          noStartRate ? null : roundRate(params.startRate, params),
          noStartRate ? null : 'set-rate',
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
  // O2: a start that needs data first, whether or not the draft's rate can be read.
  if (startNeedsData) found('O2', 'warning', null, null);
  // §8: a new start after an adverse effect at the start rate (S3 warning) is a re-challenge, the
  // attending's decision: listed after the order findings, with no suggestion of its own.
  if (newStart && rec.ruleId === 'S3' && rec.rechallenge) found('S3', 'warning', null, null, 're-challenge');
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
  return {
    ...check,
    ...(unreadable !== null ? { unreadable: { detail: unreadable, strength: unreadableStrength } } : {}),
    findings,
  };
}

/**
 * Most severe first (v1.1): the order in which findings are listed, the first one names the card; the
 * re-challenge of a new start (S3, §8) after every order finding.
 */
const ORDER_SEVERITY: readonly OrderFindingId[] = ['O1', 'O0', 'O3', 'O2', 'O4', 'O5', 'O6', 'S3'];

/**
 * A finding's place in ORDER_SEVERITY. O0 for an unreadable running rate (the draft itself is readable)
 * ranks with O5/O6, the comparisons it stands in for, so a draft above the hard maximum still leads (O3).
 */
function severityRank(f: OrderFinding): number {
  return ORDER_SEVERITY.indexOf(f.reason === 'current-rate-unreadable' ? 'O5' : f.ruleId);
}

/**
 * The draft's own strength, then the active order's (from the recommendation); the first one charted
 * decides, readable or not; null value and origin: none charted (defaultConcentration).
 */
function draftConcentration(draft: DraftOrder, rec: Recommendation): ConcentrationLookup {
  return (
    strengthOf(
      { concentrationMgPerMl: draft.concentrationMgPerMl, strengthUnreadable: draft.strengthUnreadable ?? null },
      'medication',
    ) ??
    strengthOf(
      {
        concentrationMgPerMl: rec.activeOrderConcentrationMgPerMl ?? null,
        strengthUnreadable: rec.activeOrderStrengthUnreadable ?? null,
      },
      'active-order',
    ) ?? { value: null, from: null }
  );
}
