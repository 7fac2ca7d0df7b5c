import { buildInfusion } from '../../src/protocol/infusion';
import { classifyPregnancyTest, effectsDuringInfusion, judgeVitals } from '../../src/protocol/safety';
import type { VitalKind } from '../../src/protocol/facts';
import { NOW, h, m, mgkgh, params, patient } from './builders';

describe('vital-sign judgement', () => {
  const judge = (kind: VitalKind, value: number, time = m(30), unit?: string | null) =>
    judgeVitals(patient().noVitals().vital(kind, value, time, unit).build().vitals, params, NOW);

  it.each<[VitalKind, number, 'high' | 'low' | null, number | null]>([
    ['sbp', 180, null, null],
    ['sbp', 181, 'high', 180],
    ['sbp', 90, null, null],
    ['sbp', 89, 'low', 90],
    ['dbp', 110, null, null],
    ['dbp', 111, 'high', 110],
    ['hr', 120, null, null],
    ['hr', 121, 'high', 120],
    ['hr', 50, null, null],
    ['hr', 49, 'low', 50],
    ['rr', 30, null, null],
    ['rr', 31, 'high', 30],
    ['rr', 10, null, null],
    ['rr', 9, 'low', 10],
    ['spo2', 92, null, null],
    ['spo2', 91, 'low', 92],
  ])('%s %d: breach %s (limit %s)', (kind, value, bound, limit) => {
    const r = judge(kind, value);
    expect(r.readings).toHaveLength(1);
    expect(r.readings[0]?.breach).toEqual(bound === null ? null : { bound, limit });
    expect(r.breaches).toHaveLength(bound === null ? 0 : 1);
  });

  it('only vitals within 2 h are judged: 1 h 59 min yes, exactly 2 h yes, 2 h 1 min no (said in a note)', () => {
    expect(judge('sbp', 200, m(119)).breaches).toHaveLength(1);
    expect(judge('sbp', 200, m(120)).breaches).toHaveLength(1);
    const stale = judge('sbp', 200, m(121));
    expect(stale.readings).toEqual([]);
    expect(stale.notes).toEqual([
      { vitalNote: 'too-old', maxAgeHours: 2, vitals: [{ kind: 'sbp', value: 200, unit: 'mm[Hg]', time: m(121) }] },
    ]);
  });

  it('the latest value of a kind is judged, not an older breach', () => {
    const v = patient().noVitals().build().vitals;
    v.push(
      { kind: 'hr', id: 'old', time: m(90), value: 140, unit: '/min' },
      { kind: 'hr', id: 'new', time: m(10), value: 80, unit: '/min' },
    );
    expect(judgeVitals(v, params, NOW).breaches).toEqual([]);
  });

  it('a vital in an unexpected unit is not judged, and said', () => {
    const r = judge('sbp', 24, m(10), 'kPa');
    expect(r.readings).toEqual([]);
    expect(r.notes).toEqual([expect.objectContaining({ vitalNote: 'unit', kind: 'sbp', unit: 'kPa' })]);
  });
});

describe('pregnancy test classification', () => {
  const quant = (value: number, unit: string | null = '[IU]/L') =>
    classifyPregnancyTest(
      { id: 't', time: h(1), code: '19080-1', qualitative: null, quantitative: { value, unit } },
      params,
    ).result;

  it.each<[number, string]>([
    [4.9, 'negative'],
    [5, 'equivocal'],
    [24.9, 'equivocal'],
    [25, 'positive'],
  ])('quantitative hCG %d IU/L is %s (negative below 5, positive at or above 25)', (value, result) => {
    expect(quant(value)).toBe(result);
  });

  it('mIU/mL is the same number as IU/L', () => {
    expect(quant(30, 'mIU/mL')).toBe('positive');
  });

  it('an unknown hCG unit is not read', () => {
    const r = classifyPregnancyTest(
      { id: 't', time: h(1), code: '19080-1', qualitative: null, quantitative: { value: 2, unit: 'ng/mL' } },
      params,
    );
    expect(r.result).toBeNull();
    expect(r.note).toContain('ng/mL');
  });

  it('qualitative results are read as charted; with both, the more cautious one counts', () => {
    expect(
      classifyPregnancyTest(
        { id: 't', time: h(1), code: '2106-3', qualitative: 'negative', quantitative: null },
        params,
      ).result,
    ).toBe('negative');
    expect(
      classifyPregnancyTest(
        { id: 't', time: h(1), code: '2106-3', qualitative: 'negative', quantitative: { value: 10, unit: 'IU/L' } },
        params,
      ).result,
    ).toBe('equivocal');
  });
});

describe('psychotomimetic effects and the max tolerated rate', () => {
  it('after an effect at 0.4 mg/kg/h the max tolerated rate is 0.3 for the rest of the infusion; the lowest limit wins', () => {
    const facts = patient()
      .infusion([
        [0.1, h(20)],
        [0.2, h(16)],
        [0.3, h(12)],
        [0.4, h(8)],
        [0.3, h(5)],
      ])
      .effect(h(6))
      .effect(h(30)) // before the infusion: not counted
      .build();
    const inf = buildInfusion(facts.administrations, 70, params, NOW);
    const r = effectsDuringInfusion(facts.adverseEffects, inf, params, NOW);
    expect(r.effects).toHaveLength(1);
    expect(r.effects[0]?.atRate).toBe(0.4);
    expect(r.maxToleratedRate).toBe(0.3);
  });

  it('an effect at 0.1 gives a max tolerated rate of 0', () => {
    const facts = patient()
      .infusion([[0.1, h(5)]])
      .effect(h(1))
      .build();
    const inf = buildInfusion(facts.administrations, 70, params, NOW);
    expect(effectsDuringInfusion(facts.adverseEffects, inf, params, NOW).maxToleratedRate).toBe(0);
  });

  it('an effect without a time cannot be placed in the infusion: it is said, not silently dropped', () => {
    const facts = patient()
      .infusion([[0.2, h(5)]])
      .effect(null)
      .build();
    const inf = buildInfusion(facts.administrations, 70, params, NOW);
    const r = effectsDuringInfusion(facts.adverseEffects, inf, params, NOW);
    expect(r.effects).toEqual([]);
    expect(r.notes.join(' ')).toContain('no time');
  });
});

describe('an effect charted while nothing was running', () => {
  it('the effect is attributed to the most recent running segment at or before it (unit level)', () => {
    const facts = patient()
      .admin({ start: h(20), end: h(10), status: 'completed', rate: mgkgh(0.3) })
      .admin({ start: h(9), rate: mgkgh(0.2) })
      .effect(h(9.9))
      .build();
    const inf = buildInfusion(facts.administrations, 70, params, NOW);
    const r = effectsDuringInfusion(facts.adverseEffects, inf, params, NOW);
    expect(r.effects[0]).toMatchObject({ atRate: 0.3, rateFrom: 'before-pause' });
    expect(r.maxToleratedRate).toBe(0.2);
    expect(r.toleranceUnknown).toBeNull();
  });
});
