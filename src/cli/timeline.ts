/**
 * Examples at any moment, including now: each example bundle holds a whole admission at fixed past dates;
 * `ketamine-cds load --at <moment>` and the demo's seeding move its timeline by one offset so that "now"
 * falls at a chosen moment of the admission. Every interval is kept: every instant/dateTime (and period
 * bound) moves by the offset exactly; a date without a time (birthDate, a date-precision dateTime) by the
 * whole number of days nearest to it, a year-month by whole months, a year by whole years.
 *
 * The moments come from each example's own timeline metadata in index.json (`scenarioTimes`, the moments
 * the demo page offers as chips, each with its expected rule): `work-up` is the first S-rule moment,
 * `titration` the first T8/T1, `target` the first T6 (else half a sustained run before the taper),
 * `taper` the first T4 (else T5), `done` the X1. `first` is the first scenario time, `admission` and
 * `infusion` the manifest's times; each may take an offset (`taper+1h`, `admission+36h`, `+36h` = from
 * admission). A bare ISO date-time is a time on the example's own (unshifted) timeline.
 */
import type { Bundle } from 'fhir/r4';
import type { ExampleEntry, ScenarioTime } from './examples';

export const MOMENT_NAMES = ['work-up', 'titration', 'target', 'taper', 'done'] as const;
type MomentName = (typeof MOMENT_NAMES)[number];
const ANCHORS = ['first', 'admission', 'infusion'] as const;
type Anchor = MomentName | (typeof ANCHORS)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const UNIT_MS: Record<string, number> = { d: DAY_MS, h: HOUR_MS, m: MINUTE_MS };

/** A parsed `--at` value. */
export type Moment =
  { kind: 'anchor'; anchor: Anchor; offsetMs: number; text: string } | { kind: 'instant'; ms: number; text: string };

export class MomentError extends Error {}

/** `90m`, `1h30m`, `2d`, `1.5h` → ms (no sign). */
function durationMs(text: string): number | null {
  if (!/^(\d+(\.\d+)?[dhm])+$/.test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)([dhm])/g)) total += Number(n) * (UNIT_MS[unit ?? ''] ?? 0);
  return Math.round(total);
}

/** Parses `work-up`, `titration+2h`, `admission+36h`, `+36h`, `36h`, or an ISO date-time with a zone. */
export function parseMoment(text: string): Moment {
  const value = text.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return { kind: 'instant', ms, text: value };
  }
  const names: Anchor[] = [...MOMENT_NAMES, ...ANCHORS];
  const anchor = names.find((n) => value === n || value.startsWith(`${n}+`) || value.startsWith(`${n}-`));
  const rest = anchor ? value.slice(anchor.length) : /^[+-]?\d/.test(value) ? value : undefined;
  if (rest === undefined)
    throw new MomentError(
      `--at must be one of ${names.join(', ')} (optionally +/- a duration such as 2h or 1h30m), ` +
        `a duration after admission (+36h), or an ISO date-time; got "${text}"`,
    );
  let offsetMs = 0;
  if (rest !== '') {
    const negative = rest.startsWith('-');
    const duration = rest.replace(/^[+-]/, '');
    const d = durationMs(duration);
    if (d === null) throw new MomentError(`--at: "${duration}" is not a duration (use d, h, m: 36h, 1h30m, 2d)`);
    offsetMs = negative ? -d : d;
  }
  return { kind: 'anchor', anchor: anchor ?? 'admission', offsetMs, text: value };
}

export interface ResolvedMoment {
  /** The moment on the example's own (unshifted) timeline, epoch ms. */
  atMs: number;
  /** What the example shows then (the scenario time's label, or how the moment was found). */
  label: string;
  expectedRuleId?: string;
  /** Set when the example has no such moment and its first scenario time was used instead. */
  fallback?: string;
}

const ms = (iso: unknown): number | null => {
  if (typeof iso !== 'string') return null;
  const v = Date.parse(iso);
  return Number.isNaN(v) ? null : v;
};

function firstWith(times: ScenarioTime[], rule: (id: string) => boolean): ScenarioTime | undefined {
  return times.find((t) => t.expectedRuleId !== undefined && rule(t.expectedRuleId) && ms(t.at) !== null);
}

/** The scenario time (or computed time) of a named moment in one example; undefined when it has none. */
function namedMoment(
  entry: ExampleEntry,
  name: MomentName,
  sustainedHours: number,
): { atMs: number; label: string; expectedRuleId?: string } | undefined {
  const times = entry.scenarioTimes ?? [];
  const of = (t: ScenarioTime | undefined) =>
    t
      ? { atMs: ms(t.at) as number, label: t.label, ...(t.expectedRuleId ? { expectedRuleId: t.expectedRuleId } : {}) }
      : undefined;
  switch (name) {
    case 'work-up':
      return of(firstWith(times, (id) => /^S\d/.test(id)));
    case 'titration':
      return of(firstWith(times, (id) => id === 'T8' || id === 'T1'));
    case 'target': {
      const hold = firstWith(times, (id) => id === 'T6');
      if (hold) return of(hold);
      const taper = firstWith(times, (id) => id === 'T4');
      if (!taper) return undefined;
      // The taper moment is when the run of pain scores at target became sustained: halfway through it,
      // the pain is at target and the protocol holds (T6).
      return {
        atMs: (ms(taper.at) as number) - (sustainedHours * HOUR_MS) / 2,
        label: 'Pain at target, not yet sustained: hold',
        expectedRuleId: 'T6',
      };
    }
    case 'taper':
      return of(firstWith(times, (id) => id === 'T4') ?? firstWith(times, (id) => id === 'T5'));
    case 'done':
      return of(firstWith(times, (id) => id === 'X1'));
  }
}

/** Which time of `entry` a moment designates (falling back to its first scenario time when it has none). */
export function resolveMoment(entry: ExampleEntry, moment: Moment, sustainedHours: number): ResolvedMoment {
  if (moment.kind === 'instant') return { atMs: moment.ms, label: moment.text };
  const first = (entry.scenarioTimes ?? []).find((t) => ms(t.at) !== null);
  const firstMoment = first
    ? {
        atMs: ms(first.at) as number,
        label: first.label,
        ...(first.expectedRuleId ? { expectedRuleId: first.expectedRuleId } : {}),
      }
    : ms(entry.admission) !== null
      ? { atMs: ms(entry.admission) as number, label: 'Admission' }
      : undefined;
  if (!firstMoment) throw new MomentError(`${entry.file}: no scenarioTimes or admission time to place "now" at`);
  let base: { atMs: number; label: string; expectedRuleId?: string } | undefined;
  if (moment.anchor === 'first') base = firstMoment;
  else if (moment.anchor === 'admission')
    base = ms(entry.admission) !== null ? { atMs: ms(entry.admission) as number, label: 'Admission' } : undefined;
  else if (moment.anchor === 'infusion')
    base =
      ms(entry.infusionStart) !== null
        ? { atMs: ms(entry.infusionStart) as number, label: 'Infusion start' }
        : undefined;
  else base = namedMoment(entry, moment.anchor, sustainedHours);
  if (!base) return { ...firstMoment, fallback: `no "${moment.anchor}" moment: at its first scenario time` };
  if (moment.offsetMs === 0) return base;
  // an offset makes the expected rule unknown
  return { atMs: base.atMs + moment.offsetMs, label: `${base.label} ${moment.text.replace(/^[a-z-]*/, '')}` };
}

// ----- shifting -----------------------------------------------------------------------------------

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const YEAR_MONTH = /^\d{4}-\d{2}$/;
const YEAR = /^\d{4}$/;
/** Keys whose strings are never times (identifiers, references, codes, narrative). */
const NOT_TIMES = new Set([
  'id',
  'fullUrl',
  'url',
  'reference',
  'system',
  'code',
  'div',
  'version',
  'meta',
  'identifier',
]);
/** Keys whose 4- or 7-character strings are partial dates (a year, a year-month). */
const PARTIAL_DATE_KEY = /(date|Date|DateTime|start|end|birthDate|Instant)$/;

const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

function shiftDateTime(text: string, m: RegExpExecArray, offsetMs: number): string {
  const zone = m[8] ?? 'Z';
  const zoneMinutes =
    zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const shifted = new Date(Date.parse(text) + offsetMs + zoneMinutes * MINUTE_MS); // wall time in that zone, as UTC fields
  const seconds = m[6] !== undefined ? `:${pad(shifted.getUTCSeconds())}` : '';
  const fraction =
    m[7] !== undefined
      ? `.${pad(shifted.getUTCMilliseconds(), 3)
          .padEnd(m[7].length - 1, '0')
          .slice(0, m[7].length - 1)}`
      : '';
  return (
    `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}` +
    `T${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}${seconds}${fraction}${zone}`
  );
}

function shiftDate(text: string, days: number): string {
  const d = new Date(`${text}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function shiftYearMonth(text: string, months: number): string {
  const d = new Date(`${text}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 7);
}

/** One string moved by the offset when it is a FHIR instant/dateTime/date (partial dates by key). */
export function shiftTime(text: string, offsetMs: number, key = ''): string {
  const m = DATE_TIME.exec(text);
  if (m) return Number.isNaN(Date.parse(text)) ? text : shiftDateTime(text, m, offsetMs);
  if (DATE.test(text) && !Number.isNaN(Date.parse(text))) return shiftDate(text, Math.round(offsetMs / DAY_MS));
  if (PARTIAL_DATE_KEY.test(key)) {
    const months = Math.round(offsetMs / (DAY_MS * 30.436875));
    if (YEAR_MONTH.test(text)) return shiftYearMonth(text, months);
    if (YEAR.test(text)) return String(Number(text) + Math.round(months / 12)).padStart(4, '0');
  }
  return text;
}

/** A deep copy of `value` with every time in it moved by `offsetMs` (see shiftTime). */
export function shiftTimes<T>(value: T, offsetMs: number, key = ''): T {
  if (typeof value === 'string') return shiftTime(value, offsetMs, key) as T;
  if (Array.isArray(value)) return value.map((v) => shiftTimes(v, offsetMs, key)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[k] = NOT_TIMES.has(k) ? v : shiftTimes(v, offsetMs, k);
    return out as T;
  }
  return value;
}

/** The manifest entry's own times moved with its bundle (what the demo page offers as chips). */
function shiftEntry(entry: ExampleEntry, offsetMs: number): ExampleEntry {
  const move = (iso: unknown) =>
    typeof iso === 'string' && ms(iso) !== null
      ? new Date((ms(iso) as number) + offsetMs).toISOString().replace('.000Z', 'Z')
      : iso;
  const shifted: ExampleEntry = { ...entry };
  if (entry.admission !== undefined) shifted.admission = move(entry.admission);
  if (typeof entry.infusionStart === 'string') shifted.infusionStart = move(entry.infusionStart) as string;
  if (entry.scenarioTimes) shifted.scenarioTimes = entry.scenarioTimes.map((t) => ({ ...t, at: move(t.at) as string }));
  return shifted;
}

export interface PlacedExample {
  entry: ExampleEntry;
  bundle: Bundle;
  /** How far the timeline moved, ms (whole minutes). */
  offsetMs: number;
  /** The moment "now" falls at. */
  moment: ResolvedMoment;
}

/**
 * The example moved so that `nowMs` (taken to the minute: loading twice in the same minute gives the same
 * records) falls at `moment` of its admission.
 */
export function placeExample(
  entry: ExampleEntry,
  bundle: Bundle,
  moment: Moment,
  nowMs: number,
  sustainedHours: number,
): PlacedExample {
  const resolved = resolveMoment(entry, moment, sustainedHours);
  const offsetMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS - Math.floor(resolved.atMs / MINUTE_MS) * MINUTE_MS;
  return { entry: shiftEntry(entry, offsetMs), bundle: shiftTimes(bundle, offsetMs), offsetMs, moment: resolved };
}
