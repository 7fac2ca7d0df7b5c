/**
 * Every ruling of the clinical contract v1.1 (docs/clinical-specification.md §8), one story each, named
 * by the rule it decides.
 */
import { checkDraftOrder, decide } from '../../src/protocol';
import type { DecisionContext } from '../../src/protocol/decide';
import type { Recommendation } from '../../src/protocol/recommendation';
import { h, m, mgkgh, NOW, orderSelect, params, patient, patientView, type Patient } from './builders';

const run = (p: Patient, context: DecisionContext = patientView): Recommendation =>
  decide(p.build(), params, NOW, context);

/** Titrating: 0.1 from 10 h ago, `rate` from 5 h ago, pain 7 an hour ago (an increase is due). */
const titrating = (rate: number) =>
  patient()
    .pains([8, h(11)], [7, h(1)])
    .infusion([
      [0.1, h(10)],
      [rate, h(5)],
    ]);

describe('the current segment (v1.1): charting order never matters, only the times', () => {
  it('X1 never while the pump runs: a rate charted and corrected at the same instant (zero-length) is not current', () => {
    const p = patient()
      .pains([8, h(11)], [7, h(1)])
      .admin({ start: h(10), end: h(5), status: 'completed', rate: mgkgh(0.1) })
      .admin({ start: h(5), end: null, status: 'in-progress', rate: mgkgh(0.2) })
      .admin({ start: h(5), end: h(5), status: 'completed', rate: mgkgh(0.3) });
    expect(run(p)).toMatchObject({ ruleId: 'T8', currentRate: 0.2, recommendedRate: 0.3 });
  });

  it('T8 of several administrations covering now, the one that started last is the rate', () => {
    const p = patient()
      .pains([8, h(11)], [7, h(1)])
      .admin({ start: h(10), end: null, status: 'in-progress', rate: mgkgh(0.1) })
      .admin({ start: h(5), end: null, status: 'in-progress', rate: mgkgh(0.2) });
    expect(run(p)).toMatchObject({ ruleId: 'T8', currentRate: 0.2, lastChangeAt: h(5) });
  });

  it('T8 on a tie of starts the open administration is the rate, whichever was charted first', () => {
    const closedFirst = patient()
      .pains([8, h(11)], [7, h(1)])
      .admin({ start: h(5), end: h(4), status: 'completed', rate: mgkgh(0.4) })
      .admin({ start: h(5), end: null, status: 'in-progress', rate: mgkgh(0.2) });
    const openFirst = patient()
      .pains([8, h(11)], [7, h(1)])
      .admin({ start: h(5), end: null, status: 'in-progress', rate: mgkgh(0.2) })
      .admin({ start: h(5), end: h(4), status: 'completed', rate: mgkgh(0.4) });
    for (const p of [closedFirst, openFirst]) expect(run(p)).toMatchObject({ currentRate: 0.2, ruleId: 'T8' });
  });

  it('X1 never while an in-progress administration that has started has no end, even after a later one ended', () => {
    const p = patient()
      .pains([8, h(11)], [7, h(1)])
      .admin({ start: h(10), end: null, status: 'in-progress', rate: mgkgh(0.2) })
      .admin({ start: h(8), end: h(6), status: 'completed', rate: mgkgh(0.3) });
    const r = run(p);
    expect(r.action).not.toBe('completed');
    expect(r.currentRate).toBe(0.2);
  });

  it('D1 two administrations with the same times and different rates cannot be told apart: no rate is computed', () => {
    const p = patient()
      .pains([8, h(11)], [7, h(1)])
      .admin({ start: h(5), end: null, status: 'in-progress', rate: mgkgh(0.2) })
      .admin({ start: h(5), end: null, status: 'in-progress', rate: mgkgh(0.4) });
    expect(run(p)).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
  });

  it('T8 the same chart in any charting order gives the same recommendation', () => {
    const build = (reverse: boolean) => {
      const p = patient().pains([8, h(11)], [7, h(1)]);
      const admins = [
        { start: h(10), end: h(7), status: 'completed', rate: mgkgh(0.1) },
        { start: h(7), end: h(7), status: 'completed', rate: mgkgh(0.5) },
        { start: h(7), end: null, status: 'in-progress', rate: mgkgh(0.2) },
      ];
      for (const a of reverse ? [...admins].reverse() : admins) p.admin(a);
      return run(p);
    };
    expect(build(true)).toMatchObject({ ruleId: build(false).ruleId, recommendedRate: build(false).recommendedRate });
  });
});

describe('the max tolerated rate caps suggested increases only (v1.1)', () => {
  /** 0.3 from 18 h, 0.4 from 12 h (effect at 10 h: ceiling 0.3), 0.3 from 9 h, then `rate` from 5 h. */
  const afterEffect = (rate: number) =>
    patient()
      .pains([8, h(20)], [6, h(1)])
      .infusion([
        [0.3, h(18)],
        [0.4, h(12)],
        [0.3, h(9)],
        [rate, h(5)],
      ])
      .effect(h(10));

  it('T7 a rate above the ceiling, tolerated since it started, is held with a warning naming the effect, its time and rate, and the ceiling', () => {
    expect(run(afterEffect(0.5))).toMatchObject({
      ruleId: 'T7',
      action: 'hold',
      indicator: 'warning',
      recommendedRate: 0.5,
      maxToleratedRate: 0.3,
      maxRateReason: 'above-max-tolerated',
      adverseEffect: { time: h(10), atRate: 0.4, display: 'Hallucinations', psychotomimetic: true },
    });
  });

  it('T7 at the ceiling the next step would pass it: held, naming the max tolerated rate', () => {
    expect(run(afterEffect(0.3))).toMatchObject({ ruleId: 'T7', maxRateReason: 'max-tolerated' });
  });

  it('A1 a new effect steps down one escalationStep from the running rate, never straight to the ceiling or a stop', () => {
    const r = run(afterEffect(0.5).effect(h(1)));
    expect(r).toMatchObject({ ruleId: 'A1', action: 'decrease', recommendedRate: 0.4, indicator: 'critical' });
  });

  it('T7 the ceiling carries across courses in the look-back: a new course stops one step below the effect', () => {
    const p = patient()
      .pains([8, h(40)], [7, h(1)])
      .infusion(
        [
          [0.1, h(40)],
          [0.2, h(36)],
        ],
        { end: h(30) },
      )
      .effect(h(31))
      .infusion([[0.1, h(6)]]);
    expect(run(p)).toMatchObject({ ruleId: 'T7', maxToleratedRate: 0.1, maxRateReason: 'max-tolerated' });
  });

  it('S3 a start after an effect at the start rate is a warning: a re-challenge needs the attending', () => {
    const p = patient()
      .pains([7, h(1)])
      .infusion([[0.1, h(40)]], { end: h(30) })
      .effect(h(31))
      .order({ id: 'draft-1', status: 'draft', rate: mgkgh(0.1) });
    const r = run(p, orderSelect('draft-1'));
    expect(r).toMatchObject({ ruleId: 'S3', action: 'start', indicator: 'warning', maxToleratedRate: 0 });
  });
});

describe('A3, V1 and D1 first (v1.1)', () => {
  it('A3 running above the hard maximum: decrease to the hard maximum (critical)', () => {
    expect(run(titrating(1.3))).toMatchObject({
      ruleId: 'A3',
      action: 'decrease',
      indicator: 'critical',
      recommendedRate: params.hardMaxRate,
    });
  });

  it('A1 and A2 never recommend above the hard maximum: 1.5 with a breach goes to 1.0, not 1.4', () => {
    expect(run(titrating(1.5).vital('sbp', 200))).toMatchObject({ ruleId: 'A2', recommendedRate: 1 });
    expect(run(titrating(1.5).effect(h(1)))).toMatchObject({ ruleId: 'A1', recommendedRate: 1 });
  });

  it('V1 an increase due without a recent blood pressure and heart rate asks for them, naming the increase that would follow', () => {
    const r = run(titrating(0.2).noVitals());
    expect(r).toMatchObject({ ruleId: 'V1', action: 'needs-data', indicator: 'warning', recommendedRate: null });
    expect(r.missing).toEqual([{ code: 'vitals-missing', detail: 'blood pressure and heart rate' }]);
    expect(r.arithmetic).toMatchObject({ fromRate: 0.2, toRate: 0.3 });
  });

  it('V1 a heart rate alone is not enough: the blood pressure is named', () => {
    const r = run(titrating(0.2).noVitals().vital('hr', 80));
    expect(r.missing).toEqual([{ code: 'vitals-missing', detail: 'blood pressure' }]);
  });

  it('S2 asks for a baseline blood pressure and heart rate before a start', () => {
    const r = run(
      patient()
        .pains([7, h(1)])
        .noVitals(),
    );
    expect(r.ruleId).toBe('S2');
    expect(r.missing).toContainEqual({ code: 'vitals-missing', detail: 'blood pressure and heart rate' });
  });

  it('D1 first when the running rate is unreadable, critical when an A1 effect also holds, the effect named', () => {
    const p = patient()
      .pains([8, h(11)], [7, h(1)])
      .admin({ start: h(5), end: null, status: 'in-progress', rate: { kind: 'quantity', value: 3, unit: 'drops' } })
      .effect(h(1));
    const r = run(p);
    expect(r).toMatchObject({ ruleId: 'D1', indicator: 'critical', recommendedRate: null });
    expect(r.notes.join(' ')).toContain('Hallucinations');
  });

  it('D1 a charted rate above maxPlausibleRate is a charting error: unreadable, never acted on', () => {
    const r = run(titrating(params.maxPlausibleRate * 2));
    expect(r).toMatchObject({ ruleId: 'D1', currentRate: null, recommendedRate: null });
  });

  it('D1 a weight outside the plausible range is unreadable: no rate computed from it', () => {
    for (const kg of [0.001, params.maxPlausibleWeight + 1]) {
      const r = run(titrating(0.2).weight(kg, h(2)));
      expect(r).toMatchObject({ ruleId: 'D1', weightKg: null });
      expect(r.missing[0]).toMatchObject({ code: 'weight-unreadable' });
    }
  });

  it('D1 a latest weight charted without a readable value is unreadable: the card says when it was charted, no rate', () => {
    const r = run(titrating(0.2).weight(null, h(2)));
    expect(r).toMatchObject({ ruleId: 'D1', weightKg: null, recommendedRate: null });
    expect(r.missing[0]).toMatchObject({ code: 'weight-unreadable', since: h(2) });
    expect(r.notes.join(' ')).toMatch(
      /The latest weight could not be read: the weight charted at .+ has no readable value\./,
    );
  });
});

describe('adverse effects named as charted (v1.1)', () => {
  it('A1 dizziness attributed to ketamine is an adverse effect, not a psychotomimetic one, and still steps the rate down', () => {
    const r = run(
      titrating(0.3).effect(h(1), {
        resourceType: 'AdverseEvent',
        via: 'ketamine-suspect',
        display: 'Dizziness',
        code: '404640003',
      }),
    );
    expect(r).toMatchObject({ ruleId: 'A1', recommendedRate: 0.2 });
    expect(r.adverseEffect).toMatchObject({ display: 'Dizziness', psychotomimetic: false });
  });
});

describe('order hooks: one card per draft listing every finding, most severe first (v1.1)', () => {
  it('O2 and O4 a start at 0.3 with a missing pain score shows both, O2 first, with no rate suggestion', () => {
    const p = patient()
      .pains([7, h(10)])
      .order({ id: 'draft-1', status: 'draft', rate: mgkgh(0.3) });
    const rec = run(p, orderSelect('draft-1'));
    expect(rec.ruleId).toBe('S2');
    const check = checkDraftOrder(
      { id: 'draft-1', rate: mgkgh(0.3), concentrationMgPerMl: null },
      rec,
      params,
      'order-select',
    );
    expect(check.findings?.map((f) => f.ruleId)).toEqual(['O2', 'O4']);
    expect(check).toMatchObject({ ruleId: 'O2', suggestion: null, suggestedRate: null });
  });

  it('O3 and O6 a draft above the hard maximum while titrating lists both, O3 first, critical', () => {
    const rec = run(titrating(0.2), orderSelect('draft-1'));
    const check = checkDraftOrder(
      { id: 'draft-1', rate: mgkgh(1.5), concentrationMgPerMl: null },
      rec,
      params,
      'order-select',
    );
    expect(check.findings?.map((f) => f.ruleId)).toEqual(['O3', 'O6']);
    expect(check).toMatchObject({ ruleId: 'O3', indicator: 'critical', suggestedRate: 0.3 });
  });
});

describe('a pain score at the instant of a change is not after it (v1.1 settled)', () => {
  it('T2 a score charted at the very minute of the last change asks for a new one', () => {
    const p = patient()
      .pains([8, h(11)], [7, h(5)])
      .infusion([
        [0.1, h(10)],
        [0.2, h(5)],
      ]);
    expect(run(p).ruleId).toBe('T2');
    expect(m(0)).toBe(NOW.toISOString());
  });
});
