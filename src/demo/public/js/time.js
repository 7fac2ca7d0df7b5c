// Times on the page are shown and picked in UTC, like the example scenarios are written.
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;

const LONG = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  weekday: 'short',
  day: '2-digit',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const SHORT = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: '2-digit',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const DAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: '2-digit', month: 'short' });
const HOUR = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit' });

export const toMs = (iso) => {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};
export const iso = (ms) => new Date(ms).toISOString();
export const fmtLong = (ms) => `${LONG.format(ms)} UTC`;
export const fmtShort = (ms) => (ms === null || ms === undefined ? '–' : SHORT.format(ms));
export const fmtDay = (ms) => DAY.format(ms);
export const fmtHour = (ms) => HOUR.format(ms);

/** `2026-11-24T08:00` for an <input type="datetime-local"> that we read as UTC. */
export const toLocalInput = (ms) => iso(ms).slice(0, 16);
export const fromLocalInput = (value) => toMs(`${value}:00Z`);

/** "3 h 20 min ago" style distance, for the header. */
export function ago(fromMs, nowMs) {
  const minutes = Math.round((nowMs - fromMs) / MS_PER_MINUTE);
  if (minutes < 0) return 'in the future';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''} ago`;
  return `${Math.round(hours / 24)} d ago`;
}
