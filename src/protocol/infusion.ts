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
import {
  concentrationOf,
  convertRate,
  rateContext,
  roundRate,
  sameRate,
  toRateReading,
  unreadableRateText,
} from './rates';
import { MS_PER_DAY, MS_PER_MINUTE, isoAt, toMs } from './units';

/** Statuses whose rate counts as running (FHIR MedicationAdministration.status). */
const RUNNING_STATUSES: readonly string[] = ['in-progress', 'completed'];

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

/** Administrations with the same start and end, read as one segment (unreadable when their rates differ). */
interface Group {
  startMs: number;
  endMs: number | null;
  /** The end as charted, when it was. */
  chartedEnd: string | null;
  segment: TimelineSegment;
}

/** The segment a sweep step produced, with the group it came from (to join its consecutive pieces). */
type SweptSegment = TimelineSegment & { group?: Group };

function endText(group: Group, endMs: number): string {
  return endMs === group.endMs && group.chartedEnd !== null ? group.chartedEnd : isoAt(endMs);
}

/** Which of two covering groups is the rate: the later start, then the open one, then the later end. */
function wins(a: Group, b: Group): boolean {
  if (a.startMs !== b.startMs) return a.startMs > b.startMs;
  if ((a.endMs === null) !== (b.endMs === null)) return a.endMs === null;
  return (a.endMs ?? 0) > (b.endMs ?? 0);
}

/** A binary max-heap of groups ordered by `wins`. */
class WinnerHeap {
  private readonly items: Group[] = [];
  peek(): Group | undefined {
    return this.items[0];
  }
  push(group: Group): void {
    const items = this.items;
    items.push(group);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!wins(items[i] as Group, items[parent] as Group)) break;
      [items[i], items[parent]] = [items[parent] as Group, items[i] as Group];
      i = parent;
    }
  }
  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (items.length === 0 || last === undefined) return;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = (i << 1) + 1;
      const r = l + 1;
      let best = i;
      if (l < items.length && wins(items[l] as Group, items[best] as Group)) best = l;
      if (r < items.length && wins(items[r] as Group, items[best] as Group)) best = r;
      if (best === i) return;
      [items[i], items[best]] = [items[best] as Group, items[i] as Group];
      i = best;
    }
  }
}

/** One segment per distinct (start, end); administrations charted for the same times must agree on the rate. */
function groupByTimes(
  placed: readonly Placed[],
  weightKg: number | null,
  params: ProtocolParameters,
  orderContext: OrderContext,
): Group[] {
  const byTimes = new Map<string, Placed[]>();
  for (const p of placed) {
    const key = `${p.startMs}|${p.endMs ?? 'open'}`;
    const list = byTimes.get(key);
    if (list) list.push(p);
    else byTimes.set(key, [p]);
  }
  const groups: Group[] = [];
  for (const list of byTimes.values()) {
    // Charting order never matters: read the group in a fixed order.
    list.sort((a, b) => (a.admin.id < b.admin.id ? -1 : a.admin.id > b.admin.id ? 1 : 0));
    const first = list[0] as Placed;
    const segments = list.map((p) => toTimelineSegment(p.admin, p.startMs, p.endMs, weightKg, params, orderContext));
    const readable = segments.filter((seg) => seg.rate !== null);
    let segment = segments.find((seg) => seg.rate !== null) ?? (segments[0] as TimelineSegment);
    const disagree = readable.some((seg) => !sameRate(seg.rate as number, segment.rate as number, params));
    if (disagree) {
      segment = {
        ...segment,
        rate: null,
        reading: null,
        unreadable: {
          code: 'rate-unreadable',
          since: segment.start,
          detail: `${list.length} ketamine administrations charted for the same time with different rates (${readable.map((seg) => seg.reading?.charted ?? '?').join(', ')})`,
        },
      };
    }
    segment.administrationIds = list.map((p) => p.admin.id);
    groups.push({ startMs: first.startMs, endMs: first.endMs, chartedEnd: first.admin.end, segment });
  }
  return groups;
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

  // 1. Statuses and times. Charting order never matters (v1.1): only the times and the statuses do.
  const placed: Placed[] = [];
  /** In-progress administrations with no end and no readable start: running, but not placeable in time. */
  const unplaced: AdministrationFact[] = [];
  for (const admin of administrations) {
    const what = `The ketamine administration charted ${admin.start ? `at ${displayTime(admin.start)}` : 'without a start time'}`;
    if (!RUNNING_STATUSES.includes(admin.status)) {
      notes.push(`${what} has status ${admin.status}: not counted as a running rate.`);
      continue;
    }
    const startMs = toMs(admin.start);
    if (startMs === null) {
      if (admin.status === 'in-progress' && admin.end === null) unplaced.push(admin);
      else notes.push(`${what} has no readable start time: not counted.`);
      continue;
    }
    if (startMs > nowMs) {
      notes.push(`${what} starts after the evaluation time: not counted.`);
      continue;
    }
    const endMs = toMs(admin.end);
    if (admin.end !== null && endMs === null) notes.push(`${what} has an unreadable end time: taken as open.`);
    if (endMs !== null && endMs < startMs) {
      notes.push(`${what} ends before it starts: not counted.`);
      continue;
    }
    // A segment whose end is not after its start covers no time (a rate charted and corrected at once).
    if (endMs !== null && endMs === startMs) continue;
    placed.push({ admin, startMs, endMs });
  }
  // A completed administration without an end ran until the next administration started.
  const starts = [...new Set(placed.map((p) => p.startMs))].sort((a, b) => a - b);
  for (const p of placed) {
    if (p.admin.status !== 'completed' || p.endMs !== null) continue;
    const next = starts.find((t) => t > p.startMs);
    if (next !== undefined) p.endMs = next;
    notes.push(
      `The ketamine administration charted at ${displayTime(p.admin.start)} is completed but has no end time: its rate is taken as running ${next !== undefined ? 'until the next administration' : 'until now'}.`,
    );
  }

  // 2. At every instant the covering administration that started last is the rate (v1.1); on a tie the
  //    open one; two administrations with the same times and different rates cannot be told apart
  //    (unreadable). A sweep over the start/end instants with a max-heap keeps this O(n log n).
  const groups = groupByTimes(placed, weightKg, params, orderContext);
  const raw: SweptSegment[] = [];
  const edges = [...new Set(groups.flatMap((g) => (g.endMs === null ? [g.startMs] : [g.startMs, g.endMs])))].sort(
    (a, b) => a - b,
  );
  const byStart = [...groups].sort((a, b) => a.startMs - b.startMs);
  const heap = new WinnerHeap();
  let next = 0;
  for (let i = 0; i < edges.length; i++) {
    const t = edges[i] as number;
    const until = edges[i + 1] ?? null;
    while (next < byStart.length && (byStart[next] as Group).startMs <= t) heap.push(byStart[next++] as Group);
    let top = heap.peek();
    while (top && top.endMs !== null && top.endMs <= t) {
      heap.pop();
      top = heap.peek();
    }
    if (!top) continue;
    const endMs = top.endMs === null ? until : until === null ? top.endMs : Math.min(until, top.endMs);
    // The lookback window: the segment must reach into [now − lookbackDays, now].
    if (endMs !== null && endMs < windowStartMs) continue;
    const prev = raw[raw.length - 1];
    if (prev && prev.endMs === t && prev.group === top) {
      prev.endMs = endMs;
      prev.end = endMs === null ? null : endText(top, endMs);
      continue;
    }
    raw.push({
      ...top.segment,
      startMs: t,
      start: t === top.startMs ? top.segment.start : isoAt(t),
      endMs,
      end: endMs === null ? null : endText(top, endMs),
      administrationIds: [...top.segment.administrationIds],
      group: top,
    });
  }

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
    const { group: _group, ...plain } = seg;
    timeline.push({ ...plain, administrationIds: [...seg.administrationIds] });
  }

  // 5. Current, last change, summary.
  const covering = timeline.find((s) => s.startMs <= nowMs && (s.endMs === null || nowMs < s.endMs)) ?? null;
  // An in-progress administration without a readable start may have started last: the rate running now
  // cannot be told (unreadable, D1), and the course is never "completed" while it exists (v1.1).
  const current =
    unplaced.length > 0 ? unplacedSegment(unplaced, nowMs) : covering && runningRate(covering) ? covering : null;
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
    started: running.length > 0 || current !== null,
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
      unreadable: {
        code: 'rate-unreadable',
        since: base.start,
        detail: `the administration charted at ${displayTime(base.start)} has no rate`,
      },
    };
  }
  const conversion = convertRate(admin.rate, rateContext(weightKg, concentration), params);
  // A positive charted rate that reads as 0 once rounded (a strength charted in the wrong unit, a slip)
  // cannot be told from a stop: unreadable (D1 when current), never "not running" (X1 while the pump runs).
  if (conversion.ok && conversion.mgPerKgPerHour > 0 && roundRate(conversion.mgPerKgPerHour, params) === 0) {
    const detail = `the administration charted at ${displayTime(base.start)}: ${conversion.charted} reads as less than ${params.rateRounding} mg/kg/h: taken as a charting error`;
    return { ...base, rate: null, unreadable: { code: 'rate-unreadable', since: base.start, detail } };
  }
  if (conversion.ok)
    return {
      ...base,
      rate: roundRate(conversion.mgPerKgPerHour, params),
      unreadable: null,
      reading: toRateReading(conversion, concentration.from, params),
    };
  const detail = `the administration charted at ${displayTime(base.start)}: ${unreadableRateText(conversion, params)}`;
  return { ...base, rate: null, unreadable: { code: 'rate-unreadable', since: base.start, detail } };
}

/** The current segment when in-progress administrations have no readable start: unreadable, from now. */
function unplacedSegment(admins: readonly AdministrationFact[], nowMs: number): TimelineSegment {
  const start = isoAt(nowMs);
  return {
    rate: null,
    startMs: nowMs,
    endMs: null,
    start,
    end: null,
    administrationIds: admins.map((a) => a.id),
    unreadable: {
      code: 'rate-unreadable',
      since: null,
      detail: `${admins.length === 1 ? 'an in-progress ketamine administration has' : `${admins.length} in-progress ketamine administrations have`} no readable start time: whether it runs now, and at what rate, cannot be told`,
    },
    concentrationMgPerMl: null,
    concentrationFrom: null,
    reading: null,
  };
}

/** The timeline segment covering a time (a rate of 0 included), or null. */
export function segmentAt(state: InfusionState, timeMs: number): TimelineSegment | null {
  return state.timeline.find((s) => s.startMs <= timeMs && (s.endMs === null || timeMs < s.endMs)) ?? null;
}
