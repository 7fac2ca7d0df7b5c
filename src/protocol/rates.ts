/**
 * Rate arithmetic (docs/clinical-specification.md §2, §6): a charted ketamine rate (mg/kg/h, mg/h or mL/h, as a quantity
 * or a ratio) to mg/kg/h, and back from mg/kg/h to mg/h and mL/h for the arithmetic shown on cards.
 * Units are read from explicit tables (rates, weights and bag strengths: the only unit conversion of the
 * service): an unknown unit is an error the card states, never a guess.
 */
import type { ProtocolParameters } from '../config/parameters';
import type { ChartedRate, MedicationFact, OrderFact } from './facts';
import type { ConcentrationOrigin, RateArithmetic, RateReading } from './recommendation';
import { GRAMS_PER_KG, KG_PER_POUND_AV, MG_PER_GRAM, ML_PER_LITRE, MS_PER_HOUR, MS_PER_MINUTE, roundTo } from './units';

/** What a rate unit measures: an amount (mg or mL), optionally per kg, per hour or per minute. */
export interface RateUnit {
  amount: 'mg' | 'mL';
  perKg: boolean;
  per: 'h' | 'min';
}

type RateBasis = 'mg/kg/h' | 'mg/h' | 'mL/h';

export type RateConversion =
  | {
      ok: true;
      /** Unrounded mg/kg/h. */
      mgPerKgPerHour: number;
      basis: RateBasis;
      /** The charted amount per hour in the basis unit (mg/kg/h, mg/h or mL/h). */
      amountPerHour: number;
      /** The concentration used for an mL/h rate (null otherwise). */
      concentrationMgPerMl: number | null;
      concentrationSource: 'charted' | 'default' | null;
      /** The weight used for an mg/h or mL/h rate (null otherwise). */
      weightKg: number | null;
      charted: string;
    }
  | { ok: false; error: 'unknown-unit'; unit: string; charted: string }
  | { ok: false; error: 'no-weight'; charted: string }
  | { ok: false; error: 'invalid-value'; charted: string }
  /** An mL/h rate whose bag strength is charted but cannot be used (§1: the default never stands in for it). */
  | { ok: false; error: 'unreadable-strength'; charted: string; strength: string }
  /** Above maxPlausibleRate (v1.1): a charting error, unreadable. */
  | { ok: false; error: 'implausible'; charted: string; mgPerKgPerHour: number };

const MINUTES_PER_HOUR = MS_PER_HOUR / MS_PER_MINUTE;

/** Amount units (a ratio's numerator, or the start of a compound unit). Keys are lower-case, spaces removed. */
const AMOUNT_UNITS: Readonly<Record<string, { amount: 'mg' | 'mL'; perKg: boolean }>> = {
  mg: { amount: 'mg', perKg: false },
  ml: { amount: 'mL', perKg: false },
  'mg/kg': { amount: 'mg', perKg: true },
};

/** Time units (a ratio's denominator, or the end of a compound unit), optionally "per kg" as well. */
const TIME_UNITS: Readonly<Record<string, { perKg: boolean; per: 'h' | 'min' }>> = {
  h: { perKg: false, per: 'h' },
  hr: { perKg: false, per: 'h' },
  hour: { perKg: false, per: 'h' },
  min: { perKg: false, per: 'min' },
  'kg.h': { perKg: true, per: 'h' },
  'h.kg': { perKg: true, per: 'h' },
  'kg.hr': { perKg: true, per: 'h' },
  // Not "kg/h": mg over kg/h is mg·h/kg, not a rate per kg; reading it as mg/kg/h would be a guess.
  'kg.min': { perKg: true, per: 'min' },
};

/** Whole rate units as charted (UCUM codes and the unit texts EHRs send), lower-case, spaces removed. */
const RATE_UNITS: Readonly<Record<string, RateUnit>> = {
  'mg/kg/h': { amount: 'mg', perKg: true, per: 'h' },
  'mg/kg/hr': { amount: 'mg', perKg: true, per: 'h' },
  'mg/kg/hour': { amount: 'mg', perKg: true, per: 'h' },
  'mg/(kg.h)': { amount: 'mg', perKg: true, per: 'h' },
  'mg/(kg.hr)': { amount: 'mg', perKg: true, per: 'h' },
  'mg/kg.h': { amount: 'mg', perKg: true, per: 'h' },
  'mg.kg-1.h-1': { amount: 'mg', perKg: true, per: 'h' },
  'mg/kg/min': { amount: 'mg', perKg: true, per: 'min' },
  'mg/(kg.min)': { amount: 'mg', perKg: true, per: 'min' },
  'mg/h': { amount: 'mg', perKg: false, per: 'h' },
  'mg/hr': { amount: 'mg', perKg: false, per: 'h' },
  'mg/hour': { amount: 'mg', perKg: false, per: 'h' },
  'mg.h-1': { amount: 'mg', perKg: false, per: 'h' },
  'mg/min': { amount: 'mg', perKg: false, per: 'min' },
  'ml/h': { amount: 'mL', perKg: false, per: 'h' },
  'ml/hr': { amount: 'mL', perKg: false, per: 'h' },
  'ml/hour': { amount: 'mL', perKg: false, per: 'h' },
  'ml.h-1': { amount: 'mL', perKg: false, per: 'h' },
  'ml/min': { amount: 'mL', perKg: false, per: 'min' },
};

const normaliseUnit = (unit: string): string => unit.replace(/\s+/g, '').toLowerCase();

/** Read a whole rate unit (e.g. `mg/kg/h`, `mg/(kg.h)`, `mL/hr`); null when it is not in the table. */
export function parseRateUnit(unit: string | null): RateUnit | null {
  if (unit === null) return null;
  return RATE_UNITS[normaliseUnit(unit)] ?? null;
}

/** Read a ratio's units (numerator amount, denominator time); null when either is not in the tables. */
export function parseRatioUnits(numeratorUnit: string | null, denominatorUnit: string | null): RateUnit | null {
  if (numeratorUnit === null) return null;
  const num = normaliseUnit(numeratorUnit);
  // A denominator without a unit (or "1"): the numerator carries the whole rate unit.
  if (denominatorUnit === null || normaliseUnit(denominatorUnit) === '' || normaliseUnit(denominatorUnit) === '1') {
    return RATE_UNITS[num] ?? null;
  }
  const amount = AMOUNT_UNITS[num];
  const time = TIME_UNITS[normaliseUnit(denominatorUnit)];
  if (!amount || !time) return null;
  if (amount.perKg && time.perKg) return null; // mg/kg per kg.h is not a rate
  if (amount.amount === 'mL' && (amount.perKg || time.perKg)) return null;
  return { amount: amount.amount, perKg: amount.perKg || time.perKg, per: time.per };
}

const fmt = (value: number): string => String(value);

/** The rate as charted, for cards: "21 mg/h", "42 mg / 2 h". */
export function describeChartedRate(rate: ChartedRate): string {
  if (rate.kind === 'quantity')
    return rate.unit === null ? `${fmt(rate.value)} (no unit)` : `${fmt(rate.value)} ${rate.unit}`;
  const num =
    rate.numeratorUnit === null ? fmt(rate.numeratorValue) : `${fmt(rate.numeratorValue)} ${rate.numeratorUnit}`;
  const den =
    rate.denominatorUnit === null
      ? fmt(rate.denominatorValue)
      : `${fmt(rate.denominatorValue)} ${rate.denominatorUnit}`;
  return `${num} / ${den}`;
}

function unitText(rate: ChartedRate): string {
  if (rate.kind === 'quantity') return rate.unit ?? '(no unit)';
  return `${rate.numeratorUnit ?? '(no unit)'} / ${rate.denominatorUnit ?? '(no unit)'}`;
}

/** A usable weight in kg (positive, finite). */
const usableWeight = (weightKg: number | null): weightKg is number =>
  weightKg !== null && Number.isFinite(weightKg) && weightKg > 0;

/**
 * What reading a rate needs besides the rate: the weight, and the bag strength found by concentrationOf
 * (`strengthUnreadable`: one is charted and cannot be used).
 */
export interface RateContext {
  weightKg: number | null;
  concentrationMgPerMl: number | null;
  strengthUnreadable?: string | null;
}

/**
 * Convert a charted rate to mg/kg/h. `weightKg` is the dosing weight (needed for mg/h and mL/h);
 * `concentrationMgPerMl` the charted strength (needed for mL/h; defaultConcentration only when none is
 * charted: a charted strength that cannot be used makes an mL/h rate unreadable, §1).
 */
export function convertRate(rate: ChartedRate, context: RateContext, params: ProtocolParameters): RateConversion {
  const conversion = readRate(rate, context, params);
  // A rate above maxPlausibleRate is a charting error (v1.1): unreadable, never a number to act on.
  if (conversion.ok && !(conversion.mgPerKgPerHour <= params.maxPlausibleRate))
    return {
      ok: false,
      error: 'implausible',
      charted: conversion.charted,
      mgPerKgPerHour: conversion.mgPerKgPerHour,
    };
  return conversion;
}

function readRate(rate: ChartedRate, context: RateContext, params: ProtocolParameters): RateConversion {
  const charted = describeChartedRate(rate);
  const unit =
    rate.kind === 'quantity' ? parseRateUnit(rate.unit) : parseRatioUnits(rate.numeratorUnit, rate.denominatorUnit);
  if (!unit) return { ok: false, error: 'unknown-unit', unit: unitText(rate), charted };

  let perTime: number;
  if (rate.kind === 'quantity') {
    perTime = rate.value;
  } else {
    if (!(rate.denominatorValue > 0)) return { ok: false, error: 'invalid-value', charted };
    perTime = rate.numeratorValue / rate.denominatorValue;
  }
  if (!Number.isFinite(perTime) || perTime < 0) return { ok: false, error: 'invalid-value', charted };
  const perHour = unit.per === 'min' ? perTime * MINUTES_PER_HOUR : perTime;

  if (unit.amount === 'mg' && unit.perKg) {
    return {
      ok: true,
      mgPerKgPerHour: perHour,
      amountPerHour: perHour,
      basis: 'mg/kg/h',
      concentrationMgPerMl: null,
      concentrationSource: null,
      weightKg: null,
      charted,
    };
  }
  // A charted rate of 0 is "not running" whatever its unit: no weight is needed to read it.
  if (perHour === 0) {
    const basis: RateBasis = unit.amount === 'mg' ? 'mg/h' : 'mL/h';
    return {
      ok: true,
      mgPerKgPerHour: 0,
      amountPerHour: 0,
      basis,
      concentrationMgPerMl: null,
      concentrationSource: null,
      weightKg: null,
      charted,
    };
  }
  // A charted strength that cannot be used: the mL/h rate cannot be read (never the default concentration).
  if (unit.amount === 'mL') {
    const strength = unusableStrength(context);
    if (strength !== null) return { ok: false, error: 'unreadable-strength', charted, strength };
  }
  if (!usableWeight(context.weightKg)) return { ok: false, error: 'no-weight', charted };
  if (unit.amount === 'mg') {
    return {
      ok: true,
      mgPerKgPerHour: perHour / context.weightKg,
      amountPerHour: perHour,
      basis: 'mg/h',
      concentrationMgPerMl: null,
      concentrationSource: null,
      weightKg: context.weightKg,
      charted,
    };
  }
  const concentration = pickConcentration(context.concentrationMgPerMl, params);
  return {
    ok: true,
    mgPerKgPerHour: (perHour * concentration.value) / context.weightKg,
    amountPerHour: perHour,
    basis: 'mL/h',
    concentrationMgPerMl: concentration.value,
    concentrationSource: concentration.source,
    weightKg: context.weightKg,
    charted,
  };
}

/** Why a charted or drafted rate could not be read, for a card ("unknown rate unit …"). */
export function unreadableRateText(
  conversion: Extract<RateConversion, { ok: false }>,
  params: ProtocolParameters,
): string {
  switch (conversion.error) {
    case 'unknown-unit':
      return `unknown rate unit "${conversion.unit}" (${conversion.charted})`;
    case 'no-weight':
      return `${conversion.charted} needs a dosing weight`;
    case 'implausible':
      return `${conversion.charted} is above ${params.maxPlausibleRate} mg/kg/h, the highest plausible rate: taken as a charting error`;
    case 'unreadable-strength':
      return `${conversion.charted} needs the bag strength, and the one charted (${conversion.strength}) cannot be read; the default concentration stands in only when none is charted`;
    default:
      return `${conversion.charted} is not a valid rate`;
  }
}

/** A strength that can be used: finite and above 0. */
const usableStrength = (value: number | null | undefined): value is number =>
  value !== null && value !== undefined && Number.isFinite(value) && value > 0;

/** The charted strength of a rate context that cannot be used, as charted; null when there is none. */
function unusableStrength(context: RateContext): string | null {
  if (context.strengthUnreadable) return context.strengthUnreadable;
  const value = context.concentrationMgPerMl;
  return value !== null && !usableStrength(value) ? `${value} mg/mL` : null;
}

/**
 * The charted concentration found for an administration or order, and where it came from (null: none
 * charted). `unreadable`: the strength found there is charted and cannot be used (as charted); `value` is
 * then null, and an mL/h rate cannot be read.
 */
export interface ConcentrationLookup {
  value: number | null;
  from: Exclude<ConcentrationOrigin, 'default'> | null;
  unreadable?: string;
}

/** A Medication's (or draft's) strength as a lookup result from `from`; null when it charts none. */
export function strengthOf(
  medication: Pick<MedicationFact, 'concentrationMgPerMl' | 'strengthUnreadable'>,
  from: Exclude<ConcentrationOrigin, 'default'>,
): ConcentrationLookup | null {
  const value = medication.concentrationMgPerMl;
  if (usableStrength(value) && !medication.strengthUnreadable) return { value, from };
  if (medication.strengthUnreadable) return { value: null, from, unreadable: medication.strengthUnreadable };
  if (value !== null) return { value: null, from, unreadable: `${value} mg/mL` };
  return null;
}

/**
 * The one concentration lookup, for reading charted mL/h rates and for computing pump rates alike:
 * the administration's (or draft's) own Medication strength, then the order it references
 * (`requestId` → `orders`), then the active ketamine order. The first strength charted decides: when it
 * cannot be used the lookup says so (`unreadable`) and looks no further. Null when none is charted: the
 * caller then uses defaultConcentration (pickConcentration), and says so.
 */
export function concentrationOf(
  item: { medication: MedicationFact; requestId?: string | null } | null,
  orders: readonly OrderFact[],
  activeOrder: OrderFact | null,
): ConcentrationLookup {
  const own = item ? strengthOf(item.medication, 'medication') : null;
  if (own) return own;
  const requestId = item?.requestId ?? null;
  const referenced = requestId === null ? undefined : orders.find((o) => o.id === requestId);
  const ordered = referenced ? strengthOf(referenced.medication, 'order') : null;
  if (ordered) return ordered;
  const active = activeOrder ? strengthOf(activeOrder.medication, 'active-order') : null;
  return active ?? { value: null, from: null };
}

/** The rate context of a lookup: its strength, or the charted strength that cannot be used. */
export const rateContext = (weightKg: number | null, concentration: ConcentrationLookup): RateContext => ({
  weightKg,
  concentrationMgPerMl: concentration.value,
  strengthUnreadable: concentration.unreadable ?? null,
});

/** A successful conversion as a RateReading for cards (the concentration origin from the lookup). */
export function toRateReading(
  conversion: Extract<RateConversion, { ok: true }>,
  from: ConcentrationLookup['from'],
  params: ProtocolParameters,
): RateReading {
  const usesConcentration = conversion.concentrationMgPerMl !== null;
  return {
    charted: conversion.charted,
    basis: conversion.basis,
    amountPerHour: conversion.amountPerHour,
    concentrationMgPerMl: conversion.concentrationMgPerMl,
    concentrationFrom: usesConcentration
      ? conversion.concentrationSource === 'default'
        ? 'default'
        : (from ?? 'default')
      : null,
    weightKg: conversion.weightKg,
    rate: roundRate(conversion.mgPerKgPerHour, params),
  };
}

/** The charted strength when there is a usable one, else the defaultConcentration parameter. */
function pickConcentration(
  charted: number | null,
  params: ProtocolParameters,
): { value: number; source: 'charted' | 'default' } {
  if (usableStrength(charted)) return { value: charted, source: 'charted' };
  return { value: params.defaultConcentration, source: 'default' };
}

/** Weight units: kg, g, [lb_av] (UCUM codes and their usual texts). */
const WEIGHT_UNITS: Readonly<Record<string, number>> = {
  kg: 1,
  g: 1 / GRAMS_PER_KG,
  '[lb_av]': KG_PER_POUND_AV,
  lb: KG_PER_POUND_AV,
  lbs: KG_PER_POUND_AV,
};

export type WeightConversion =
  | { ok: true; kg: number }
  | { ok: false; error: 'unknown-unit'; unit: string }
  | { ok: false; error: 'invalid-value' | 'no-value' };

/** Convert a charted weight to kg; an absent value, an absent or unknown unit is reported, never assumed. */
export function weightToKg(value: number | null, unit: string | null): WeightConversion {
  if (value === null) return { ok: false, error: 'no-value' };
  if (unit === null) return { ok: false, error: 'unknown-unit', unit: '(no unit)' };
  const factor = WEIGHT_UNITS[unit.trim().toLowerCase()];
  if (factor === undefined) return { ok: false, error: 'unknown-unit', unit };
  if (!Number.isFinite(value) || value <= 0) return { ok: false, error: 'invalid-value' };
  return { ok: true, kg: value * factor };
}

/** Units of a bag strength's numerator in mg, and of its denominator in mL (UCUM codes and usual texts, lower-case). */
const STRENGTH_MASS_UNITS: Readonly<Record<string, number>> = {
  mg: 1,
  g: MG_PER_GRAM,
  ug: 1 / MG_PER_GRAM,
  mcg: 1 / MG_PER_GRAM,
};
const STRENGTH_VOLUME_UNITS: Readonly<Record<string, number>> = { ml: 1, l: ML_PER_LITRE };

/**
 * A charted strength (a ratio: mass / volume) in mg/mL; null when it is not a mass per volume of the tables,
 * or not a positive finite number (the caller then reports it as charted and unreadable, §1).
 */
export function strengthToMgPerMl(
  numeratorValue: number,
  numeratorUnit: string,
  denominatorValue: number,
  denominatorUnit: string,
): number | null {
  const mg = STRENGTH_MASS_UNITS[normaliseUnit(numeratorUnit)];
  const ml = STRENGTH_VOLUME_UNITS[normaliseUnit(denominatorUnit)];
  if (mg === undefined || ml === undefined || denominatorValue === 0) return null;
  const value = (numeratorValue * mg) / (denominatorValue * ml);
  return usableStrength(value) ? value : null;
}

/** Rates are rounded to rateRounding (0.01 mg/kg/h). */
export const roundRate = (rate: number, params: ProtocolParameters): number => roundTo(rate, params.rateRounding);

/** Two rates closer than rateTolerance are the same rate. */
export const sameRate = (a: number, b: number, params: ProtocolParameters): boolean =>
  Math.abs(a - b) <= params.rateTolerance;

/** `a` is above `b` by more than rateTolerance. */
export const rateAbove = (a: number, b: number, params: ProtocolParameters): boolean => a - b > params.rateTolerance;

/** mg/kg/h → mg/h at a weight, rounded to doseRounding. */
const mgPerHourAt = (rate: number, weightKg: number, params: ProtocolParameters): number =>
  roundTo(rate * weightKg, params.doseRounding);

/** mg/kg/h → mL/h at a weight and concentration, rounded to volumeRounding. */
const mlPerHourAt = (
  rate: number,
  weightKg: number,
  concentrationMgPerMl: number,
  params: ProtocolParameters,
): number => roundTo((rate * weightKg) / concentrationMgPerMl, params.volumeRounding);

/**
 * The arithmetic shown on a card: from → to in mg/kg/h, and the target rate in mg/h and mL/h when a
 * dosing weight is known (concentration charted, else the defaultConcentration parameter).
 */
export function rateArithmetic(
  input: {
    fromRate: number;
    toRate: number;
    step: number | null;
    weightKg: number | null;
    concentrationMgPerMl: number | null;
    /** Where a charted concentration came from (from the lookup); 'default' is set when none was. */
    concentrationFrom?: ConcentrationLookup['from'];
    becameStop?: boolean;
  },
  params: ProtocolParameters,
): RateArithmetic {
  const weightKg = usableWeight(input.weightKg) ? input.weightKg : null;
  const concentration = pickConcentration(input.concentrationMgPerMl, params);
  const result: RateArithmetic = {
    fromRate: roundRate(input.fromRate, params),
    toRate: roundRate(input.toRate, params),
    step: input.step === null ? null : roundRate(input.step, params),
    weightKg,
    mgPerHour: weightKg === null ? null : mgPerHourAt(roundRate(input.toRate, params), weightKg, params),
    concentrationMgPerMl: weightKg === null ? null : concentration.value,
    concentrationSource: weightKg === null ? null : concentration.source,
    mlPerHour:
      weightKg === null ? null : mlPerHourAt(roundRate(input.toRate, params), weightKg, concentration.value, params),
  };
  if (weightKg !== null && input.concentrationFrom !== undefined)
    result.concentrationFrom = concentration.source === 'default' ? 'default' : (input.concentrationFrom ?? 'default');
  if (input.becameStop !== undefined) result.becameStop = input.becameStop;
  return result;
}
