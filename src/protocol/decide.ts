/**
 * decide(): the protocol's current recommendation for a patient at time `now` (docs/clinical-specification.md §3),
 * first matching rule wins. Pure: every number comes from ProtocolParameters, the clock is a parameter.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { ClinicalFacts, EncounterFact, OrderFact } from './facts';
import { displayTime } from './display';
import type {
  Action,
  Indicator,
  MissingItem,
  Phase,
  PainReading,
  RateArithmetic,
  Recommendation,
  RuleId,
} from './recommendation';
import { buildInfusion, segmentAt, type InfusionState } from './infusion';
import { findSustained, latestPain, normalisePain, recentPain, toReading, type TimedPain } from './pain';
import {
  concentrationOf,
  parseRateUnit,
  parseRatioUnits,
  rateAbove,
  rateArithmetic,
  roundRate,
  weightToKg,
  type ConcentrationLookup,
} from './rates';
import {
  classifyPregnancyTest,
  effectsDuringInfusion,
  findContraindications,
  judgeVitals,
  type PregnancyResult,
  type TimedEffect,
} from './safety';
import { MS_PER_DAY, MS_PER_HOUR, hoursBetween, isoAt, roundTo, toMs } from './units';

export type Hook = 'patient-view' | 'order-select' | 'order-sign';

export interface DecisionContext {
  hook: Hook;
  /** The hook context's encounterId, when sent. */
  encounterId: string | null;
  /** Ids of the hook's draft orders (order-select: selections; order-sign: the draft orders). */
  draftOrderIds: string[];
}

/** v3 ActCode classes that are inpatient (§3, §7). */
export const INPATIENT_CLASSES: readonly string[] = ['IMP', 'ACUTE', 'NONAC'];

interface WeightRead {
  valueKg: number;
  time: string;
  timeMs: number;
  fresh: boolean;
}

/** The pieces every path of the decision fills in. */
interface Context {
  facts: ClinicalFacts;
  params: ProtocolParameters;
  now: Date;
  nowMs: number;
  notes: string[];
  weight: WeightRead | null;
  weightMissing: MissingItem | null;
  dosingWeightKg: number | null;
  infusion: InfusionState;
  pain: TimedPain[];
  sustained: ReturnType<typeof findSustained>;
  vitals: ReturnType<typeof judgeVitals>;
  pregnancy: { result: PregnancyResult | null; time: string | null; timeMs: number | null; fresh: boolean } | null;
  pregnancyTestRequired: boolean;
  /** The latest EKG, unless dated after now (ignored, with a note). */
  ekg: { time: string; timeMs: number | null; fresh: boolean } | null;
  effects: ReturnType<typeof effectsDuringInfusion>;
  contraindications: Recommendation['contraindications'];
  activeOrder: OrderFact | null;
}

export function decide(
  facts: ClinicalFacts,
  params: ProtocolParameters,
  now: Date,
  context: DecisionContext,
): Recommendation {
  const c = gather(facts, params, now, context);

  // P0: out of scope without an active chronic-migraine diagnosis, whatever else is charted.
  if (facts.chronicMigraine.length === 0) {
    c.notes.push(
      'No active chronic-migraine diagnosis: this protocol does not steer any ketamine infusion for this patient.',
    );
    const phase: Phase = !c.infusion.started ? 'not-started' : c.infusion.current ? phaseOf(c) : 'stopped';
    return build(c, { ruleId: 'P0', action: 'none', phase, indicator: 'info', recommendedRate: null });
  }

  const isOrderHook = context.hook !== 'patient-view';
  const hasDraft = context.draftOrderIds.some((id) => facts.orders.some((o) => o.id === id));

  if (!c.infusion.started) return notStarted(c, context);
  if (c.infusion.current === null) {
    if (isOrderHook && hasDraft) {
      c.notes.push(
        `The previous ketamine infusion ended${c.infusion.endedAt ? ` at ${displayTime(c.infusion.endedAt)}` : ''}: the draft order is judged as a new start.`,
      );
      if (c.effects.maxToleratedRate !== null) {
        c.notes.push(
          `A psychotomimetic effect was recorded during the previous infusion (max tolerated rate then ${c.effects.maxToleratedRate} mg/kg/h).`,
        );
      }
      if (c.effects.toleranceUnknown !== null) {
        c.notes.push(
          'A psychotomimetic effect was recorded during the previous infusion while its rate could not be read (max tolerated rate unknown).',
        );
      }
      return notStarted(c, context);
    }
    return build(c, { ruleId: 'X1', action: 'completed', phase: 'stopped', indicator: 'info', recommendedRate: null });
  }
  return running(c);
}

// ---------------------------------------------------------------------------------------------
// Facts → judged inputs

function gather(facts: ClinicalFacts, params: ProtocolParameters, now: Date, context: DecisionContext): Context {
  const nowMs = now.getTime();
  const notes: string[] = [];

  for (const m of [...facts.administrations.map((a) => a.medication), ...facts.orders.map((o) => o.medication)]) {
    if (m.recognizedBy === 'text') {
      pushOnce(
        notes,
        `Medication "${m.display}" was recognised as ketamine by its text only: its code was not recognised.`,
      );
    }
  }

  // Weight: the latest readable one reads charted mg/h and mL/h rates; only a fresh one doses.
  let weight: WeightRead | null = null;
  let weightMissing: MissingItem | null = null;
  if (facts.weight === null) {
    weightMissing = { code: 'weight-missing' };
  } else {
    const w = facts.weight;
    const conv = weightToKg(w.value, w.unit);
    const timeMs = toMs(w.time);
    if (timeMs !== null && timeMs > nowMs) {
      // A chart shows no future: a weight dated after now is not used (a negative age must not pass as fresh).
      const detail = `weight ${w.id} is dated after the evaluation time (${displayTime(w.time)})`;
      weightMissing = { code: 'weight-unreadable', since: w.time, detail };
      notes.push(`Weight ${w.id} is dated after the evaluation time (${displayTime(w.time)}): ignored.`);
    } else if (!conv.ok || timeMs === null) {
      const detail = !conv.ok
        ? conv.error === 'unknown-unit'
          ? `unknown weight unit "${conv.unit}" (${w.value})`
          : `weight ${w.value} is not a valid value`
        : `weight ${w.id} has no readable time`;
      weightMissing = { code: 'weight-unreadable', since: w.time, detail };
      notes.push(`Weight ${w.id} could not be read: ${detail}.`);
    } else {
      const fresh = isFresh(timeMs, nowMs, params.weightMaxAgeDays * MS_PER_DAY);
      weight = { valueKg: conv.kg, time: w.time, timeMs, fresh };
      if (!fresh) weightMissing = { code: 'weight-stale', since: w.time };
    }
  }
  const dosingWeightKg = weight && weight.fresh ? weight.valueKg : null;

  const activeOrder = findActiveOrder(facts.orders, context.draftOrderIds);
  const infusion = buildInfusion(facts.administrations, weight ? weight.valueKg : null, params, now, {
    orders: facts.orders,
    activeOrder,
  });
  notes.push(...infusion.notes);
  if (weight && !weight.fresh && chartedPerPatientRates(facts)) {
    notes.push(
      `Charted mg/h or mL/h ketamine rates were read with the latest weight (${roundTo(weight.valueKg, params.doseRounding)} kg, ${displayTime(weight.time)}), which is older than ${params.weightMaxAgeDays} d.`,
    );
  }
  for (const u of infusion.unreadable) {
    if (infusion.current?.unreadable !== u)
      notes.push(`An earlier ketamine rate could not be read: ${u.detail ?? 'unreadable'}.`);
  }

  const pain = normalisePain(facts.painScores, params, now);
  notes.push(...pain.notes);
  // "This infusion" for the sustained run and the phase is the current (or last) course.
  const sustained = findSustained(pain.readings, infusion.courseStartMs, params, now);

  const vitals = judgeVitals(facts.vitals, params, now);
  notes.push(...vitals.notes);

  let pregnancy: Context['pregnancy'] = null;
  if (facts.pregnancyTest) {
    const t = facts.pregnancyTest;
    const timeMs = toMs(t.time);
    if (timeMs !== null && timeMs > nowMs) {
      notes.push(`Pregnancy test ${t.id} is dated after the evaluation time (${displayTime(t.time)}): ignored.`);
    } else {
      const classified = classifyPregnancyTest(t, params);
      if (classified.note) notes.push(classified.note);
      pregnancy = {
        result: classified.result,
        time: t.time,
        timeMs,
        fresh: timeMs !== null && isFresh(timeMs, nowMs, params.pregnancyTestMaxAgeDays * MS_PER_DAY),
      };
    }
  }
  // Only a patient recorded as male skips the pregnancy test; unknown, other or no gender needs it.
  const gender = facts.patient.gender;
  const pregnancyTestRequired = gender !== 'male';
  if (gender !== 'female' && gender !== 'male') {
    notes.push(
      `Patient gender is ${gender === null ? 'not recorded' : `"${gender}"`}: a negative pregnancy test is required unless the patient cannot be pregnant; please confirm and record it.`,
    );
  }

  let ekg: Context['ekg'] = null;
  if (facts.ekg) {
    const timeMs = toMs(facts.ekg.time);
    if (timeMs !== null && timeMs > nowMs) {
      notes.push(`EKG ${facts.ekg.id} is dated after the evaluation time (${displayTime(facts.ekg.time)}): ignored.`);
    } else {
      ekg = {
        time: facts.ekg.time,
        timeMs,
        fresh: timeMs !== null && isFresh(timeMs, nowMs, params.ekgMaxAgeDays * MS_PER_DAY),
      };
    }
  }
  if (facts.patient.ageYears === null) notes.push('Age is unknown: the minimum age could not be checked.');

  const effects = effectsDuringInfusion(facts.adverseEffects, infusion, params, now);
  notes.push(...effects.notes);
  const limiting = effects.limitingEffect;
  if (limiting && infusion.courseStartMs !== null && limiting.timeMs < infusion.courseStartMs) {
    notes.push(
      `The max tolerated rate of ${effects.maxToleratedRate} mg/kg/h comes from a psychotomimetic effect during an earlier ketamine course (${displayTime(limiting.fact.time ?? isoAt(limiting.timeMs))}); for safety it still applies to every course within the last ${params.lookbackDays} d.`,
    );
  }
  if (infusion.courses > 1 && infusion.courseStartedAt !== null) {
    notes.push(
      `Nothing was running for more than ${params.gapToleranceMinutes} min before ${displayTime(infusion.courseStartedAt)}: the course since then is judged on its own (sustained relief and taper phase), not the earlier one.`,
    );
  }

  const contraindications = findContraindications(
    facts,
    { result: pregnancy ? pregnancy.result : null, time: pregnancy ? pregnancy.time : null },
    vitals.breaches,
    params,
  );

  return {
    facts,
    params,
    now,
    nowMs,
    notes,
    weight,
    weightMissing,
    dosingWeightKg,
    infusion,
    pain: pain.readings,
    sustained,
    vitals,
    pregnancy,
    pregnancyTestRequired,
    ekg,
    effects,
    contraindications,
    activeOrder,
  };
}

function chartedPerPatientRates(facts: ClinicalFacts): boolean {
  return facts.administrations.some((a) => {
    if (a.rate === null) return false;
    const unit =
      a.rate.kind === 'quantity'
        ? parseRateUnit(a.rate.unit)
        : parseRatioUnits(a.rate.numeratorUnit, a.rate.denominatorUnit);
    return unit !== null && !unit.perKg;
  });
}

/** The active ketamine order (status active), the most recently authored; drafts of this hook excluded. */
function findActiveOrder(orders: readonly OrderFact[], draftIds: readonly string[]): OrderFact | null {
  const active = orders.filter((o) => o.status === 'active' && !draftIds.includes(o.id));
  let best: OrderFact | null = null;
  for (const o of active) {
    if (best === null || (toMs(o.authoredOn) ?? -Infinity) >= (toMs(best.authoredOn) ?? -Infinity)) best = o;
  }
  return best;
}

/** An age (now − time) within the limit; a time after now is never fresh. */
const isFresh = (timeMs: number, nowMs: number, maxAgeMs: number): boolean =>
  timeMs <= nowMs && nowMs - timeMs <= maxAgeMs;

const pushOnce = (list: string[], note: string): void => {
  if (!list.includes(note)) list.push(note);
};

function phaseOf(c: Context): Phase {
  return c.sustained.reachedMs !== null ? 'taper' : 'titration';
}

// ---------------------------------------------------------------------------------------------
// Not started: S1, S2, S3 (and the patient-view gate)

function isInpatient(e: EncounterFact): boolean {
  return e.inpatient || (e.classCode !== null && INPATIENT_CLASSES.includes(e.classCode));
}

function showsCandidateCard(c: Context, context: DecisionContext): boolean {
  if (context.hook !== 'patient-view') return true;
  if (c.facts.orders.some((o) => o.status === 'active' || o.status === 'draft')) return true;
  if (context.encounterId !== null) {
    const enc = c.facts.encounters.find((e) => e.id === context.encounterId);
    if (enc) return isInpatient(enc);
    c.notes.push(
      `The context encounter ${context.encounterId} was not found in the record: an in-progress inpatient encounter was looked for instead.`,
    );
  }
  return c.facts.encounters.some((e) => e.status === 'in-progress' && isInpatient(e));
}

/** Every prerequisite of a start that is missing or stale (S2). */
function startMissing(c: Context): MissingItem[] {
  const missing: MissingItem[] = [];
  if (c.weightMissing) missing.push(c.weightMissing);
  if (c.ekg === null) {
    missing.push(
      c.facts.ekg
        ? { code: 'ekg-missing', detail: `EKG ${c.facts.ekg.id} is dated after the evaluation time` }
        : { code: 'ekg-missing' },
    );
  } else if (!c.ekg.fresh) {
    missing.push({ code: 'ekg-stale', since: c.ekg.time });
  }
  if (c.pregnancyTestRequired) {
    if (c.pregnancy === null || c.pregnancy.result === null) {
      const item: MissingItem = { code: 'pregnancy-test-missing' };
      if (c.pregnancy) {
        item.since = c.pregnancy.time;
        item.detail = 'the latest pregnancy test has no readable result';
      } else if (c.facts.pregnancyTest) {
        item.detail = `pregnancy test ${c.facts.pregnancyTest.id} is dated after the evaluation time`;
      }
      missing.push(item);
    } else if (c.pregnancy.result === 'negative' && !c.pregnancy.fresh) {
      missing.push({ code: 'pregnancy-test-stale', since: c.pregnancy.time });
    }
  }
  if (freshBaselinePain(c) === null) {
    const latest = latestPain(c.pain);
    missing.push(latest ? { code: 'baseline-pain-missing', since: latest.time } : { code: 'baseline-pain-missing' });
  }
  return missing;
}

function freshBaselinePain(c: Context): TimedPain | null {
  const latest = latestPain(c.pain);
  if (!latest) return null;
  return hoursBetween(latest.timeMs, c.nowMs) <= c.params.painMaxAgeHours ? latest : null;
}

/** A start's pump rate: the hook's draft order's own strength, then the active order, then the default. */
function startConcentration(c: Context, context: DecisionContext): ConcentrationLookup {
  const drafts = c.facts.orders.filter((o) => context.draftOrderIds.includes(o.id));
  for (const draft of drafts) {
    const found = concentrationOf(draft, [], null);
    if (found.value !== null) return { value: found.value, from: 'order' };
  }
  return concentrationOf(null, c.facts.orders, c.activeOrder);
}

function notStarted(c: Context, context: DecisionContext): Recommendation {
  const { params } = c;
  const missing = startMissing(c);
  const show = showsCandidateCard(c, context);
  let rule: { ruleId: RuleId; action: Action; indicator: Indicator; recommendedRate: number | null };
  if (c.contraindications.length > 0)
    rule = { ruleId: 'S1', action: 'contraindicated', indicator: 'critical', recommendedRate: null };
  else if (missing.length > 0)
    rule = { ruleId: 'S2', action: 'needs-data', indicator: 'warning', recommendedRate: null };
  else
    rule = { ruleId: 'S3', action: 'start', indicator: 'info', recommendedRate: roundRate(params.startRate, params) };

  if (!show) {
    c.notes.push(
      `Not shown on patient-view: no inpatient encounter in context and no active or draft ketamine order (the protocol would say ${rule.ruleId}).`,
    );
    return build(c, {
      ruleId: rule.ruleId,
      action: 'none',
      phase: 'not-started',
      indicator: 'info',
      recommendedRate: null,
      missing,
    });
  }
  const startStrength = startConcentration(c, context);
  const arithmetic =
    rule.action === 'start'
      ? rateArithmetic(
          {
            fromRate: 0,
            toRate: params.startRate,
            step: null,
            weightKg: c.dosingWeightKg,
            concentrationMgPerMl: startStrength.value,
            concentrationFrom: startStrength.from,
          },
          params,
        )
      : null;
  return build(c, {
    ...rule,
    phase: 'not-started',
    missing,
    arithmetic,
    nextReviewAt: rule.action === 'start' ? isoAt(c.nowMs + params.minHoursBetweenChanges * MS_PER_HOUR) : null,
  });
}

// ---------------------------------------------------------------------------------------------
// Running: A1, A2, (hard max), D1, T1, T2, T3–T5 (taper), T6–T8 (titration)

function running(c: Context): Recommendation {
  const { params, infusion, nowMs } = c;
  const current = infusion.currentRate; // > 0, or null when unreadable
  const lastChangeMs = infusion.lastChangeMs ?? nowMs;
  const phase = phaseOf(c);
  const concentration = runningConcentration(c);
  const hoursSinceChange = hoursBetween(lastChangeMs, nowMs);
  const maxTol = c.effects.maxToleratedRate;

  const decrease = (ruleId: RuleId, indicator: Indicator, extra: Partial<Recommendation> = {}): Recommendation => {
    if (current === null) {
      return build(c, {
        ruleId,
        action: 'decrease',
        phase,
        indicator,
        recommendedRate: null,
        missing: currentUnreadable(c),
        ...extra,
      });
    }
    // One escalationStep down, and never above the max tolerated rate nor the hard maximum.
    const caps = [current - params.escalationStep, params.hardMaxRate, ...(maxTol === null ? [] : [maxTol])];
    const target = roundRate(Math.min(...caps), params);
    const stop = target <= 0;
    const toRate = stop ? 0 : target;
    return build(c, {
      ruleId,
      action: stop ? 'stop' : 'decrease',
      phase,
      indicator,
      recommendedRate: toRate,
      arithmetic: rateArithmetic(
        {
          fromRate: current,
          toRate,
          step: stop ? -params.escalationStep : toRate - current,
          weightKg: c.dosingWeightKg,
          concentrationMgPerMl: concentration.value,
          concentrationFrom: concentration.from,
          becameStop: stop,
        },
        params,
      ),
      nextReviewAt: stop ? null : isoAt(nowMs + params.minHoursBetweenChanges * MS_PER_HOUR),
      ...extra,
    });
  };

  // A1: a psychotomimetic effect since the current segment started (or a rate above the max tolerated rate).
  const sinceSegment = c.effects.effects.filter((e) => e.timeMs >= lastChangeMs);
  const aboveTolerated = current !== null && maxTol !== null && rateAbove(current, maxTol, params);
  if (sinceSegment.length > 0 || aboveTolerated) {
    const driver = sinceSegment[sinceSegment.length - 1] ?? c.effects.limitingEffect;
    if (sinceSegment.length === 0) {
      c.notes.push(
        `The running rate is above the max tolerated rate (${maxTol} mg/kg/h) set by an earlier psychotomimetic effect.`,
      );
    }
    return decrease('A1', 'critical', { adverseEffect: driver ? effectView(driver) : null });
  }
  // A2: a vital-sign breach.
  if (c.vitals.breaches.length > 0) return decrease('A2', 'critical');
  // Hard maximum: a running rate above hardMaxRate is never held (T7, as a decrease).
  if (current !== null && rateAbove(current, params.hardMaxRate, params)) {
    c.notes.push(`The running rate is above the hard maximum of ${params.hardMaxRate} mg/kg/h.`);
    return decrease('T7', 'critical', { maxRateReason: 'above-hard-max', adverseEffect: null });
  }

  const holdArithmetic = (): RateArithmetic | null =>
    current === null
      ? null
      : rateArithmetic(
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

  // D1: no dosing weight (no pump rate can be computed), or the running rate cannot be read.
  if (c.dosingWeightKg === null || current === null) {
    const missing = [...(c.weightMissing ? [c.weightMissing] : []), ...currentUnreadable(c)];
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
  // T7: the step would pass the hard maximum or the max tolerated rate.
  if (rateAbove(next, params.hardMaxRate, params) || (maxTol !== null && rateAbove(next, maxTol, params))) {
    return hold('T7', 'warning', {
      maxRateReason: 'max-rate',
      adverseEffect: c.effects.limitingEffect ? effectView(c.effects.limitingEffect) : null,
    });
  }
  // T7: an effect was charted while the rate could not be read: the max tolerated rate is unknown.
  if (c.effects.toleranceUnknown !== null) {
    return hold('T7', 'warning', {
      maxRateReason: 'tolerance-unknown',
      adverseEffect: effectView(c.effects.toleranceUnknown),
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
    arithmetic: rateArithmetic(
      {
        fromRate: current,
        toRate: next,
        step: params.escalationStep,
        weightKg: c.dosingWeightKg,
        concentrationMgPerMl: concentration.value,
        concentrationFrom: concentration.from,
      },
      params,
    ),
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

function effectView(e: TimedEffect): Recommendation['adverseEffect'] {
  return { time: e.fact.time ?? isoAt(e.timeMs), display: e.fact.display, atRate: e.atRate };
}

// ---------------------------------------------------------------------------------------------
// Assembling the Recommendation

interface Outcome extends Partial<Recommendation> {
  ruleId: RuleId;
  action: Action;
  phase: Phase;
  indicator: Indicator;
  recommendedRate: number | null;
}

function build(c: Context, o: Outcome): Recommendation {
  const { facts, params, infusion } = c;
  const runningNow = infusion.current !== null && o.phase !== 'not-started';
  const baselinePain = baselineFor(c, o.phase);
  const rateAtTarget =
    c.sustained.reachedMs === null ? null : (segmentAt(infusion, c.sustained.reachedMs)?.rate ?? null);
  const limiting = c.effects.limitingEffect ?? c.effects.effects[c.effects.effects.length - 1] ?? null;

  return {
    ruleId: o.ruleId,
    action: o.action,
    phase: o.phase,
    indicator: o.indicator,
    currentRate: runningNow ? infusion.currentRate : 0,
    recommendedRate: o.recommendedRate,
    nextReviewAt: o.nextReviewAt ?? null,
    overdue: o.overdue ?? false,
    lastChangeAt: runningNow ? infusion.lastChangeAt : null,
    aboveSoftMax: o.aboveSoftMax ?? false,
    maxToleratedRate: o.phase === 'not-started' ? null : c.effects.maxToleratedRate,
    maxToleratedRateUnknown: o.phase !== 'not-started' && c.effects.toleranceUnknown !== null,
    ...(o.maxRateReason ? { maxRateReason: o.maxRateReason } : {}),
    currentRateReading: runningNow ? (infusion.current?.reading ?? null) : null,
    activeOrderConcentrationMgPerMl: concentrationOf(null, [], c.activeOrder).value,
    arithmetic: o.arithmetic ?? null,
    missing: o.missing ?? [],
    contraindications: c.contraindications,
    cautions: facts.cautions.map((x) => ({ category: x.category, display: x.display })),
    prerequisites: {
      weight: c.weight ? { valueKg: c.weight.valueKg, time: c.weight.time, fresh: c.weight.fresh } : null,
      ekg: c.ekg ? { time: c.ekg.time, fresh: c.ekg.fresh } : null,
      pregnancyTest:
        c.pregnancy && c.pregnancy.result !== null && c.pregnancy.time !== null
          ? { result: c.pregnancy.result, time: c.pregnancy.time, fresh: c.pregnancy.fresh }
          : null,
      pregnancyTestRequired: c.pregnancyTestRequired,
      baselinePain,
      consent: facts.consent ? { time: facts.consent.time } : null,
    },
    infusion: {
      segments: infusion.segments,
      startedAt: infusion.startedAt,
      highestRate: infusion.highestRate,
      targetReachedAt: c.sustained.reachedAt,
      rateAtTarget,
      endedAt: infusion.endedAt,
      courseStartedAt: infusion.courseStartedAt,
    },
    recentPain: recentPain(c.pain, params, c.now),
    sustained: o.phase === 'not-started' && !infusion.started ? null : c.sustained.run,
    vitals: c.vitals.readings,
    adverseEffect: o.adverseEffect !== undefined ? o.adverseEffect : limiting ? effectView(limiting) : null,
    activeOrderId: c.activeOrder ? c.activeOrder.id : null,
    weightKg: c.dosingWeightKg,
    notes: dedupe(c.notes),
    protocolVersion: params.protocolVersion,
  };
}

/** Baseline pain: before a start, the latest score within painMaxAgeHours; once started, the latest score at or before the course's start. */
function baselineFor(c: Context, phase: Phase): PainReading | null {
  if (phase === 'not-started' || c.infusion.courseStartMs === null) {
    const fresh = freshBaselinePain(c);
    return fresh ? toReading(fresh) : null;
  }
  const startMs = c.infusion.courseStartMs;
  const before = c.pain.filter((p) => p.timeMs <= startMs);
  const last = before[before.length - 1];
  return last ? toReading(last) : null;
}

const dedupe = (list: string[]): string[] => [...new Set(list)];
