import {
  concentrationOf,
  convertRate,
  rateArithmetic,
  weightToKg,
  describeChartedRate,
  strengthToMgPerMl,
} from '../../src/protocol/rates';
import type { ChartedRate, OrderFact } from '../../src/protocol/facts';
import { ketamine, mgkgh, params, qty, ratio } from './builders';

const at70 = { weightKg: 70, concentrationMgPerMl: null };

describe('reading a charted ketamine rate as mg/kg/h', () => {
  it.each<[string, ChartedRate, { weightKg: number | null; concentrationMgPerMl: number | null }, number, string]>([
    ['mg/kg/h is read as is', qty(0.2, 'mg/kg/h'), at70, 0.2, 'mg/kg/h'],
    ['the UCUM form mg/(kg.h) is mg/kg/h', qty(0.3, 'mg/(kg.h)'), at70, 0.3, 'mg/kg/h'],
    ['the unit text mg/kg/hr is mg/kg/h', qty(0.12, 'mg/kg/hr'), at70, 0.12, 'mg/kg/h'],
    ['the unit text "mg/kg/hour" with spaces and capitals is mg/kg/h', qty(0.4, ' MG/KG/HOUR '), at70, 0.4, 'mg/kg/h'],
    ['mg/kg/min is sixty times mg/kg/h', qty(0.005, 'mg/kg/min'), at70, 0.3, 'mg/kg/h'],
    ['21 mg/h at 70 kg is 0.3 mg/kg/h', qty(21, 'mg/h'), at70, 0.3, 'mg/h'],
    [
      'mg/hr text at 80 kg: 16 mg/hr is 0.2 mg/kg/h',
      qty(16, 'mg/hr'),
      { weightKg: 80, concentrationMgPerMl: null },
      0.2,
      'mg/h',
    ],
    ['14 mL/h at the default 1 mg/mL and 70 kg is 0.2 mg/kg/h', qty(14, 'mL/h'), at70, 0.2, 'mL/h'],
    [
      '7 mL/h of a charted 2 mg/mL at 70 kg is 0.2 mg/kg/h',
      qty(7, 'mL/h'),
      { weightKg: 70, concentrationMgPerMl: 2 },
      0.2,
      'mL/h',
    ],
    ['ml/hr text is mL/h', qty(35, 'ml/hr'), at70, 0.5, 'mL/h'],
    ['a ratio 21 mg per 1 h is mg/h', ratio(21, 'mg', 1, 'h'), at70, 0.3, 'mg/h'],
    ['a ratio 42 mg per 2 h (denominator ≠ 1) is 21 mg/h', ratio(42, 'mg', 2, 'h'), at70, 0.3, 'mg/h'],
    ['a ratio 0.2 mg/kg per 1 h is mg/kg/h', ratio(0.2, 'mg/kg', 1, 'h'), at70, 0.2, 'mg/kg/h'],
    ['a ratio 0.6 mg per 3 kg.h is 0.2 mg/kg/h', ratio(0.6, 'mg', 3, 'kg.h'), at70, 0.2, 'mg/kg/h'],
    ['a ratio 28 mL per 2 h is 14 mL/h', ratio(28, 'mL', 2, 'h'), at70, 0.2, 'mL/h'],
    [
      'a ratio whose numerator carries the whole unit (0.3 mg/kg/h per 1) is mg/kg/h',
      ratio(0.3, 'mg/kg/h', 1, null),
      at70,
      0.3,
      'mg/kg/h',
    ],
  ])('%s', (_story, rate, ctx, expected, basis) => {
    const r = convertRate(rate, ctx, params);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.mgPerKgPerHour).toBeCloseTo(expected, 10);
    expect(r.basis).toBe(basis);
  });

  it('mL/h says which concentration it used: the default when none is charted, the charted one otherwise', () => {
    const byDefault = convertRate(qty(14, 'mL/h'), at70, params);
    const charted = convertRate(qty(7, 'mL/h'), { weightKg: 70, concentrationMgPerMl: 2 }, params);
    expect(byDefault).toMatchObject({ ok: true, concentrationMgPerMl: 1, concentrationSource: 'default' });
    expect(charted).toMatchObject({ ok: true, concentrationMgPerMl: 2, concentrationSource: 'charted' });
  });

  it.each<[string, ChartedRate, string]>([
    ['mcg/kg/min', qty(5, 'mcg/kg/min'), 'mcg/kg/min'],
    ['a unit text the table does not know', qty(0.2, 'mg per kilo'), 'mg per kilo'],
    ['no unit at all', qty(0.2, null), '(no unit)'],
    ['a ratio with a gram numerator', ratio(1, 'g', 1, 'h'), 'g / h'],
    ['a ratio per day', ratio(100, 'mg', 1, 'd'), 'mg / d'],
  ])('an unknown unit (%s) is an error naming the unit, never a guess', (_story, rate, unit) => {
    expect(convertRate(rate, at70, params)).toMatchObject({ ok: false, error: 'unknown-unit', unit });
  });

  it('mg/h without a dosing weight is a no-weight error', () => {
    expect(convertRate(qty(21, 'mg/h'), { weightKg: null, concentrationMgPerMl: null }, params)).toMatchObject({
      ok: false,
      error: 'no-weight',
    });
    expect(convertRate(qty(14, 'mL/h'), { weightKg: null, concentrationMgPerMl: null }, params)).toMatchObject({
      ok: false,
      error: 'no-weight',
    });
  });

  it('mg/kg/h needs no weight', () => {
    expect(convertRate(qty(0.2, 'mg/kg/h'), { weightKg: null, concentrationMgPerMl: null }, params)).toMatchObject({
      ok: true,
      mgPerKgPerHour: 0.2,
    });
  });

  it('a negative rate or a zero denominator is not a rate', () => {
    expect(convertRate(qty(-0.1, 'mg/kg/h'), at70, params)).toMatchObject({ ok: false, error: 'invalid-value' });
    expect(convertRate(ratio(21, 'mg', 0, 'h'), at70, params)).toMatchObject({ ok: false, error: 'invalid-value' });
  });

  it('describes a charted rate for the card', () => {
    expect(describeChartedRate(qty(21, 'mg/h'))).toBe('21 mg/h');
    expect(describeChartedRate(ratio(42, 'mg', 2, 'h'))).toBe('42 mg / 2 h');
  });
});

describe('weights', () => {
  it.each<[string, number, string | null, number]>([
    ['kg as is', 70, 'kg', 70],
    ['grams divided by 1000', 70500, 'g', 70.5],
    ['pounds (avoirdupois) times 0.45359237', 154, '[lb_av]', 69.85322498],
  ])('%s', (_s, value, unit, kg) => {
    const w = weightToKg(value, unit);
    expect(w.ok).toBe(true);
    if (w.ok) expect(w.kg).toBeCloseTo(kg, 6);
  });
  it('an unknown or absent weight unit is reported', () => {
    expect(weightToKg(70, 'stone')).toEqual({ ok: false, error: 'unknown-unit', unit: 'stone' });
    expect(weightToKg(70, null)).toMatchObject({ ok: false, error: 'unknown-unit' });
  });
});

describe('the arithmetic shown on a card', () => {
  it('0.2 → 0.3 mg/kg/h at 70 kg is 21 mg/h = 21 mL/h at the default 1 mg/mL', () => {
    expect(
      rateArithmetic({ fromRate: 0.2, toRate: 0.3, step: 0.1, weightKg: 70, concentrationMgPerMl: null }, params),
    ).toEqual({
      fromRate: 0.2,
      toRate: 0.3,
      step: 0.1,
      weightKg: 70,
      mgPerHour: 21,
      concentrationMgPerMl: 1,
      concentrationSource: 'default',
      mlPerHour: 21,
    });
  });
  it('rounds mg/h to 0.1 mg and mL/h to 0.1 mL: 0.22 mg/kg/h at 73.4 kg and 2 mg/mL is 16.1 mg/h = 8.1 mL/h', () => {
    const a = rateArithmetic(
      { fromRate: 0.42, toRate: 0.22, step: -0.2, weightKg: 73.4, concentrationMgPerMl: 2 },
      params,
    );
    expect(a).toMatchObject({ mgPerHour: 16.1, mlPerHour: 8.1, concentrationSource: 'charted', step: -0.2 });
  });
  it('without a weight there is no pump arithmetic', () => {
    expect(
      rateArithmetic({ fromRate: 0, toRate: 0.1, step: null, weightKg: null, concentrationMgPerMl: null }, params),
    ).toMatchObject({
      mgPerHour: null,
      mlPerHour: null,
      concentrationSource: null,
    });
  });
});

describe('a zero rate', () => {
  it('0 mL/h or 0 mg/h is 0 mg/kg/h (not running) even without a weight', () => {
    expect(convertRate(qty(0, 'mL/h'), { weightKg: null, concentrationMgPerMl: null }, params)).toMatchObject({
      ok: true,
      mgPerKgPerHour: 0,
    });
    expect(convertRate(qty(0, 'mg/h'), { weightKg: null, concentrationMgPerMl: null }, params)).toMatchObject({
      ok: true,
      mgPerKgPerHour: 0,
    });
  });
});

describe('units that only look like a rate per kg', () => {
  it('a ratio of mg over "kg/h" is mg·h/kg, not mg/kg/h: an unknown unit naming what was charted, never a guess', () => {
    expect(convertRate(ratio(14, 'mg', 1, 'kg/h'), at70, params)).toMatchObject({
      ok: false,
      error: 'unknown-unit',
      unit: 'mg / kg/h',
    });
  });
});

describe('a bag strength in mg/mL (the same unit tables as rates and weights)', () => {
  it.each<[string, [number, string, number, string], number | null]>([
    ['500 mg / 50 mL is 10 mg/mL', [500, 'mg', 50, 'mL'], 10],
    ['1 g / 100 mL is 10 mg/mL', [1, 'g', 100, 'mL'], 10],
    ['500 mg / 0.5 L is 1 mg/mL', [500, 'mg', 0.5, 'L'], 1],
    ['500 mcg / 1 mL is 0.5 mg/mL', [500, 'mcg', 1, 'mL'], 0.5],
    ['a numerator that is not a mass is no strength', [5, 'mmol', 1, 'mL'], null],
    ['a denominator that is not a volume is no strength', [5, 'mg', 1, 'kg'], null],
    ['a zero volume is no strength', [5, 'mg', 0, 'mL'], null],
    ['a negative amount is no strength', [-100, 'mg', 100, 'mL'], null],
    ['1e308 mg / 1e-308 mL (not finite) is no strength', [1e308, 'mg', 1e-308, 'mL'], null],
  ])('%s', (_s, [nValue, nUnit, dValue, dUnit], expected) => {
    const mgPerMl = strengthToMgPerMl(nValue, nUnit, dValue, dUnit);
    if (expected === null) expect(mgPerMl).toBeNull();
    else expect(mgPerMl).toBeCloseTo(expected, 10);
  });
});

describe('§1 the default concentration only when no strength is charted: a charted strength that cannot be used makes mL/h unreadable', () => {
  const order = (id: string, over: Parameters<typeof ketamine>[0]): OrderFact => ({
    id,
    status: 'active',
    intent: 'order',
    authoredOn: null,
    rate: mgkgh(0.1),
    medication: ketamine(over),
  });

  it.each<[string, Parameters<typeof ketamine>[0], string]>([
    ['100 mg / 0 mL, as charted', { strengthUnreadable: '100 mg / 0 mL' }, '100 mg / 0 mL'],
    ['a strength of 0 mg/mL', { concentrationMgPerMl: 0 }, '0 mg/mL'],
    ['a negative strength', { concentrationMgPerMl: -1 }, '-1 mg/mL'],
    ['a strength that is not finite', { concentrationMgPerMl: Infinity }, 'Infinity mg/mL'],
  ])(
    'the lookup reports %s on the Medication as unreadable, and looks no further (not the order’s strength)',
    (_s, medication, named) => {
      const found = concentrationOf(
        { medication: ketamine(medication), requestId: 'order-a' },
        [order('order-a', { concentrationMgPerMl: 2 })],
        null,
      );
      expect(found).toEqual({ value: null, from: 'medication', unreadable: named });
    },
  );

  it('an unreadable strength on the referenced order is reported too; a readable one on the Medication wins', () => {
    const orders = [order('order-a', { strengthUnreadable: '5 mg / 0 mL' })];
    expect(concentrationOf({ medication: ketamine(), requestId: 'order-a' }, orders, null)).toEqual({
      value: null,
      from: 'order',
      unreadable: '5 mg / 0 mL',
    });
    expect(
      concentrationOf({ medication: ketamine({ concentrationMgPerMl: 2 }), requestId: 'order-a' }, orders, null),
    ).toEqual({ value: 2, from: 'medication' });
  });

  it.each<[string, { concentrationMgPerMl: number | null; strengthUnreadable?: string | null }]>([
    ['charted and unreadable (100 mg / 0 mL)', { concentrationMgPerMl: null, strengthUnreadable: '100 mg / 0 mL' }],
    ['0 mg/mL', { concentrationMgPerMl: 0 }],
    ['negative', { concentrationMgPerMl: -10 }],
    ['not finite', { concentrationMgPerMl: Infinity }],
  ])('14 mL/h with a strength %s is unreadable, never 0.2 mg/kg/h by the default 1 mg/mL', (_s, strength) => {
    const conv = convertRate(qty(14, 'mL/h'), { weightKg: 70, ...strength }, params);
    expect(conv).toMatchObject({ ok: false, error: 'unreadable-strength', charted: '14 mL/h' });
  });

  it('an absurd strength that can be computed (1e308 mg/mL) gives an implausible rate: unreadable', () => {
    expect(convertRate(qty(14, 'mL/h'), { weightKg: 70, concentrationMgPerMl: 1e308 }, params)).toMatchObject({
      ok: false,
      error: 'implausible',
    });
  });

  it('a rate in mg/h needs no strength: an unreadable one does not matter', () => {
    const conv = convertRate(
      qty(21, 'mg/h'),
      { weightKg: 70, concentrationMgPerMl: null, strengthUnreadable: '100 mg / 0 mL' },
      params,
    );
    expect(conv).toMatchObject({ ok: true, mgPerKgPerHour: 0.3 });
  });
});
