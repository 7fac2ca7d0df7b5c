/**
 * decide(): the protocol's current recommendation for a patient at time `now` (docs/clinical-specification.md §3),
 * first matching rule wins. Pure: every number comes from ProtocolParameters, the clock is a parameter.
 */
import type { HookName } from '../contract/cds-hooks';
import type { ProtocolParameters } from '../config/parameters';
import type { ClinicalFacts, OrderFact } from './facts';
import { displayTime } from './display';
import type {
  Action,
  Indicator,
  MissingItem,
  Note,
  Phase,
  PainReading,
  RateArithmetic,
  Recommendation,
  RuleId,
  SetAsideSummary,
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

export interface DecisionContext {
  hook: HookName;
  /** The hook context's encounterId, when sent. */
  encounterId: string | null;
  /** Ids of the hook's draft orders (order-select: selections; order-sign: the draft orders). */
  draftOrderIds: string[];
  /** What the record check set aside before evaluation (another patient's, unreadable), for the card. */
  setAside?: SetAsideSummary;
}

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
  notes: Note[];
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
  setAside: SetAsideSummary;
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
          `An adverse effect was recorded during the previous infusion (max tolerated rate ${c.effects.maxToleratedRate} mg/kg/h).`,
        );
      }
      if (c.effects.toleranceUnknown !== null) {
        c.notes.push(
          'An adverse effect was recorded during the previous infusion while its rate could not be read (max tolerated rate unknown).',
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
  const notes: Note[] = [];

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
    const plausible =
      conv.ok && conv.kg >= params.minPlausibleWeight && conv.kg <= params.maxPlausibleWeight ? conv.kg : null;
    if (timeMs !== null && timeMs > nowMs) {
      // A chart shows no future: a weight dated after now is not used (a negative age must not pass as fresh).
      const detail = `the weight charted at ${displayTime(w.time)} is dated after the evaluation time`;
      weightMissing = { code: 'weight-unreadable', since: w.time, detail };
      notes.push(`The weight charted at ${displayTime(w.time)} is dated after the evaluation time: ignored.`);
    } else if (!conv.ok || timeMs === null || plausible === null) {
      const detail = !conv.ok
        ? conv.error === 'unknown-unit'
          ? `unknown weight unit "${conv.unit}" (${w.value})`
          : `weight ${w.value} is not a valid value`
        : timeMs === null
          ? 'the latest weight has no readable time'
          : `weight ${w.value} ${w.unit ?? ''} is outside ${params.minPlausibleWeight}–${params.maxPlausibleWeight} kg: taken as a charting error`;
      weightMissing = { code: 'weight-unreadable', since: w.time, detail };
      notes.push(`The latest weight could not be read: ${detail}.`);
    } else {
      const fresh = isFresh(timeMs, nowMs, params.weightMaxAgeDays * MS_PER_DAY);
      weight = { valueKg: plausible, time: w.time, timeMs, fresh };
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
      notes.push(`The pregnancy test charted at ${displayTime(t.time)} is dated after the evaluation time: ignored.`);
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
      notes.push(`The EKG charted at ${displayTime(facts.ekg.time)} is dated after the evaluation time: ignored.`);
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
      `The max tolerated rate of ${effects.maxToleratedRate} mg/kg/h comes from an adverse effect during an earlier ketamine course (${displayTime(limiting.fact.time ?? isoAt(limiting.timeMs))}); for safety it still applies to every course within the last ${params.lookbackDays} d.`,
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
    setAside: context.setAside ?? { otherPatient: 0, unreadable: 0, items: [] },
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

const pushOnce = (list: Note[], note: string): void => {
  if (!list.includes(note)) list.push(note);
};

function phaseOf(c: Context): Phase {
  return c.sustained.reachedMs !== null ? 'taper' : 'titration';
}

// ---------------------------------------------------------------------------------------------
// Not started: S1, S2, S3 (and the patient-view gate)

function showsCandidateCard(c: Context, context: DecisionContext): boolean {
  if (context.hook !== 'patient-view') return true;
  if (c.facts.orders.some((o) => o.status === 'active' || o.status === 'draft')) return true;
  if (context.encounterId !== null) {
    const enc = c.facts.encounters.find((e) => e.id === context.encounterId);
    if (enc) return enc.inpatient;
    c.notes.push(
      `The context encounter ${context.encounterId} was not found in the record: an in-progress inpatient encounter was looked for instead.`,
    );
  }
  return c.facts.encounters.some((e) => e.status === 'in-progress' && e.inpatient);
}

/** Every prerequisite of a start that is missing or stale (S2). */
function startMissing(c: Context): MissingItem[] {
  const missing: MissingItem[] = [];
  if (c.weightMissing) missing.push(c.weightMissing);
  if (c.ekg === null) {
    missing.push(
      c.facts.ekg
        ? {
            code: 'ekg-missing',
            detail: `the EKG charted at ${displayTime(c.facts.ekg.time)} is dated after the evaluation time`,
          }
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
        item.detail = `the pregnancy test charted at ${displayTime(c.facts.pregnancyTest.time)} is dated after the evaluation time`;
      }
      missing.push(item);
    } else if (c.pregnancy.result === 'negative' && !c.pregnancy.fresh) {
      missing.push({ code: 'pregnancy-test-stale', since: c.pregnancy.time });
    }
  }
  const vitals = missingVitals(c);
  if (vitals) missing.push(vitals);
  if (freshBaselinePain(c) === null) {
    const latest = latestPain(c.pain);
    missing.push(latest ? { code: 'baseline-pain-missing', since: latest.time } : { code: 'baseline-pain-missing' });
  }
  return missing;
}

/** Blood pressure and heart rate within vitalsMaxAgeHours (v1.1: before a start and before an increase). */
function missingVitals(c: Context): MissingItem | null {
  const judged = new Set(c.vitals.readings.map((r) => r.kind));
  const lacking = [
    ...(judged.has('sbp') && judged.has('dbp') ? [] : ['blood pressure']),
    ...(judged.has('hr') ? [] : ['heart rate']),
  ];
  return lacking.length === 0 ? null : { code: 'vitals-missing', detail: lacking.join(' and ') };
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
  else {
    // An effect at the start rate in the look-back (max tolerated rate below startRate, or unknown):
    // a re-challenge is the attending's decision (v1.1).
    const maxTol = c.effects.maxToleratedRate;
    const rechallenge =
      (maxTol !== null && rateAbove(params.startRate, maxTol, params)) || c.effects.toleranceUnknown !== null;
    rule = {
      ruleId: 'S3',
      action: 'start',
      indicator: rechallenge ? 'warning' : 'info',
      recommendedRate: roundRate(params.startRate, params),
    };
  }

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

  const sinceSegment = c.effects.effects.filter((e) => e.timeMs >= lastChangeMs);
  const breaches = c.vitals.breaches;

  // An unreadable running rate: D1 first (no rate can be computed), critical when an A1/A2 finding holds (v1.1).
  if (current === null) {
    const effect = sinceSegment[sinceSegment.length - 1];
    if (effect)
      c.notes.push(
        `${effectLabel(effect)} was recorded since the current rate started: the rate should come down, but it cannot be read.`,
      );
    if (breaches.length > 0)
      c.notes.push('A vital sign is outside its limits: the rate should come down, but it cannot be read.');
    const safety = effect !== undefined || breaches.length > 0;
    return build(c, {
      ruleId: 'D1',
      action: 'needs-data',
      phase,
      indicator: safety ? 'critical' : 'warning',
      recommendedRate: null,
      missing: [...(c.weightMissing ? [c.weightMissing] : []), ...currentUnreadable(c)],
      ...(effect ? { adverseEffect: effectView(effect) } : {}),
    });
  }

  /** A1/A2/A3: down to `toRate` (a stop at 0 or below); never above hardMaxRate (v1.1). */
  const decrease = (
    ruleId: RuleId,
    wanted: number,
    step: number,
    extra: Partial<Recommendation> = {},
  ): Recommendation => {
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

function effectView(e: TimedEffect): Recommendation['adverseEffect'] {
  return {
    time: e.fact.time ?? isoAt(e.timeMs),
    display: e.fact.display,
    atRate: e.atRate,
    psychotomimetic: e.fact.via === 'psychotomimetic-code',
  };
}

/** "Hallucinations (a psychotomimetic effect)" / "Dizziness (an adverse effect attributed to ketamine)". */
function effectLabel(e: TimedEffect): string {
  return `${e.fact.display} (${e.fact.via === 'psychotomimetic-code' ? 'a psychotomimetic effect' : 'an adverse effect attributed to ketamine'})`;
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
    maxToleratedRate: c.effects.maxToleratedRate,
    maxToleratedRateUnknown: c.effects.toleranceUnknown !== null,
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
    setAside: c.setAside,
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

/** The notes without repeats (a vital-sign note is compared by its content). */
function dedupe(list: Note[]): Note[] {
  const seen = new Set<string>();
  return list.filter((note) => {
    const key = typeof note === 'string' ? note : JSON.stringify(note);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
