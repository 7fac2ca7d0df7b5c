/**
 * Assembling the Recommendation (docs/clinical-specification.md §6): a rule's outcome plus what every
 * recommendation carries (inputs, prerequisites, the infusion, recent pain, vitals, notes).
 */
import { freshBaselinePain, type Context } from './inputs';
import { segmentAt } from './infusion';
import { recentPain, toReading } from './pain';
import type {
  Action,
  AdverseEffectView,
  Indicator,
  Note,
  PainReading,
  Phase,
  Recommendation,
  RuleId,
} from './recommendation';
import { concentrationOf, rateAbove } from './rates';
import type { TimedEffect } from './safety';
import { isoAt } from './units';

/** What a rule decided; build() adds what every recommendation carries. */
export interface Outcome extends Partial<Recommendation> {
  ruleId: RuleId;
  action: Action;
  phase: Phase;
  indicator: Indicator;
  recommendedRate: number | null;
}

/** The Recommendation of a rule's outcome, with the inputs, prerequisites, infusion and notes. */
export function build(c: Context, o: Outcome): Recommendation {
  const { facts, params, infusion } = c;
  const runningNow = infusion.current !== null && o.phase !== 'not-started';
  const baselinePain = baselineFor(c, o.phase);
  const rateAtTarget =
    c.sustained.reachedMs === null ? null : (segmentAt(infusion, c.sustained.reachedMs)?.rate ?? null);
  const limiting = c.effects.limitingEffect ?? c.effects.effects[c.effects.effects.length - 1] ?? null;
  const activeStrength = concentrationOf(null, [], c.activeOrder);
  const rechallenge = o.ruleId === 'S3' || o.ruleId === 'X1' ? rechallengeOf(c) : null;

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
    ...(o.safetyFindings ? { safetyFindings: o.safetyFindings } : {}),
    currentRateReading: runningNow ? (infusion.current?.reading ?? null) : null,
    activeOrderConcentrationMgPerMl: activeStrength.value,
    ...(activeStrength.unreadable !== undefined ? { activeOrderStrengthUnreadable: activeStrength.unreadable } : {}),
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
    ...(rechallenge ? { rechallenge } : {}),
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

/**
 * §8 (v1.1): whether a new course would be a re-challenge (the max tolerated rate below startRate, or
 * unknown), with every adverse effect that counts within lookbackDays; null when it would not.
 */
export function rechallengeOf(c: Context): Recommendation['rechallenge'] {
  const { maxToleratedRate, toleranceUnknown, effects } = c.effects;
  const belowStart = maxToleratedRate !== null && rateAbove(c.params.startRate, maxToleratedRate, c.params);
  if (!belowStart && toleranceUnknown === null) return null;
  return { maxToleratedRate, effects: effects.map(effectView) };
}

/** The adverse effect as the recommendation names it. */
export function effectView(e: TimedEffect): AdverseEffectView {
  return {
    time: e.fact.time ?? isoAt(e.timeMs),
    display: e.fact.display,
    atRate: e.atRate,
    psychotomimetic: e.fact.via === 'psychotomimetic-code',
  };
}
