/**
 * Pain scores (docs/clinical-specification.md §2): normalised to the 0–painScaleMax scale, and the sustained-relief run
 * that moves the infusion into its taper phase.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { PainFact } from './facts';
import type { PainReading, SustainedRun } from './recommendation';
import { displayQuantity, displayTime } from './display';
import { MS_PER_HOUR, hoursBetween, isoAt, toMs } from './units';

/** Units read as points on the 0–10 scale; `mm` is a VAS in millimetres. Anything else is not a score. */
const SCORE_UNITS: readonly string[] = ['{score}', '1', '{#}', 'score', '{points}'];
const MM = 'mm';

export interface TimedPain extends PainReading {
  timeMs: number;
}

/**
 * Normalise charted pain scores, oldest first; values that cannot be read as 0–10 are left out and said.
 * The scores are those the CQL read with a code of the pain-score ValueSet; `vas` (ValueSet pain-score-vas)
 * marks a visual analogue score, which may be charted in mm.
 */
export function normalisePain(
  scores: readonly PainFact[],
  params: ProtocolParameters,
  now: Date,
): { readings: TimedPain[]; notes: string[] } {
  const nowMs = now.getTime();
  const readings: TimedPain[] = [];
  const notes: string[] = [];
  for (const s of scores) {
    const timeMs = toMs(s.time);
    if (timeMs === null) {
      notes.push('A pain score has no readable time: ignored.');
      continue;
    }
    if (timeMs > nowMs) {
      notes.push(`The pain score charted at ${displayTime(s.time)} is dated after the evaluation time: ignored.`);
      continue;
    }
    if (s.value === null || !Number.isFinite(s.value)) {
      notes.push(`The pain score charted at ${displayTime(s.time)} has no numeric value: ignored.`);
      continue;
    }
    const unit = s.unit === null ? null : s.unit.trim();
    const charted = unit === null ? String(s.value) : `${s.value} ${unit}`;
    let score: number;
    let converted = false;
    if (unit === MM || (s.vas && (unit === null || SCORE_UNITS.includes(unit)) && s.value > params.painScaleMax)) {
      score = s.value / params.vasMmPerPoint;
      converted = true;
    } else if (unit === null || SCORE_UNITS.includes(unit)) {
      score = s.value;
    } else {
      notes.push(
        `The pain score charted at ${displayTime(s.time)} is in unit "${unit}", not a 0–${params.painScaleMax} score: ignored.`,
      );
      continue;
    }
    if (score < 0 || score > params.painScaleMax) {
      notes.push(
        `The pain score charted at ${displayTime(s.time)} value ${displayQuantity(s.value, unit)} is outside 0–${params.painScaleMax}: ignored.`,
      );
      continue;
    }
    const reading: TimedPain = { id: s.id, time: s.time, timeMs, score };
    if (converted) reading.charted = charted.endsWith(MM) ? charted : `${charted} (read as mm)`;
    readings.push(reading);
  }
  readings.sort((a, b) => a.timeMs - b.timeMs);
  return { readings, notes };
}

/** The latest reading, or null. */
export const latestPain = (readings: readonly TimedPain[]): TimedPain | null => readings[readings.length - 1] ?? null;

export interface SustainedResult {
  /** Time of the score at which the sustained target was first reached during the infusion (taper phase). */
  reachedAt: string | null;
  reachedMs: number | null;
  /** The run to show: the one that reached the target, else the run the latest score belongs to (if ≤ target). */
  run: SustainedRun | null;
}

/**
 * The sustained-relief run (§2): consecutive scores ≤ targetPain, none above inside, at least
 * minScoresForSustained scores, first and last ≥ sustainedHours apart. Only scores at or after the
 * infusion start count (the run must lie within the infusion); relief counts only as far as measured.
 */
export function findSustained(
  readings: readonly TimedPain[],
  infusionStartMs: number | null,
  params: ProtocolParameters,
  now: Date,
): SustainedResult {
  if (infusionStartMs === null) return { reachedAt: null, reachedMs: null, run: null };
  const nowMs = now.getTime();
  const during = readings.filter((r) => r.timeMs >= infusionStartMs && r.timeMs <= nowMs);

  let runScores: TimedPain[] = [];
  let reachedAt: TimedPain | null = null;
  let reachedRun: TimedPain[] | null = null;
  const runs: TimedPain[][] = [];
  for (const r of during) {
    if (r.score <= params.targetPain) {
      runScores.push(r);
      const firstOfRun = runScores[0];
      if (
        reachedAt === null &&
        firstOfRun &&
        runScores.length >= params.minScoresForSustained &&
        hoursBetween(firstOfRun.timeMs, r.timeMs) >= params.sustainedHours
      ) {
        reachedAt = r;
        reachedRun = runScores;
      }
    } else {
      if (runScores.length > 0) runs.push(runScores);
      runScores = [];
    }
  }
  if (runScores.length > 0) runs.push(runScores);

  const latest = during[during.length - 1];
  const trailing = latest && latest.score <= params.targetPain ? (runs[runs.length - 1] ?? null) : null;
  const shown = reachedRun ?? trailing;
  return {
    reachedAt: reachedAt ? reachedAt.time : null,
    reachedMs: reachedAt ? reachedAt.timeMs : null,
    run: shown ? describeRun(shown, reachedRun !== null, params) : null,
  };
}

function describeRun(run: readonly TimedPain[], reached: boolean, params: ProtocolParameters): SustainedRun | null {
  const first = run[0];
  const last = run[run.length - 1];
  if (!first || !last) return null;
  return {
    from: first.time,
    to: last.time,
    scores: run.length,
    hours: hoursBetween(first.timeMs, last.timeMs),
    reached,
    taperMayStartAt: isoAt(first.timeMs + params.sustainedHours * MS_PER_HOUR),
  };
}

/** Scores to show on a card: those within the last sustainedHours (the window of the taper decision), at least the latest. */
export function recentPain(readings: readonly TimedPain[], params: ProtocolParameters, now: Date): PainReading[] {
  const fromMs = now.getTime() - params.sustainedHours * MS_PER_HOUR;
  const recent = readings.filter((r) => r.timeMs >= fromMs && r.timeMs <= now.getTime());
  const latest = latestPain(readings);
  const shown = recent.length > 0 ? recent : latest ? [latest] : [];
  return shown.map(toReading);
}

/** Drop the internal time field. */
export function toReading(r: TimedPain): PainReading {
  const reading: PainReading = { id: r.id, time: r.time, score: r.score };
  if (r.charted !== undefined) reading.charted = r.charted;
  return reading;
}
