/**
 * The inputs of decide() (docs/clinical-specification.md §2): the clinical facts judged once against the
 * parameters at `now` (weight and its age, the infusion timeline, pain scores and the sustained run,
 * vitals, pregnancy test, EKG, adverse effects, contraindications), with the notes of what was read but
 * not used. Every rule family (start-rules.ts, running-rules.ts) reads this Context.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { DecisionContext } from './decide';
import { displayTime } from './display';
import type { ClinicalFacts, OrderFact } from './facts';
import { buildInfusion, type InfusionState } from './infusion';
import { findSustained, latestPain, normalisePain, type TimedPain } from './pain';
import type { MissingItem, Note, Phase, Recommendation, SetAsideSummary } from './recommendation';
import { parseRateUnit, parseRatioUnits, weightToKg } from './rates';
import {
  classifyPregnancyTest,
  effectsDuringInfusion,
  findContraindications,
  judgeVitals,
  type PregnancyResult,
} from './safety';
import { MS_PER_DAY, hoursBetween, isoAt, roundTo, toMs } from './units';

interface WeightRead {
  valueKg: number;
  time: string;
  timeMs: number;
  fresh: boolean;
}

/** The pieces every path of the decision fills in: the facts judged once, read by every rule family. */
export interface Context {
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

/** Facts → judged inputs: weight, infusion, pain, vitals, pregnancy test, EKG, effects, contraindications. */
export function gather(facts: ClinicalFacts, params: ProtocolParameters, now: Date, context: DecisionContext): Context {
  const nowMs = now.getTime();
  const notes: Note[] = [];

  for (const type of context.unfetched ?? [])
    pushOnce(
      notes,
      `The ${type} resources the record names could not be fetched from the FHIR server: a medication may go unrecognised, and its bag strength is unknown.`,
    );
  for (const m of [...facts.administrations.map((a) => a.medication), ...facts.orders.map((o) => o.medication)]) {
    if (m.notInRecord) {
      pushOnce(
        notes,
        `Medication "${m.display}" is not in the record: recognised as ketamine by the name on its reference only, its bag strength unknown.`,
      );
    } else if (m.recognizedBy === 'text') {
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
          : conv.error === 'no-value'
            ? `the weight charted at ${displayTime(w.time)} has no readable value`
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

export function phaseOf(c: Context): Phase {
  return c.sustained.reachedMs !== null ? 'taper' : 'titration';
}

/** Blood pressure and heart rate within vitalsMaxAgeHours (v1.1: before a start and before an increase). */
export function missingVitals(c: Context): MissingItem | null {
  const judged = new Set(c.vitals.readings.map((r) => r.kind));
  const lacking = [
    ...(judged.has('sbp') && judged.has('dbp') ? [] : ['blood pressure']),
    ...(judged.has('hr') ? [] : ['heart rate']),
  ];
  return lacking.length === 0 ? null : { code: 'vitals-missing', detail: lacking.join(' and ') };
}

/** The latest pain score, when it is no older than painMaxAgeHours. */
export function freshBaselinePain(c: Context): TimedPain | null {
  const latest = latestPain(c.pain);
  if (!latest) return null;
  return hoursBetween(latest.timeMs, c.nowMs) <= c.params.painMaxAgeHours ? latest : null;
}
