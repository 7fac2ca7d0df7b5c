/**
 * Cards built from what the real decision core returns (not hand-built recommendations): each
 * scenario's card names the core's rule and passes the response schema.
 */
import { buildCards } from '../../src/cards/build';
import { checkDraftOrder, decide } from '../../src/protocol';
import { assertConformant } from '../../src/validation/response';
import {
  d,
  h,
  ketamine,
  m,
  mgkgh,
  NOW,
  orderSelect,
  orderSign,
  params,
  patient,
  patientView,
  qty,
} from '../protocol/builders';
import { draft, input } from './fixtures';

const cardsFor = (facts: ReturnType<ReturnType<typeof patient>['build']>) => {
  const recommendation = decide(facts, params, NOW, patientView);
  const cards = buildCards(input({ recommendation, params, now: NOW }));
  assertConformant({ cards });
  return { recommendation, cards };
};

describe('cards from the decision core', () => {
  it.each([
    ['S3', patient()],
    ['S2', patient().noEkg().noWeight()],
    ['S1', patient().psychosis()],
    [
      'T8',
      patient()
        .infusion([
          [0.1, h(7)],
          [0.2, h(3.5)],
        ])
        .pains([8, h(8)], [6, m(20)]),
    ],
    [
      'T1',
      patient()
        .infusion([
          [0.1, h(4)],
          [0.2, h(1)],
        ])
        .pains([8, h(5)], [6, m(20)]),
    ],
    [
      'T2',
      patient()
        .infusion([
          [0.1, h(7)],
          [0.2, h(3.5)],
        ])
        .pains([8, h(8)]),
    ],
    [
      'A1',
      patient()
        .infusion([
          [0.1, h(7)],
          [0.2, h(3.5)],
        ])
        .pains([8, h(8)], [6, m(20)])
        .effect(m(30)),
    ],
    [
      'A2',
      patient()
        .infusion([
          [0.1, h(7)],
          [0.2, h(3.5)],
        ])
        .pains([8, h(8)], [6, m(20)])
        .vital('sbp', 200),
    ],
    [
      'X1',
      patient().infusion(
        [
          [0.1, d(2)],
          [0.2, d(1.9)],
        ],
        { end: d(1.5) },
      ),
    ],
  ])('%s from the core makes a conformant card naming that rule', (ruleId, builder) => {
    const { recommendation, cards } = cardsFor(builder.build());
    expect(recommendation.ruleId).toBe(ruleId);
    expect(cards).toHaveLength(1);
    expect(cards[0]?.extension?.['ketamine-protocol'].ruleId).toBe(ruleId);
    expect(cards[0]?.detail).toContain(`Rule ${ruleId}`);
    expect([...(cards[0]?.summary ?? '')].length).toBeLessThan(140);
  });

  it('O3 from the core on order-sign makes a conformant card that updates the draft to the recommended rate', () => {
    const facts = patient()
      .infusion([
        [0.1, h(7)],
        [0.2, h(3.5)],
      ])
      .pains([8, h(8)], [6, m(20)])
      .build();
    const recommendation = decide(facts, params, NOW, orderSign('draft-1'));
    const check = checkDraftOrder(
      { id: 'draft-1', rate: mgkgh(1.5), concentrationMgPerMl: null },
      recommendation,
      params,
      'order-sign',
    );
    const cards = buildCards(
      input({
        hook: 'order-sign',
        recommendation,
        orderChecks: [check],
        drafts: { 'draft-1': draft('draft-1') },
        params,
        now: NOW,
      }),
    );
    assertConformant({ cards });
    expect(check.ruleId).toBe('O3');
    const card = cards[0];
    expect(card?.extension?.['ketamine-protocol']).toMatchObject({ ruleId: 'O3', draftRate: 1.5 });
    expect(card?.suggestions?.[0]?.actions?.[0]?.type).toBe('update');
  });
});

describe('cards from the decision core after the clinical safety review', () => {
  const orderCards = (
    facts: ReturnType<ReturnType<typeof patient>['build']>,
    hook: 'order-select' | 'order-sign',
    rate = mgkgh(0.3),
  ) => {
    const context = hook === 'order-sign' ? orderSign('draft-1') : orderSelect('draft-1');
    const recommendation = decide(facts, params, NOW, context);
    const check = checkDraftOrder({ id: 'draft-1', rate, concentrationMgPerMl: null }, recommendation, params, hook);
    const cards = buildCards(
      input({ hook, recommendation, orderChecks: [check], drafts: { 'draft-1': draft('draft-1') }, params, now: NOW }),
    );
    assertConformant({ cards });
    return { recommendation, check, cards };
  };

  it('T8 the current-rate input shows how a charted mL/h rate was converted, with the strength of the order it fulfils', () => {
    const { cards } = cardsFor(
      patient()
        .pains([8, h(12)], [7, h(1)])
        .admin({ start: h(5), rate: qty(7, 'mL/h'), requestId: 'order-a' })
        .order({ id: 'order-a', medication: ketamine({ concentrationMgPerMl: 0.5 }) })
        .build(),
    );
    const detail = cards[0]?.detail ?? '';
    expect(detail).toContain(
      'Current rate: 0.05 mg/kg/h since 2026-11-24 07:00 UTC (charted: 7 mL/h × 0.5 mg/mL ÷ 70 kg = 0.05 mg/kg/h (strength of the ketamine order))',
    );
    expect(detail).toContain('0.05 → 0.15 mg/kg/h (+0.1 mg/kg/h) = 10.5 mg/h at 70 kg = 21 mL/h at 0.5 mg/mL');
  });

  it('T8 a charted mg/h rate shows its division by the weight; a plain mg/kg/h rate shows no conversion', () => {
    const mgPerHour = cardsFor(
      patient()
        .pains([8, h(12)], [7, h(1)])
        .admin({ start: h(5), rate: qty(14, 'mg/h') })
        .build(),
    );
    expect(mgPerHour.cards[0]?.detail).toContain('(charted: 14 mg/h ÷ 70 kg = 0.2 mg/kg/h)');
    const perKg = cardsFor(
      patient()
        .pains([8, h(12)], [7, h(1)])
        .infusion([[0.2, h(5)]])
        .build(),
    );
    expect(perKg.cards[0]?.detail).not.toContain('(charted:');
  });

  it('O0 on order-sign, a draft while the running rate cannot be read: a critical card that says so, with no suggestion', () => {
    const facts = patient()
      .pains([8, h(12)], [7, h(1)])
      .admin({ start: h(5), rate: qty(5, 'mcg/kg/min') })
      .order({ id: 'draft-1', status: 'draft', rate: mgkgh(0.3) })
      .build();
    const { cards } = orderCards(facts, 'order-sign');
    expect(cards).toHaveLength(1);
    const card = cards[0];
    expect(card).toMatchObject({
      indicator: 'critical',
      extension: { 'ketamine-protocol': { ruleId: 'O0', draftRate: 0.3 } },
    });
    expect(card?.summary).toBe(
      'Protocol cannot check this ketamine order (0.3 mg/kg/h): the running rate could not be read',
    );
    expect(card?.detail).toContain('the draft cannot be checked against it');
    expect(card?.suggestions).toBeUndefined();
  });

  it('A3 a running rate above the hard maximum during the taper: the summary names the hard maximum, not an adverse effect, and the detail does not say titration', () => {
    const { recommendation, cards } = cardsFor(
      patient()
        .pains([9, h(30)], [3, h(14)], [2, h(9)], [2, h(5)], [2, h(1)])
        .infusion([
          [0.1, h(28)],
          [0.2, h(24)],
          [1.2, h(16)],
        ])
        .build(),
    );
    expect(recommendation).toMatchObject({ ruleId: 'A3', action: 'decrease', phase: 'taper' });
    const card = cards[0];
    expect(card?.summary).toBe(
      'Protocol suggests decreasing ketamine from 1.2 to 1 mg/kg/h: above the hard maximum of 1 mg/kg/h',
    );
    expect(card?.detail).toContain('The running rate is above the hard maximum of 1 mg/kg/h');
    expect(card?.detail).not.toMatch(/titration phase/i);
    expect(card?.detail).not.toContain('Psychotomimetic');
  });

  it('T7 a hold because the max tolerated rate is unknown says why, in the summary and the detail', () => {
    const { cards } = cardsFor(
      patient()
        .pains([8, h(21)], [7, h(1)])
        .admin({ start: h(20), end: h(9), status: 'completed', rate: qty(5, 'mcg/kg/min') })
        .admin({ start: h(9), rate: mgkgh(0.2) })
        .effect(h(10))
        .build(),
    );
    const card = cards[0];
    expect(card?.summary).toBe(
      'Protocol suggests keeping ketamine at 0.2 mg/kg/h: max tolerated rate unknown after an adverse effect, no increase',
    );
    expect(card?.detail).toContain('the max tolerated rate is unknown and the protocol suggests no increase');
    expect(card?.detail).toContain('Maximum tolerated rate: unknown');
  });

  it('S2 a patient whose gender is not recorded is asked for a pregnancy test, and the card asks to confirm', () => {
    const { recommendation, cards } = cardsFor(patient().gender(null).noPregnancyTest().build());
    expect(recommendation.ruleId).toBe('S2');
    expect(cards[0]?.summary).toBe('Protocol suggests recording a current pregnancy test before starting ketamine');
    expect(cards[0]?.detail).toContain('unless the patient is recorded as male');
    expect(cards[0]?.detail).toContain('please confirm');
  });
});
