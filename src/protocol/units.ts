/**
 * Unit-of-time constants and rounding, shared by the decision core and the cards. These are
 * definitions of units, not protocol numbers: protocol numbers live in cds-hooks/protocol-parameters.json.
 */
export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;

/** Round to the nearest multiple of `step` (e.g. 0.01), without binary noise (0.30000000000000004 → 0.3). */
export function roundTo(value: number, step: number): number {
  const decimals = decimalsOf(step);
  const rounded = Math.round(value / step) * step;
  return Number(rounded.toFixed(decimals));
}

/** Number of decimals a step has (0.01 → 2, 0.1 → 1, 1 → 0). */
function decimalsOf(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Parse an ISO 8601 time to epoch ms; NaN-safe (returns null for unreadable input). */
export function toMs(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

export const hoursBetween = (fromMs: number, toMs_: number): number => (toMs_ - fromMs) / MS_PER_HOUR;
export const isoAt = (ms: number): string => new Date(ms).toISOString();

/** Mass and volume units (definitions, not protocol numbers): a charted weight to kg, a bag strength to mg/mL. */
export const GRAMS_PER_KG = 1000;
export const MG_PER_GRAM = 1000;
export const ML_PER_LITRE = 1000;
/** The international avoirdupois pound (UCUM [lb_av]), exactly, in kg. */
export const KG_PER_POUND_AV = 0.45359237;
