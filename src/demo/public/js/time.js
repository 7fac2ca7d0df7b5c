// Times on the page are shown and picked in one IANA time zone: the service's CDS_TIME_ZONE (UTC by default),
// the zone the cards speak in. `setTimeZone` is called once at start with the zone from demo/api/config.
const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;

function formatters(timeZone) {
  const f = (options) => new Intl.DateTimeFormat('en-GB', { timeZone, ...options });
  return {
    long: f({ weekday: 'short', day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }),
    short: f({ day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit' }),
    day: f({ day: '2-digit', month: 'short' }),
    hour: f({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    abbreviation: new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }),
    parts: new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }),
  };
}

let zone = 'UTC';
let F = formatters(zone);

/** Use `name` (an IANA zone the service checked at start) for every time on the page; an unknown name keeps UTC. */
export function setTimeZone(name) {
  try {
    F = formatters(name || 'UTC');
    zone = name || 'UTC';
  } catch {
    F = formatters('UTC');
    zone = 'UTC';
  }
  return zone;
}
export const timeZone = () => zone;

/** The zone's short name at that instant ("EST", "GMT+1"; "UTC" for UTC). */
function zoneAbbreviation(ms) {
  if (zone === 'UTC') return 'UTC';
  return F.abbreviation.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? zone;
}

/** The wall clock in the zone at `ms`: { year, month, day, hour, minute, second }. */
function wallClock(ms) {
  const out = {};
  for (const p of F.parts.formatToParts(ms)) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** The zone's offset from UTC at `ms`, in ms (New York in winter: −5 h). */
export function zoneOffsetMs(ms) {
  const w = wallClock(ms);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant whose wall clock in the zone reads `wallMs` (a wall time written as if it were UTC). */
export function fromWallClock(wallMs) {
  const first = wallMs - zoneOffsetMs(wallMs);
  return wallMs - zoneOffsetMs(first);
}

export const toMs = (iso) => {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};
export const iso = (ms) => new Date(ms).toISOString();
export const fmtLong = (ms) => `${F.long.format(ms)} ${zoneAbbreviation(ms)}`;
export const fmtShort = (ms) => (ms === null || ms === undefined ? '–' : F.short.format(ms));
export const fmtDay = (ms) => F.day.format(ms);
export const fmtHour = (ms) => F.hour.format(ms);

/** `2026-11-24T08:00`, the zone's wall clock, for an <input type="datetime-local">. */
export function toLocalInput(ms) {
  const w = wallClock(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}`;
}
/** An <input type="datetime-local"> value read as the zone's wall clock; null when it is not a time. */
export function fromLocalInput(value) {
  const wall = toMs(`${value}:00Z`);
  return wall === null ? null : fromWallClock(wall);
}

/** "3 h 20 min ago" style distance, for the header. */
export function ago(fromMs, nowMs) {
  const minutes = Math.round((nowMs - fromMs) / MS_PER_MINUTE);
  if (minutes < 0) return 'in the future';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''} ago`;
  return `${Math.round(hours / 24)} d ago`;
}
