/**
 * Safety judgements (docs/clinical-specification.md §2, §3): vital signs against their thresholds, the pregnancy test,
 * contraindications (S1), cautions, psychotomimetic adverse effects during the infusion and the max
 * tolerated rate.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { AdverseEffectFact, ClinicalFacts, PregnancyTestFact, VitalFact, VitalKind } from './facts';
import type { Contraindication, VitalNote, VitalReading } from './recommendation';
import { displayTime } from './display';
import type { InfusionState } from './infusion';
import { segmentAt } from './infusion';
import { roundRate } from './rates';
import { MS_PER_HOUR, isoAt, toMs } from './units';

/** The canonical UCUM unit of each vital, and the charted units read as the same thing. */
const VITAL_UNITS: Readonly<Record<VitalKind, { unit: string; accepted: readonly string[] }>> = {
  sbp: { unit: 'mm[Hg]', accepted: ['mm[Hg]', 'mmHg', 'mm Hg'] },
  dbp: { unit: 'mm[Hg]', accepted: ['mm[Hg]', 'mmHg', 'mm Hg'] },
  hr: { unit: '/min', accepted: ['/min', '{beats}/min', 'beats/min', 'bpm'] },
  rr: { unit: '/min', accepted: ['/min', '{breaths}/min', 'breaths/min'] },
  spo2: { unit: '%', accepted: ['%'] },
};

/** The thresholds of a vital: above `high` or below `low` is a breach. */
function vitalLimits(kind: VitalKind, params: ProtocolParameters): { high: number | null; low: number | null } {
  switch (kind) {
    case 'sbp':
      return { high: params.sbpHigh, low: params.sbpLow };
    case 'dbp':
      return { high: params.dbpHigh, low: null };
    case 'hr':
      return { high: params.hrHigh, low: params.hrLow };
    case 'rr':
      return { high: params.rrHigh, low: params.rrLow };
    case 'spo2':
      return { high: null, low: params.spo2Low };
  }
}

/**
 * Judge the latest value of each vital taken within vitalsMaxAgeHours of now (older ones are not judged,
 * and said). A value above its high limit or below its low limit is a breach.
 */
export function judgeVitals(
  vitals: readonly VitalFact[],
  params: ProtocolParameters,
  now: Date,
): { readings: VitalReading[]; breaches: VitalReading[]; notes: VitalNote[] } {
  const nowMs = now.getTime();
  const notes: VitalNote[] = [];
  const latest = new Map<VitalKind, { fact: VitalFact; timeMs: number }>();
  for (const v of vitals) {
    const timeMs = toMs(v.time);
    if (timeMs === null) {
      notes.push({ vitalNote: 'no-time', kind: v.kind });
      continue;
    }
    if (timeMs > nowMs) {
      // A chart shows no future: a value dated after now is a charting error, never judged as recent.
      notes.push({ vitalNote: 'after-now', kind: v.kind, time: v.time });
      continue;
    }
    const known = latest.get(v.kind);
    if (!known || timeMs > known.timeMs) latest.set(v.kind, { fact: v, timeMs });
  }
  const readings: VitalReading[] = [];
  const stale: Extract<VitalNote, { vitalNote: 'too-old' }>['vitals'] = [];
  for (const { fact, timeMs } of latest.values()) {
    const spec = VITAL_UNITS[fact.kind];
    if ((nowMs - timeMs) / MS_PER_HOUR > params.vitalsMaxAgeHours) {
      stale.push({ kind: fact.kind, value: fact.value, unit: fact.unit, time: fact.time });
      continue;
    }
    if (fact.unit !== null && !spec.accepted.includes(fact.unit.trim())) {
      notes.push({
        vitalNote: 'unit',
        kind: fact.kind,
        value: fact.value,
        unit: fact.unit,
        expectedUnit: spec.unit,
        time: fact.time,
      });
      continue;
    }
    if (!Number.isFinite(fact.value)) continue;
    const limits = vitalLimits(fact.kind, params);
    let breach: VitalReading['breach'] = null;
    if (limits.high !== null && fact.value > limits.high) breach = { bound: 'high', limit: limits.high };
    else if (limits.low !== null && fact.value < limits.low) breach = { bound: 'low', limit: limits.low };
    readings.push({ kind: fact.kind, value: fact.value, unit: spec.unit, time: fact.time, breach });
  }
  // One line for every vital too old to judge (a card reads in seconds, v1.1).
  if (stale.length > 0) notes.push({ vitalNote: 'too-old', maxAgeHours: params.vitalsMaxAgeHours, vitals: stale });
  const order: VitalKind[] = ['sbp', 'dbp', 'hr', 'rr', 'spo2'];
  readings.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  return { readings, breaches: readings.filter((r) => r.breach !== null), notes };
}

export type PregnancyResult = 'positive' | 'negative' | 'equivocal';

/** Quantitative hCG units read as IU/L (mIU/mL is the same number). */
const HCG_UNITS: readonly string[] = ['[iu]/l', 'iu/l', 'm[iu]/ml', 'miu/ml'];

/** From least to most cautious. */
const SEVERITY: readonly PregnancyResult[] = ['negative', 'equivocal', 'positive'];

/**
 * Classify a pregnancy test: qualitative as charted; quantitative below hcgNegativeBelow → negative,
 * at or above hcgPositiveAtOrAbove → positive, between → equivocal. When both are charted the more
 * cautious result counts. Null (with a note) when nothing can be read.
 */
export function classifyPregnancyTest(
  test: PregnancyTestFact,
  params: ProtocolParameters,
): { result: PregnancyResult | null; note: string | null } {
  const results: PregnancyResult[] = [];
  let note: string | null = null;
  if (test.qualitative) results.push(test.qualitative);
  if (test.quantitative) {
    const { value, unit } = test.quantitative;
    if (unit !== null && !HCG_UNITS.includes(unit.trim().toLowerCase())) {
      note = `The pregnancy test of ${displayTime(test.time)}: quantitative value ${value} is in unit "${unit}" (expected IU/L): not read.`;
    } else if (!Number.isFinite(value) || value < 0) {
      note = `The pregnancy test of ${displayTime(test.time)}: quantitative value ${value} is not a valid value: not read.`;
    } else if (value < params.hcgNegativeBelow) results.push('negative');
    else if (value >= params.hcgPositiveAtOrAbove) results.push('positive');
    else results.push('equivocal');
  }
  if (results.length === 0)
    return { result: null, note: note ?? `The pregnancy test of ${displayTime(test.time)} has no readable result.` };
  const worst = results.reduce((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a));
  return { result: worst, note };
}

/** Contraindications to a start (S1). Age unknown is not a contraindication (a note says so). */
export function findContraindications(
  facts: ClinicalFacts,
  pregnancy: { result: PregnancyResult | null; time: string | null },
  vitalBreaches: readonly VitalReading[],
  params: ProtocolParameters,
): Contraindication[] {
  const found: Contraindication[] = [];
  if (pregnancy.result === 'positive')
    found.push({ code: 'pregnancy-test-positive', display: 'Pregnancy test positive', time: pregnancy.time });
  if (pregnancy.result === 'equivocal')
    found.push({ code: 'pregnancy-test-equivocal', display: 'Pregnancy test equivocal', time: pregnancy.time });
  for (const c of facts.pregnancyConditions)
    found.push({ code: 'pregnancy-condition', display: c.display, time: c.time });
  for (const c of facts.psychosis) found.push({ code: 'psychosis', display: c.display, time: c.time });
  for (const c of facts.ketamineAllergies) found.push({ code: 'ketamine-allergy', display: c.display, time: c.time });
  if (facts.patient.ageYears !== null && facts.patient.ageYears < params.minAgeYears) {
    found.push({
      code: 'under-min-age',
      display: `Age ${facts.patient.ageYears} years (under ${params.minAgeYears})`,
      time: null,
    });
  }
  for (const v of vitalBreaches) if (v.breach) found.push({ code: 'vital-breach', vital: v, time: v.time });
  return found;
}

/** How a card names a counted effect (v1.1): psychotomimetic only when coded so. */
function effectName(fact: AdverseEffectFact): string {
  return fact.via === 'psychotomimetic-code' ? 'A psychotomimetic effect' : 'An adverse effect attributed to ketamine';
}

export interface TimedEffect {
  fact: AdverseEffectFact;
  timeMs: number;
  /**
   * The rate it is attributed to (mg/kg/h): the rate of the most recent running segment at or before it
   * (the one running then, or the last one before a pause); null when that rate could not be read.
   */
  atRate: number | null;
  /**
   * 'running': a readable rate was running when it was charted; 'before-pause': it was charted while
   * nothing ran (paused, rate 0, or between administrations) and the last running rate before it is
   * used; 'unreadable': the most recent running rate could not be read (the max tolerated rate is unknown).
   */
  rateFrom?: 'running' | 'before-pause' | 'unreadable';
}

export interface EffectsResult {
  effects: TimedEffect[];
  maxToleratedRate: number | null;
  limitingEffect: TimedEffect | null;
  /** The latest effect whose rate could not be read: the max tolerated rate is unknown (no increase). */
  toleranceUnknown: TimedEffect | null;
  notes: string[];
}

/**
 * Psychotomimetic adverse effects recorded during the infusion (at or after the start of the first
 * segment in the lookback window, not after now: every course in the window, for safety), and the max
 * tolerated rate: after an effect at rate r, r − escalationStep for the rest of the window (the lowest
 * such value when there are several; never below 0). An effect charted while nothing ran is attributed
 * to the most recent running rate before it; when that rate is unreadable the limit is unknown.
 */
export function effectsDuringInfusion(
  effects: readonly AdverseEffectFact[],
  infusion: InfusionState,
  params: ProtocolParameters,
  now: Date,
): EffectsResult {
  const notes: string[] = [];
  const during: TimedEffect[] = [];
  const none: EffectsResult = {
    effects: [],
    maxToleratedRate: null,
    limitingEffect: null,
    toleranceUnknown: null,
    notes,
  };
  if (infusion.startedMs === null) return none;
  const nowMs = now.getTime();
  for (const fact of effects) {
    const timeMs = toMs(fact.time);
    const label = `${effectName(fact)} (${fact.display})`;
    if (timeMs === null) {
      notes.push(`${label} has no time: it could not be placed in this infusion; please review.`);
      continue;
    }
    if (timeMs > nowMs) {
      notes.push(`${label} is dated after the evaluation time (${displayTime(fact.time)}): ignored; please review.`);
      continue;
    }
    if (timeMs < infusion.startedMs) continue;
    during.push(attribute(fact, timeMs, infusion, notes));
  }
  during.sort((a, b) => a.timeMs - b.timeMs);
  let maxToleratedRate: number | null = null;
  let limitingEffect: TimedEffect | null = null;
  let toleranceUnknown: TimedEffect | null = null;
  for (const e of during) {
    if (e.atRate === null) {
      toleranceUnknown = e;
      continue;
    }
    const limit = roundRate(Math.max(0, e.atRate - params.escalationStep), params);
    if (maxToleratedRate === null || limit < maxToleratedRate) {
      maxToleratedRate = limit;
      limitingEffect = e;
    }
  }
  return { effects: during, maxToleratedRate, limitingEffect, toleranceUnknown, notes };
}

/** The rate an effect is attributed to: the most recent running segment (rate > 0 or unreadable) at or before it. */
function attribute(fact: AdverseEffectFact, timeMs: number, infusion: InfusionState, notes: string[]): TimedEffect {
  const covering = segmentAt(infusion, timeMs);
  const label = `${effectName(fact)} (${fact.display}, ${displayTime(fact.time ?? isoAt(timeMs))})`;
  if (covering && covering.rate !== null && covering.rate > 0)
    return { fact, timeMs, atRate: covering.rate, rateFrom: 'running' };
  let latest: (typeof infusion.timeline)[number] | null = null;
  for (const s of infusion.timeline) {
    if (s.startMs <= timeMs && (s.rate === null || s.rate > 0)) latest = s;
  }
  if (latest === null || latest.rate === null) {
    notes.push(
      `${label} was charted while the ketamine rate could not be read: the max tolerated rate is unknown, so no increase is suggested; please review.`,
    );
    return { fact, timeMs, atRate: null, rateFrom: 'unreadable' };
  }
  notes.push(
    `${label} was charted while no ketamine was running: it is attributed to the last running rate before it, ${latest.rate} mg/kg/h (${displayTime(latest.start)}${latest.end ? ` to ${displayTime(latest.end)}` : ''}).`,
  );
  return { fact, timeMs, atRate: latest.rate, rateFrom: 'before-pause' };
}
