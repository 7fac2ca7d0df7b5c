/**
 * Cards built from what the real decision core returns (not hand-built recommendations): each
 * scenario's card names the core's rule and passes the response schema.
 */
import { buildCards } from '../../src/cards/build';
import { checkDraftOrder, decide } from '../../src/protocol';
import { assertConformant } from '../../src/validation/response';
import { d, h, m, mgkgh, NOW, orderSign, params, patient, patientView } from '../protocol/builders';
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
