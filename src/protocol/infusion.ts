/**
 * Infusion segments (PROTOCOL.md §2): ketamine MedicationAdministrations → a timeline of rates.
 * Only `in-progress` and `completed` administrations count; each is a rate from its start to its end
 * (open when none; a later administration's start closes an earlier one); adjacent segments with the
 * same rate are one segment; a rate of 0 is not running. Unreadable rates are reported, never guessed.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { AdministrationFact } from './facts';
import type { MissingItem, Segment } from './recommendation';
import { convertRate, roundRate, sameRate } from './rates';
import { MS_PER_DAY, isoAt, toMs } from './units';

/** Statuses whose rate counts as running (FHIR MedicationAdministration.status). */
export const RUNNING_STATUSES: readonly string[] = ['in-progress', 'completed'];

/** One stretch of the timeline: a readable rate (mg/kg/h, rounded) or an unreadable one (rate null). */
export interface TimelineSegment {
  /** null = the charted rate could not be read (see `unreadable`). */
  rate: number | null;
  startMs: number;
  /** null = open. */
  endMs: number | null;
  start: string;
  end: string | null;
  administrationIds: string[];
  unreadable: MissingItem | null;
  /** Concentration (mg/mL) of the administration's Medication, when charted. */
  concentrationMgPerMl: number | null;
}

export interface InfusionState {
  /** Every counted segment in the lookback window, merged, oldest first (rate 0 and unreadable included). */
  timeline: TimelineSegment[];
  /** Readable running segments (rate > 0), for the summary. */
  segments: Segment[];
  /** The segment covering now with a rate > 0 or an unreadable rate; null when nothing runs. */
  current: TimelineSegment | null;
  /** mg/kg/h: 0 when nothing runs, null when the running rate cannot be read. */
  currentRate: number | null;
  /** Start of the current segment. */
  lastChangeAt: string | null;
  lastChangeMs: number | null;
  /** Any running or unreadable segment in the window: the infusion has started. */
  started: boolean;
  /** Start of the first segment (rate > 0 or unreadable) in the window. */
  startedAt: string | null;
  startedMs: number | null;
  /** End of the last segment when nothing runs now. */
  endedAt: string | null;
  highestRate: number | null;
  /** Unreadable rates of segments in the window (rate-unreadable items). */
  unreadable: MissingItem[];
  notes: string[];
}

interface Placed {
  admin: AdministrationFact;
  startMs: number;
  endMs: number | null;
}

const runningRate = (s: TimelineSegment): boolean => s.rate === null || s.rate > 0;

/**
 * Build the infusion timeline at `now`. `weightKg` converts mg/h and mL/h rates (the latest readable
 * weight: what the charted pump rate meant); without it those rates are unreadable.
 */
export function buildInfusion(
  administrations: readonly AdministrationFact[],
  weightKg: number | null,
  params: ProtocolParameters,
  now: Date,
): InfusionState {
  const nowMs = now.getTime();
  const windowStartMs = nowMs - params.lookbackDays * MS_PER_DAY;
  const notes: string[] = [];

  // 1. Statuses and times.
  const placed: Placed[] = [];
  for (const admin of administrations) {
    if (!RUNNING_STATUSES.includes(admin.status)) {
      notes.push(`Ketamine administration ${admin.id} has status ${admin.status}: not counted as a running rate.`);
      continue;
    }
    const startMs = toMs(admin.start);
    if (startMs === null) {
      notes.push(`Ketamine administration ${admin.id} has no readable start time: not counted.`);
      continue;
    }
    if (startMs > nowMs) {
      notes.push(`Ketamine administration ${admin.id} starts after the evaluation time (${admin.start}): not counted.`);
      continue;
    }
    const endMs = toMs(admin.end);
    if (admin.end !== null && endMs === null)
      notes.push(`Ketamine administration ${admin.id} has an unreadable end time: taken as open.`);
    if (endMs !== null && endMs < startMs) {
      notes.push(`Ketamine administration ${admin.id} ends before it starts: not counted.`);
      continue;
    }
    placed.push({ admin, startMs, endMs });
  }
  placed.sort((a, b) => a.startMs - b.startMs);

  // 2. A later administration's start closes an earlier one (one pump, one rate at a time).
  const raw: TimelineSegment[] = [];
  placed.forEach((p, i) => {
    const next = placed[i + 1];
    let endMs = p.endMs;
    if (next && (endMs === null || endMs > next.startMs)) endMs = next.startMs;
    if (p.admin.status === 'completed' && p.endMs === null) {
      notes.push(
        `Ketamine administration ${p.admin.id} is completed but has no end time: its rate is taken as running until a later administration.`,
      );
    }
    // 3. Lookback window: the segment must reach into [now − lookbackDays, now].
    if (endMs !== null && endMs < windowStartMs) return;
    raw.push(toTimelineSegment(p.admin, p.startMs, endMs, weightKg, params));
  });

  // 4. Merge adjacent segments with the same readable rate.
  const timeline: TimelineSegment[] = [];
  for (const seg of raw) {
    const prev = timeline[timeline.length - 1];
    if (
      prev &&
      prev.rate !== null &&
      seg.rate !== null &&
      prev.endMs === seg.startMs &&
      sameRate(prev.rate, seg.rate, params)
    ) {
      prev.endMs = seg.endMs;
      prev.end = seg.end;
      prev.administrationIds.push(...seg.administrationIds);
      if (seg.concentrationMgPerMl !== null) prev.concentrationMgPerMl = seg.concentrationMgPerMl;
      continue;
    }
    timeline.push({ ...seg, administrationIds: [...seg.administrationIds] });
  }

  // 5. Current, last change, summary.
  const covering = timeline.find((s) => s.startMs <= nowMs && (s.endMs === null || nowMs < s.endMs)) ?? null;
  const current = covering && runningRate(covering) ? covering : null;
  const running = timeline.filter(runningRate);
  const readable = running.filter((s): s is TimelineSegment & { rate: number } => s.rate !== null);
  const first = running[0] ?? null;
  const last = running[running.length - 1] ?? null;
  const unreadable = timeline.flatMap((s) => (s.unreadable ? [s.unreadable] : []));

  return {
    timeline,
    segments: readable.map((s) => ({
      rate: s.rate,
      start: s.start,
      end: s.end,
      administrationIds: [...s.administrationIds],
    })),
    current,
    currentRate: current ? current.rate : 0,
    lastChangeAt: current ? current.start : null,
    lastChangeMs: current ? current.startMs : null,
    started: running.length > 0,
    startedAt: first ? first.start : null,
    startedMs: first ? first.startMs : null,
    endedAt: current === null && last ? last.end : null,
    highestRate: readable.length > 0 ? Math.max(...readable.map((s) => s.rate)) : null,
    unreadable,
    notes,
  };
}

function toTimelineSegment(
  admin: AdministrationFact,
  startMs: number,
  endMs: number | null,
  weightKg: number | null,
  params: ProtocolParameters,
): TimelineSegment {
  const base = {
    startMs,
    endMs,
    start: admin.start ?? isoAt(startMs),
    end: endMs === null ? null : endMs === toMs(admin.end) && admin.end !== null ? admin.end : isoAt(endMs),
    administrationIds: [admin.id],
    concentrationMgPerMl: admin.medication.concentrationMgPerMl,
  };
  if (admin.rate === null) {
    return {
      ...base,
      rate: null,
      unreadable: { code: 'rate-unreadable', since: base.start, detail: `administration ${admin.id}: no rate charted` },
    };
  }
  const conversion = convertRate(
    admin.rate,
    { weightKg, concentrationMgPerMl: admin.medication.concentrationMgPerMl },
    params,
  );
  if (conversion.ok) return { ...base, rate: roundRate(conversion.mgPerKgPerHour, params), unreadable: null };
  const detail =
    conversion.error === 'unknown-unit'
      ? `administration ${admin.id}: unknown rate unit "${conversion.unit}" (${conversion.charted})`
      : conversion.error === 'no-weight'
        ? `administration ${admin.id}: ${conversion.charted} needs a dosing weight`
        : `administration ${admin.id}: rate ${conversion.charted} is not a valid rate`;
  return { ...base, rate: null, unreadable: { code: 'rate-unreadable', since: base.start, detail } };
}

/** The timeline segment covering a time (a rate of 0 included), or null. */
export function segmentAt(state: InfusionState, timeMs: number): TimelineSegment | null {
  return state.timeline.find((s) => s.startMs <= timeMs && (s.endMs === null || timeMs < s.endMs)) ?? null;
}
