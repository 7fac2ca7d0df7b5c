/**
 * Infusion segments (docs/clinical-specification.md §2): ketamine MedicationAdministrations → a timeline of rates.
 * Only `in-progress` and `completed` administrations count; each is a rate from its start to its end
 * (open when none; a later administration's start closes an earlier one); adjacent segments with the
 * same rate are one segment (also across a gap of at most gapToleranceMinutes: a bag change is not a
 * rate change); a rate of 0 is not running. Unreadable rates are reported, never guessed.
 *
 * A course is the run of segments since the last time nothing was running (for longer than
 * gapToleranceMinutes): the phase and the sustained run are judged within the current course.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { AdministrationFact, OrderFact } from './facts';
import type { ConcentrationOrigin, MissingItem, RateReading, Segment } from './recommendation';
import { displayTime } from './display';
import { concentrationOf, convertRate, roundRate, sameRate, toRateReading } from './rates';
import { MS_PER_DAY, MS_PER_MINUTE, isoAt, toMs } from './units';

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
  /**
   * Concentration (mg/mL) found by the one lookup (the administration's Medication strength, the
   * order it references, the active order); null when none is charted (defaultConcentration applies).
   */
  concentrationMgPerMl: number | null;
  /** Where that concentration came from; null when none is charted. */
  concentrationFrom: Exclude<ConcentrationOrigin, 'default'> | null;
  /** How the (latest) charted rate of this segment was read; null when unreadable. */
  reading: RateReading | null;
}

/** Orders that the concentration lookup reads (an administration's `request`, the active order). */
export interface OrderContext {
  orders: readonly OrderFact[];
  activeOrder: OrderFact | null;
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
  /**
   * Start of the current course (or of the last one when nothing runs): the first running segment
   * after the last stretch of more than gapToleranceMinutes with nothing running.
   */
  courseStartedAt: string | null;
  courseStartMs: number | null;
  /** How many courses the window holds (a gap of nothing running separates two). */
  courses: number;
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
  orderContext: OrderContext = { orders: [], activeOrder: null },
): InfusionState {
  const nowMs = now.getTime();
  const windowStartMs = nowMs - params.lookbackDays * MS_PER_DAY;
  const gapMs = params.gapToleranceMinutes * MS_PER_MINUTE;
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
      notes.push(
        `Ketamine administration ${admin.id} starts after the evaluation time (${displayTime(admin.start)}): not counted.`,
      );
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
    raw.push(toTimelineSegment(p.admin, p.startMs, endMs, weightKg, params, orderContext));
  });

  // 4. Merge adjacent segments with the same readable rate: touching, or a new bag started within
  //    gapToleranceMinutes of the previous one's end (a bag change is not a rate change).
  const timeline: TimelineSegment[] = [];
  for (const seg of raw) {
    const prev = timeline[timeline.length - 1];
    const hole = prev && prev.endMs !== null ? seg.startMs - prev.endMs : null;
    if (
      prev &&
      prev.rate !== null &&
      seg.rate !== null &&
      hole !== null &&
      hole >= 0 &&
      hole <= gapMs &&
      sameRate(prev.rate, seg.rate, params)
    ) {
      if (hole > 0 && prev.rate > 0) {
        notes.push(
          `Ketamine administration ${seg.administrationIds.join(', ')} restarted the same rate ${Math.round(hole / MS_PER_MINUTE)} min after the previous one ended: read as a bag change, not a rate change.`,
        );
      }
      prev.endMs = seg.endMs;
      prev.end = seg.end;
      prev.administrationIds.push(...seg.administrationIds);
      // The latest administration's bag and charted rate describe the segment from now on.
      prev.concentrationMgPerMl = seg.concentrationMgPerMl;
      prev.concentrationFrom = seg.concentrationFrom;
      prev.reading = seg.reading;
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

  // 6. Courses: a stretch of more than gapToleranceMinutes with nothing running (no segment, or rate 0)
  //    ends a course; the next running segment starts a new one.
  let course: TimelineSegment | null = first;
  let courses = first ? 1 : 0;
  for (let i = 1; i < running.length; i++) {
    const prev = running[i - 1];
    const seg = running[i];
    if (prev && seg && prev.endMs !== null && seg.startMs - prev.endMs > gapMs) {
      course = seg;
      courses += 1;
    }
  }

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
    courseStartedAt: course ? course.start : null,
    courseStartMs: course ? course.startMs : null,
    courses,
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
  orderContext: OrderContext,
): TimelineSegment {
  const concentration = concentrationOf(admin, orderContext.orders, orderContext.activeOrder);
  const base = {
    startMs,
    endMs,
    start: admin.start ?? isoAt(startMs),
    end: endMs === null ? null : endMs === toMs(admin.end) && admin.end !== null ? admin.end : isoAt(endMs),
    administrationIds: [admin.id],
    concentrationMgPerMl: concentration.value,
    concentrationFrom: concentration.from,
    reading: null,
  };
  if (admin.rate === null) {
    return {
      ...base,
      rate: null,
      unreadable: { code: 'rate-unreadable', since: base.start, detail: `administration ${admin.id}: no rate charted` },
    };
  }
  const conversion = convertRate(admin.rate, { weightKg, concentrationMgPerMl: concentration.value }, params);
  if (conversion.ok)
    return {
      ...base,
      rate: roundRate(conversion.mgPerKgPerHour, params),
      unreadable: null,
      reading: toRateReading(conversion, concentration.from, params),
    };
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
