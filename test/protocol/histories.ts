/**
 * Random infusion histories for property-based tests (test/protocol/properties.test.ts,
 * test/protocol/metamorphic.test.ts): the generators, their layout as ClinicalFacts, and a small oracle
 * written from the clinical specification (not from the code under test's own helpers).
 */
import fc from 'fast-check';
import type { DecisionContext } from '../../src/protocol/decide';
import type { ClinicalFacts } from '../../src/protocol/facts';
import { NOW, ketamine, m, patient, qty } from './builders';
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const HARD_MAX = 1.0;
export const STEP = 0.1;
export const TOL = 0.005;
/** A stretch with nothing running longer than this ends a course (gapToleranceMinutes). */
const GAP_MIN = 15;

interface Step {
  rate: number;
  minutes: number;
  unit: 'mg/kg/h' | 'mL/h';
}
export interface History {
  migraine: boolean;
  steps: Step[];
  open: boolean;
  gapMinutes: number;
  pains: Array<{ minutesAgo: number; score: number }>;
  effects: number[];
  vitals: { sbp: number; hr: number; spo2: number; minutesAgo: number };
  weightHours: number | null;
  ekgHours: number | null;
  pregnancy: { kind: 'negative' | 'positive' | 'hcg'; hcg: number; hours: number } | null;
  gender: 'female' | 'male' | 'unknown' | null;
  age: number;
  hook: DecisionContext['hook'];
}

export const RATES = [0, 0.1, 0.12, 0.2, 0.22, 0.3, 0.38, 0.41, 0.42, 0.5, 0.52, 0.6, 0.9, 0.95, 1.0, 1.2];

/** Mostly ordinary histories (normal vitals, negative tests, no effects), with the unusual ones mixed in. */
const normalVitals = fc.record({
  sbp: fc.integer({ min: 100, max: 160 }),
  hr: fc.integer({ min: 60, max: 100 }),
  spo2: fc.integer({ min: 94, max: 100 }),
  minutesAgo: fc.integer({ min: 0, max: 200 }),
});
const anyVitals = fc.record({
  sbp: fc.integer({ min: 85, max: 190 }),
  hr: fc.integer({ min: 45, max: 130 }),
  spo2: fc.integer({ min: 88, max: 100 }),
  minutesAgo: fc.integer({ min: 0, max: 200 }),
});
const painsWith = (maxScore: number) =>
  fc.uniqueArray(
    fc.record({ minutesAgo: fc.integer({ min: 0, max: 2400 }), score: fc.integer({ min: 0, max: maxScore }) }),
    {
      maxLength: 16,
      selector: (p) => p.minutesAgo,
    },
  );

const anyHistory: fc.Arbitrary<History> = fc.record({
  migraine: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
  steps: fc.array(
    fc.record({
      rate: fc.constantFrom(...RATES),
      minutes: fc.integer({ min: 30, max: 480 }),
      unit: fc.constantFrom<'mg/kg/h' | 'mL/h'>('mg/kg/h', 'mg/kg/h', 'mL/h'),
    }),
    { maxLength: 8 },
  ),
  open: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
  gapMinutes: fc.integer({ min: 1, max: 900 }),
  pains: fc.oneof(painsWith(10), painsWith(4)),
  effects: fc.oneof(
    { arbitrary: fc.constant<number[]>([]), weight: 3 },
    { arbitrary: fc.array(fc.integer({ min: 0, max: 2400 }), { minLength: 1, maxLength: 2 }), weight: 1 },
  ),
  vitals: fc.oneof({ arbitrary: normalVitals, weight: 4 }, { arbitrary: anyVitals, weight: 1 }),
  weightHours: fc.option(fc.integer({ min: 0, max: 240 }), { freq: 8 }),
  ekgHours: fc.option(fc.integer({ min: 0, max: 240 }), { freq: 8 }),
  pregnancy: fc.option(
    fc.record({
      kind: fc.constantFrom<'negative' | 'positive' | 'hcg'>(
        'negative',
        'negative',
        'negative',
        'negative',
        'positive',
        'hcg',
      ),
      hcg: fc.integer({ min: 0, max: 40 }),
      hours: fc.integer({ min: 0, max: 240 }),
    }),
    { freq: 8 },
  ),
  gender: fc.constantFrom<'female' | 'male' | 'unknown' | null>('female', 'female', 'male', 'male', 'unknown', null),
  age: fc.integer({ min: 16, max: 70 }),
  hook: fc.constantFrom<DecisionContext['hook']>('patient-view', 'order-select', 'order-sign'),
});

/** Histories steered towards the running rules: a running infusion, a fresh weight, recent pain scores. */
const runningHistory: fc.Arbitrary<History> = fc
  .record({
    base: anyHistory,
    recentPains: painsWith(10).map((ps) => ps.map((p) => ({ ...p, minutesAgo: p.minutesAgo % 300 }))),
  })
  .map(({ base, recentPains }) => ({
    ...base,
    migraine: true,
    open: true,
    weightHours: (base.weightHours ?? 0) % 100,
    pains: [
      ...base.pains.filter((p) => !recentPains.some((r) => r.minutesAgo === p.minutesAgo)),
      ...recentPains,
    ].filter((p, i, all) => all.findIndex((q) => q.minutesAgo === p.minutesAgo) === i),
  }));

export const history: fc.Arbitrary<History> = fc.oneof(anyHistory, runningHistory);

export interface Placed extends Step {
  startMs: number;
  endMs: number | null;
}

/** Lay the steps out back from now: the last one open (running) or ended `gapMinutes` ago. */
export function place(hist: History): Placed[] {
  const nowMs = NOW.getTime();
  const total = hist.steps.reduce((sum, s) => sum + s.minutes, 0);
  let t = nowMs - total * MIN - (hist.open ? 0 : hist.gapMinutes * MIN);
  return hist.steps.map((s, i) => {
    const startMs = t;
    t += s.minutes * MIN;
    const last = i === hist.steps.length - 1;
    return { ...s, startMs, endMs: last && hist.open ? null : t };
  });
}

export function toFacts(hist: History, placed: Placed[]): ClinicalFacts {
  const p = patient().age(hist.age).gender(hist.gender).noVitals().pains();
  if (!hist.migraine) p.noMigraine();
  if (hist.weightHours === null) p.noWeight();
  else p.weight(70, m(hist.weightHours * 60));
  if (hist.ekgHours === null) p.noEkg();
  else p.ekg(m(hist.ekgHours * 60));
  if (hist.pregnancy === null) p.noPregnancyTest();
  else if (hist.pregnancy.kind === 'hcg') p.hcg(hist.pregnancy.hcg, m(hist.pregnancy.hours * 60));
  else p.pregnancyTest(hist.pregnancy.kind, m(hist.pregnancy.hours * 60));
  p.vital('sbp', hist.vitals.sbp, m(hist.vitals.minutesAgo))
    .vital('dbp', 80, m(hist.vitals.minutesAgo))
    .vital('hr', hist.vitals.hr, m(hist.vitals.minutesAgo))
    .vital('spo2', hist.vitals.spo2, m(hist.vitals.minutesAgo));
  for (const s of hist.pains) p.pain([s.score, m(s.minutesAgo)]);
  for (const e of hist.effects) p.effect(m(e));
  for (const s of placed) {
    p.admin({
      start: new Date(s.startMs).toISOString(),
      end: s.endMs === null ? null : new Date(s.endMs).toISOString(),
      status: s.endMs === null ? 'in-progress' : 'completed',
      rate: s.unit === 'mL/h' ? qty(Math.round(s.rate * 70 * 100) / 100, 'mL/h') : qty(s.rate, 'mg/kg/h'),
      medication: ketamine(),
    });
  }
  if (hist.hook !== 'patient-view') p.order({ id: 'draft-x', status: 'draft' });
  return p.build();
}

export const contextFor = (hist: History): DecisionContext =>
  hist.hook === 'patient-view'
    ? { hook: 'patient-view', encounterId: 'enc-1', draftOrderIds: [] }
    : { hook: hist.hook, encounterId: 'enc-1', draftOrderIds: ['draft-x'] };

// ----- The oracle, from docs/clinical-specification.md §2 -----

export function oracle(hist: History, placed: Placed[]) {
  const nowMs = NOW.getTime();
  const running = placed.filter((s) => s.rate > 0);
  const infusionStart = running[0]?.startMs ?? null;
  const last = placed[placed.length - 1];
  const current = last && last.endMs === null && last.rate > 0 ? last.rate : 0;
  let lastChange: number | null = null;
  if (current > 0) {
    let i = placed.length - 1;
    while (
      i > 0 &&
      Math.abs((placed[i - 1] as Placed).rate - current) < TOL &&
      (placed[i - 1] as Placed).endMs === (placed[i] as Placed).startMs
    )
      i--;
    lastChange = (placed[i] as Placed).startMs;
  }
  // A rate charted in mL/h cannot be read without a weight (the core says so): the oracle knows only readable rates.
  const readable = (s: Placed): boolean => s.unit === 'mg/kg/h' || s.rate === 0 || hist.weightHours !== null;
  // An effect is attributed to the most recent running step at or before it (also when charted during a
  // pause); when that step's rate cannot be read, the max tolerated rate is unknown.
  const rateAt = (t: number): number | null => {
    const s = running.filter((x) => x.startMs <= t).pop();
    return s && readable(s) ? s.rate : null;
  };
  const effectTimes = hist.effects
    .map((e) => nowMs - e * MIN)
    .filter((t) => infusionStart !== null && t >= infusionStart && t <= nowMs);
  const attributed = effectTimes.map(rateAt);
  const toleranceUnknown = attributed.some((r) => r === null);
  const effectRates = attributed.filter((r): r is number => r !== null && r > 0);
  const maxTolerated = effectRates.length ? Math.max(0, Math.min(...effectRates.map((r) => r - STEP))) : null;
  const effectAtCurrent = current > 0 && effectRates.some((r) => Math.abs(r - current) < TOL);
  // An effect at or below the current rate anywhere in the look-back, or any effect since the current segment started.
  const effectAtOrBelowCurrent = current > 0 && effectRates.some((r) => r <= current + TOL);
  const effectSinceChange = lastChange !== null && effectTimes.some((t) => t >= (lastChange as number));
  // The course: running steps since the last stretch of more than GAP_MIN minutes with nothing running.
  let courseStart = infusionStart;
  running.forEach((s, i) => {
    const prev = running[i - 1];
    if (prev && prev.endMs !== null && s.startMs - prev.endMs > GAP_MIN * MIN) courseStart = s.startMs;
  });

  const v = hist.vitals;
  const breach = v.minutesAgo <= 120 && (v.sbp > 180 || v.sbp < 90 || v.hr > 120 || v.hr < 50 || v.spo2 < 92);

  // Sustained target: consecutive scores ≤ 3 during the course, ≥ 2 of them, first and last ≥ 8 h apart.
  let taper = false;
  if (courseStart !== null) {
    const from = courseStart;
    const during = hist.pains
      .map((p) => ({ t: nowMs - p.minutesAgo * MIN, score: p.score }))
      .filter((p) => p.t >= from)
      .sort((a, b) => a.t - b.t);
    let runStart: number | null = null;
    let count = 0;
    for (const p of during) {
      if (p.score <= 3) {
        if (runStart === null) runStart = p.t;
        count++;
        if (count >= 2 && p.t - runStart >= 8 * HOUR) taper = true;
      } else {
        runStart = null;
        count = 0;
      }
    }
  }

  const latestPainAgeMin = hist.pains.length ? Math.min(...hist.pains.map((p) => p.minutesAgo)) : null;
  const pregnancyResult =
    hist.pregnancy === null
      ? null
      : hist.pregnancy.kind === 'hcg'
        ? hist.pregnancy.hcg < 5
          ? 'negative'
          : hist.pregnancy.hcg >= 25
            ? 'positive'
            : 'equivocal'
        : hist.pregnancy.kind;
  const prerequisitesMet =
    hist.weightHours !== null &&
    hist.weightHours <= 7 * 24 &&
    hist.ekgHours !== null &&
    hist.ekgHours <= 7 * 24 &&
    (hist.gender === 'male' ||
      (pregnancyResult === 'negative' && (hist.pregnancy as { hours: number }).hours <= 7 * 24)) &&
    latestPainAgeMin !== null &&
    latestPainAgeMin <= 4 * 60 &&
    hist.vitals.minutesAgo <= 2 * 60; // v1.1: baseline blood pressure and heart rate
  const contraindicated = hist.age < 18 || breach || pregnancyResult === 'positive' || pregnancyResult === 'equivocal';

  return {
    current,
    lastChange,
    maxTolerated,
    toleranceUnknown,
    effectAtCurrent,
    effectAtOrBelowCurrent,
    effectSinceChange,
    breach,
    taper,
    prerequisitesMet,
    contraindicated,
  };
}
