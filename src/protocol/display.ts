/**
 * How times and units read for a clinician, shared by the decision core (the text of its notes and
 * displays) and the cards (src/cards/format.ts), so a note says "2026-02-09 10:00 UTC" and "118 mmHg"
 * exactly as the rest of the card does, never "2026-02-09T10:00:00+00:00" or "mm[Hg]".
 * Plain text: the cards escape it for Markdown.
 */
import { isoAt, toMs } from './units';

/**
 * The institution's time zone for every time a clinician reads (CDS_TIME_ZONE, UTC by default). Set for
 * the synchronous span of one call by `inTimeZone` (decide and the cards run synchronously, so calls
 * cannot interleave), never read from the environment here: the core stays a function of its inputs.
 */
let displayZone = 'UTC';
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Runs `fn` with times shown in `zone` (an IANA name, checked at startup), then restores the previous zone. */
export function inTimeZone<T>(zone: string, fn: () => T): T {
  const previous = displayZone;
  displayZone = zone;
  try {
    return fn();
  } finally {
    displayZone = previous;
  }
}

/** "2026-11-24 15:00 UTC", "2026-11-24 10:00 EST"; an unreadable time as charted, a missing one as "time not charted". */
export function displayTime(iso: string | null | undefined): string {
  if (!iso) return 'time not charted';
  const ms = toMs(iso);
  if (ms === null) return iso;
  if (displayZone === 'UTC') {
    const [, date, time] = /^(\d+-\d+-\d+)T(\d+:\d+)/.exec(isoAt(ms)) ?? [];
    return date && time ? `${date} ${time} UTC` : isoAt(ms);
  }
  const parts = Object.fromEntries(
    formatterFor(displayZone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName ?? displayZone}`;
}

/** UCUM codes as clinicians write them (annotations such as {beats} are dropped). */
const UNIT_DISPLAY: Readonly<Record<string, string>> = {
  'mm[Hg]': 'mmHg',
  '[iu]/L': 'IU/L',
  'm[iu]/mL': 'mIU/mL',
};

/** "mm[Hg]" → "mmHg", "{beats}/min" → "/min", "{score}" → ""; any other unit as given (trimmed). */
export function displayUnit(code: string): string {
  const trimmed = code.trim();
  return UNIT_DISPLAY[trimmed] ?? trimmed.replace(/\{[^}]*\}/g, '').trim();
}

/**
 * A value with its unit as written on a chart: "118 mmHg", "70 kg"; a per-time unit and a percentage
 * attach to the number ("82/min", "97%"). No unit: the value alone.
 */
export function displayQuantity(value: number | string, unit: string | null | undefined): string {
  const shown = unit ? displayUnit(unit) : '';
  if (shown.length === 0) return String(value);
  return /^[/%]/.test(shown) ? `${value}${shown}` : `${value} ${shown}`;
}
