/**
 * The running rules (docs/clinical-specification.md §3, an infusion runs), first match wins: safety first
 * (A1 adverse effect, A2 vital-sign breach, A3 above the hard maximum: down), then data (D1 weight or rate,
 * T1 too soon, T2 pain score), then the taper phase (T3 rebound, T4 taper, T5 stop) or the titration phase
 * (T6 at target, T7 at a maximum, V1 vitals before an increase, T8 increase).
 */
import { missingVitals, phaseOf, type Context } from './inputs';
import { build, effectView } from './outcome';
import { latestPain } from './pain';
import type { Indicator, MissingItem, RateArithmetic, Recommendation, RuleId } from './recommendation';
import { concentrationOf, rateAbove, rateArithmetic, roundRate, type ConcentrationLookup } from './rates';
import { MS_PER_HOUR, hoursBetween, isoAt, toMs } from './units';

/** Running: the first rule that holds, in the order of docs/clinical-specification.md §3. */
export function running(c: Context): Recommendation {
  const { params, infusion, nowMs } = c;
  const current = infusion.currentRate; // > 0, or null when unreadable
  const lastChangeMs = infusion.lastChangeMs ?? nowMs;
  const phase = phaseOf(c);
  const concentration = runningConcentration(c);
  const hoursSinceChange = hoursBetween(lastChangeMs, nowMs);
  const maxTol = c.effects.maxToleratedRate;

  const sinceSegment = c.effects.effects.filter((e) => e.timeMs >= lastChangeMs);
  const breaches = c.vitals.breaches;

  // An unreadable running rate: D1 first (no rate can be computed), critical when an A1/A2 finding holds (v1.1).
  if (current === null) {
    // The A1/A2 conditions that hold are handed over as safetyFindings: the card names them up front.
    const effect = sinceSegment[sinceSegment.length - 1];
    const safetyFindings: Array<'A1' | 'A2'> = [
      ...(effect ? ['A1' as const] : []),
      ...(breaches.length > 0 ? ['A2' as const] : []),
    ];
    const safety = safetyFindings.length > 0;
    return build(c, {
      ruleId: 'D1',
      action: 'needs-data',
      phase,
      indicator: safety ? 'critical' : 'warning',
      recommendedRate: null,
      missing: [...(c.weightMissing ? [c.weightMissing] : []), ...currentUnreadable(c)],
      ...(effect ? { adverseEffect: effectView(effect) } : {}),
      ...(safety ? { safetyFindings } : {}),
    });
  }

  /** A1/A2/A3: down to `toRate` (a stop at 0 or below); never above hardMaxRate (v1.1). */
  const decrease = (
    ruleId: RuleId,
    wanted: number,
    step: number,
    extra: Partial<Recommendation> = {},
  ): Recommendation => {
    // One step down still above the hard maximum: down to it instead, and the card says so.
    const capped = rateAbove(wanted, params.hardMaxRate, params);
    const target = roundRate(Math.min(wanted, params.hardMaxRate), params);
    const stop = target <= 0;
    const toRate = stop ? 0 : target;
    return build(c, {
      ruleId,
      action: stop ? 'stop' : 'decrease',
      phase,
      indicator: 'critical',
      recommendedRate: toRate,
      arithmetic: rateArithmetic(
        {
          fromRate: current,
          toRate,
          step: stop ? step : toRate - current,
          weightKg: c.dosingWeightKg,
          concentrationMgPerMl: concentration.value,
          concentrationFrom: concentration.from,
          becameStop: stop,
        },
        params,
      ),
      nextReviewAt: stop ? null : isoAt(nowMs + params.minHoursBetweenChanges * MS_PER_HOUR),
      ...(capped ? { maxRateReason: 'above-hard-max' as const } : {}),
      ...extra,
    });
  };

  // A1: an adverse effect since the current segment started: one escalationStep down.
  const effect = sinceSegment[sinceSegment.length - 1];
  if (effect)
    return decrease('A1', current - params.escalationStep, -params.escalationStep, {
      adverseEffect: effectView(effect),
    });
  // A2: a vital-sign breach: one escalationStep down.
  if (breaches.length > 0) return decrease('A2', current - params.escalationStep, -params.escalationStep);
  // A3: running above the hard maximum: down to it.
  if (rateAbove(current, params.hardMaxRate, params)) {
    return decrease('A3', params.hardMaxRate, params.hardMaxRate - current, { maxRateReason: 'above-hard-max' });
  }

  const holdArithmetic = (): RateArithmetic | null =>
    rateArithmetic(
      {
        fromRate: current,
        toRate: current,
        step: 0,
        weightKg: c.dosingWeightKg,
        concentrationMgPerMl: concentration.value,
        concentrationFrom: concentration.from,
      },
      params,
    );

  // D1: no dosing weight: no pump rate can be computed.
  if (c.dosingWeightKg === null) {
    const missing = c.weightMissing ? [c.weightMissing] : [];
    return build(c, {
      ruleId: 'D1',
      action: 'needs-data',
      phase,
      indicator: 'warning',
      recommendedRate: null,
      missing,
      arithmetic: holdArithmetic(),
    });
  }

  const hold = (ruleId: RuleId, indicator: Indicator, extra: Partial<Recommendation> = {}): Recommendation =>
    build(c, {
      ruleId,
      action: 'hold',
      phase,
      indicator,
      recommendedRate: current,
      arithmetic: holdArithmetic(),
      ...extra,
    });

  // T1: too soon after the last change.
  if (hoursSinceChange < params.minHoursBetweenChanges) {
    return hold('T1', 'info', { nextReviewAt: isoAt(lastChangeMs + params.minHoursBetweenChanges * MS_PER_HOUR) });
  }

  // T2: a pain score after the last change, no older than painMaxAgeHours.
  const latest = latestPain(c.pain);
  const needsPain = (missing: MissingItem): Recommendation =>
    build(c, {
      ruleId: 'T2',
      action: 'needs-data',
      phase,
      indicator: 'warning',
      recommendedRate: null,
      missing: [missing],
      arithmetic: holdArithmetic(),
    });
  if (latest === null || latest.timeMs <= lastChangeMs) {
    return needsPain({ code: 'pain-after-change-missing', since: infusion.lastChangeAt });
  }
  if (hoursBetween(latest.timeMs, nowMs) > params.painMaxAgeHours)
    return needsPain({ code: 'pain-stale', since: latest.time });

  // A step is due from the last rate change; the first taper step only from when the sustained target was
  // reached (the taper could not start earlier).
  const reachedMs = c.sustained.reachedMs;
  const dueFromMs = phase === 'taper' && reachedMs !== null && reachedMs > lastChangeMs ? reachedMs : lastChangeMs;
  const overdue = hoursBetween(dueFromMs, nowMs) > params.maxHoursBetweenChanges;
  const nextAfterChange = isoAt(nowMs + params.minHoursBetweenChanges * MS_PER_HOUR);

  if (phase === 'taper') {
    // T3: rebound during taper: clinician review.
    if (latest.score > params.targetPain) return hold('T3', 'warning');
    // T4 taper / T5 stop.
    const target = roundRate(current - params.taperStep, params);
    if (target <= 0) {
      return build(c, {
        ruleId: 'T5',
        action: 'stop',
        phase,
        indicator: 'info',
        recommendedRate: 0,
        overdue,
        arithmetic: rateArithmetic(
          {
            fromRate: current,
            toRate: 0,
            step: -params.taperStep,
            weightKg: c.dosingWeightKg,
            concentrationMgPerMl: concentration.value,
            concentrationFrom: concentration.from,
            becameStop: true,
          },
          params,
        ),
      });
    }
    return build(c, {
      ruleId: 'T4',
      action: 'taper',
      phase,
      indicator: 'info',
      recommendedRate: target,
      overdue,
      nextReviewAt: nextAfterChange,
      arithmetic: rateArithmetic(
        {
          fromRate: current,
          toRate: target,
          step: -params.taperStep,
          weightKg: c.dosingWeightKg,
          concentrationMgPerMl: concentration.value,
          concentrationFrom: concentration.from,
        },
        params,
      ),
    });
  }

  // Titration.
  // T6: at target, not yet sustained: hold; the taper may start once relief has lasted sustainedHours.
  if (latest.score <= params.targetPain) {
    const mayStart = toMs(c.sustained.run?.taperMayStartAt ?? null);
    return hold('T6', 'info', { nextReviewAt: mayStart === null ? null : isoAt(Math.max(mayStart, nowMs)) });
  }
  const next = roundRate(current + params.escalationStep, params);
  const limiting = c.effects.limitingEffect ? effectView(c.effects.limitingEffect) : null;
  // T7: running above the max tolerated rate with no effect since this rate started: tolerated, held,
  // never cut for the cap alone (v1.1).
  if (maxTol !== null && rateAbove(current, maxTol, params))
    return hold('T7', 'warning', { maxRateReason: 'above-max-tolerated', adverseEffect: limiting });
  // T7: the step would pass the hard maximum or the max tolerated rate.
  if (rateAbove(next, params.hardMaxRate, params))
    return hold('T7', 'warning', { maxRateReason: 'hard-max', adverseEffect: null });
  if (maxTol !== null && rateAbove(next, maxTol, params))
    return hold('T7', 'warning', { maxRateReason: 'max-tolerated', adverseEffect: limiting });
  // T7: an effect was charted while the rate could not be read: the max tolerated rate is unknown.
  if (c.effects.toleranceUnknown !== null) {
    return hold('T7', 'warning', {
      maxRateReason: 'tolerance-unknown',
      adverseEffect: effectView(c.effects.toleranceUnknown),
    });
  }
  const increase = rateArithmetic(
    {
      fromRate: current,
      toRate: next,
      step: params.escalationStep,
      weightKg: c.dosingWeightKg,
      concentrationMgPerMl: concentration.value,
      concentrationFrom: concentration.from,
    },
    params,
  );
  // V1: an increase is due, but no recent blood pressure and heart rate (v1.1): record them first.
  const vitals = missingVitals(c);
  if (vitals) {
    return build(c, {
      ruleId: 'V1',
      action: 'needs-data',
      phase,
      indicator: 'warning',
      recommendedRate: null,
      missing: [vitals],
      overdue,
      arithmetic: increase,
    });
  }
  // T8: increase; attending review past the soft maximum.
  const aboveSoftMax = rateAbove(next, params.softMaxRate, params);
  return build(c, {
    ruleId: 'T8',
    action: 'increase',
    phase,
    indicator: aboveSoftMax ? 'warning' : 'info',
    recommendedRate: next,
    aboveSoftMax,
    overdue,
    nextReviewAt: nextAfterChange,
    arithmetic: increase,
  });
}

function currentUnreadable(c: Context): MissingItem[] {
  const u = c.infusion.current?.unreadable;
  return u ? [u] : [];
}

/** The running bag's strength: the same lookup that read the charted rate (its Medication, its order, the active order). */
function runningConcentration(c: Context): ConcentrationLookup {
  const current = c.infusion.current;
  if (current) return { value: current.concentrationMgPerMl, from: current.concentrationFrom };
  return concentrationOf(null, c.facts.orders, c.activeOrder);
}
