/**
 * Cards that say why, in their first lines (docs/clinical-specification.md §3, §6, v1.1): D1 by what it
 * waits for, D1 naming the A1/A2 condition that makes it critical, A1/A2 bounded by the hard maximum, and
 * O0 by why the draft's rate could not be read. Built from what the decision core returns.
 */
import { buildCards } from '../../src/cards/build';
import type { Card } from '../../src/cards/types';
import { checkDraftOrder, decide } from '../../src/protocol';
import type { ChartedRate } from '../../src/protocol/facts';
import { assertConformant } from '../../src/validation/response';
import { d, h, m, mgkgh, NOW, orderSelect, params, patient, patientView, qty } from '../protocol/builders';
import { draft, input } from './fixtures';

type Facts = ReturnType<ReturnType<typeof patient>['build']>;

const rate = (value: number) => `${value} mg/kg/h`;
const hardMax = rate(params.hardMaxRate);

function cardFor(facts: Facts) {
  const recommendation = decide(facts, params, NOW, patientView);
  const cards = buildCards(input({ recommendation, params, now: NOW }));
  assertConformant({ cards });
  expect(cards).toHaveLength(1);
  return { recommendation, card: cards[0] as Card };
}

function orderCardFor(facts: Facts, draftRate: ChartedRate | null) {
  const recommendation = decide(facts, params, NOW, orderSelect('draft-1'));
  const check = checkDraftOrder(
    { id: 'draft-1', rate: draftRate, concentrationMgPerMl: null },
    recommendation,
    params,
    'order-select',
  );
  const cards = buildCards(
    input({
      hook: 'order-select',
      recommendation,
      orderChecks: [check],
      drafts: { 'draft-1': draft('draft-1') },
      params,
      now: NOW,
    }),
  );
  assertConformant({ cards });
  expect(cards).toHaveLength(1);
  return { check, card: cards[0] as Card };
}

/** The first six lines of the detail: what a clinician reads in five seconds. */
const head = (card: Card) => (card.detail ?? '').split('\n').slice(0, 6).join('\n').replace(/\\(.)/g, '$1');

/** Titrating at 0.2 mg/kg/h since 3.5 h, a current weight; `chart` charts each rate. */
const titrating = (chart: (r: number) => ChartedRate = mgkgh) =>
  patient()
    .pains([8, h(8)], [6, m(20)])
    .infusion(
      [
        [0.1, h(7)],
        [0.2, h(3.5)],
      ],
      { rate: chart },
    );

describe('D1 says what it waits for: the weight, the running rate, or both', () => {
  it.each([
    ['an unknown unit', (r: number) => qty(r, 'mg/kg/day'), 'unknown rate unit'],
    ['a rate above maxPlausibleRate', () => mgkgh(params.maxPlausibleRate * 2), 'highest plausible rate'],
    ['a rate that is not finite', () => mgkgh(Number.POSITIVE_INFINITY), 'not a valid rate'],
  ])(
    'D1 when only the running rate cannot be read (%s) and the weight is current, the card is about the rate, not the weight',
    (_what, chart, why) => {
      const { recommendation, card } = cardFor(titrating(chart).build());
      expect(recommendation).toMatchObject({ ruleId: 'D1', indicator: 'warning', weightKg: 70 });
      expect(card.summary).toBe(
        'Protocol suggests charting the running ketamine rate again: it could not be read, so no rate can be computed',
      );
      expect(card.summary).not.toMatch(/weight/);
      expect(head(card)).toContain('Rule D1 · Running rate unreadable');
      expect(head(card)).not.toMatch(/weight/i);
      expect(head(card)).toContain(why);
    },
  );

  it('D1 when the weight is stale and the rate is readable, the card asks for a weight and says the latest is too old', () => {
    const { recommendation, card } = cardFor(
      titrating()
        .weight(70, d(params.weightMaxAgeDays + 1))
        .build(),
    );
    expect(recommendation.ruleId).toBe('D1');
    expect(card.summary).toBe(
      `Protocol suggests recording a current weight before the next ketamine rate decision: the latest is older than ${params.weightMaxAgeDays} d`,
    );
    expect(head(card)).toContain('Rule D1 · Dosing weight needed');
    expect(head(card)).not.toContain('running rate');
  });

  it('D1 when the weight is missing and the running rate cannot be read, the card names both', () => {
    const { card } = cardFor(
      titrating((r) => qty(r, 'mg/kg/day'))
        .noWeight()
        .build(),
    );
    expect(card.summary).toBe(
      'Protocol suggests recording a current weight and charting the running ketamine rate again: neither can be used',
    );
    expect(head(card)).toContain('Rule D1 · Dosing weight and readable rate needed');
    expect(head(card)).toContain('Dosing weight: none charted; Infusion rate: could not be read');
  });
});

describe('D1 critical names its A1/A2 finding up front (v1.1)', () => {
  it('D1 with an adverse effect since the unreadable rate started is critical, and its first lines say what, when and at what rate', () => {
    const { recommendation, card } = cardFor(
      titrating((r) => qty(r, 'mg/kg/day'))
        .effect(m(30))
        .build(),
    );
    expect(recommendation).toMatchObject({ ruleId: 'D1', indicator: 'critical', safetyFindings: ['A1'] });
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe(
      'Protocol suggests lowering ketamine after a psychotomimetic effect, but the running rate could not be read',
    );
    const effect = head(card)
      .split('\n')
      .find((line) => line.startsWith('**Also A1 · Adverse effect**'));
    expect(effect).toBe(
      '**Also A1 · Adverse effect**: Hallucinations (a psychotomimetic effect) on 2026-11-24 11:30 UTC, since the current ' +
        `rate started (its rate could not be read): the protocol would lower the rate by one step of ${rate(params.escalationStep)}, ` +
        'but no lower rate can be computed  ',
    );
  });

  it('D1 with a vital-sign breach is critical, and its first lines name the breach with its limit', () => {
    const { recommendation, card } = cardFor(
      titrating((r) => qty(r, 'mg/kg/day'))
        .vital('sbp', params.sbpHigh + 20)
        .build(),
    );
    expect(recommendation).toMatchObject({ ruleId: 'D1', indicator: 'critical', safetyFindings: ['A2'] });
    expect(card.summary).toBe(
      'Protocol suggests lowering ketamine after a vital-sign breach, but the running rate could not be read',
    );
    expect(head(card)).toContain(
      `**Also A2 · Vital-sign breach**: Systolic blood pressure ${params.sbpHigh + 20} mmHg (above ${params.sbpHigh} mmHg)`,
    );
  });

  it('D1 with a psychotomimetic effect charted before the current rate started is a warning that names no A1 finding', () => {
    const { recommendation, card } = cardFor(
      titrating((r) => qty(r, 'mg/kg/day'))
        .effect(h(5))
        .build(),
    );
    expect(recommendation).toMatchObject({ ruleId: 'D1', indicator: 'warning' });
    expect(recommendation.safetyFindings).toBeUndefined();
    expect(head(card)).not.toContain('Also A1');
  });
});

describe('A1/A2 above the hard maximum decrease to it, and say so (v1.1)', () => {
  const above = params.hardMaxRate + 5 * params.escalationStep;
  const running = () =>
    patient()
      .pains([8, h(8)], [6, m(20)])
      .infusion([
        [0.1, h(7)],
        [above, h(3.5)],
      ]);

  it.each([
    ['A1', running().effect(m(30)), 'a psychotomimetic effect'],
    ['A2', running().vital('sbp', params.sbpHigh + 20), 'a vital-sign breach'],
  ])(
    '%s when one step down stays above the hard maximum, the card says "decrease to the hard maximum" and the calculation shows it',
    (ruleId, builder, after) => {
      const { recommendation, card } = cardFor(builder.build());
      expect(recommendation).toMatchObject({ ruleId, action: 'decrease', recommendedRate: params.hardMaxRate });
      expect(card.summary).toBe(
        `Protocol suggests decreasing ketamine from ${above} to the hard maximum of ${hardMax} after ${after}`,
      );
      expect(head(card)).toContain(`decrease to the hard maximum ${hardMax}.`);
      expect(head(card)).not.toContain(`decrease by ${rate(params.escalationStep)}`);
      expect(head(card)).toContain(
        `**Calculation**: ${above} → ${hardMax} (−${rate(above - params.hardMaxRate)}: down to the hard maximum of ${hardMax}, ` +
          `as one step of ${rate(params.escalationStep)} would stay above it)`,
      );
    },
  );

  it('A1 one step down within the hard maximum still says "decrease by" one step, with no hard-maximum words', () => {
    const { card } = cardFor(titrating().effect(m(30)).build());
    expect(head(card)).toContain(`decrease by ${rate(params.escalationStep)}`);
    expect(head(card)).not.toContain('hard maximum');
  });
});

describe('O0 says why the draft rate could not be read', () => {
  it('O0 a draft above maxPlausibleRate says so in its summary and first lines, not that a unit is expected', () => {
    const draftRate = params.maxPlausibleRate * 2;
    const { check, card } = orderCardFor(titrating().build(), mgkgh(draftRate));
    expect(check).toMatchObject({ ruleId: 'O0', draftUnreadable: 'implausible' });
    expect(card.summary).toBe(
      `Protocol could not read the rate of this ketamine order: ${rate(draftRate)} is above the plausible ${rate(params.maxPlausibleRate)} (a charting error)`,
    );
    expect(card.summary).not.toContain('is expected');
    expect(head(card)).toContain(
      `The draft order's rate is above ${rate(params.maxPlausibleRate)}, the highest plausible rate: it is taken as a charting error`,
    );
    expect(head(card)).not.toContain('is expected');
  });

  it('O0 a draft in an unknown unit names the unit in its summary', () => {
    const { check, card } = orderCardFor(titrating().build(), qty(3, '[drp]/min'));
    expect(check.draftUnreadable).toBe('unknown-unit');
    expect(card.summary).toBe(
      'Protocol could not read the rate of this ketamine order: unknown unit in 3 [drp]/min; a rate in mg/kg/h, mg/h or mL/h is expected',
    );
    expect(head(card)).toContain("The draft order's rate is in a unit the protocol does not read");
  });

  it('O0 a draft without a rate says the order gives none', () => {
    const { check, card } = orderCardFor(titrating().build(), null);
    expect(check.draftUnreadable).toBe('no-rate');
    expect(card.summary).toBe(
      'Protocol could not read the rate of this ketamine order: the order gives no rate; a rate in mg/kg/h, mg/h or mL/h is expected',
    );
    expect(head(card)).toContain('The draft order has no rate');
  });

  it('O0 a draft in mg/h with no readable weight says a weight is needed to read it', () => {
    const { check, card } = orderCardFor(titrating().noWeight().build(), qty(14, 'mg/h'));
    expect(check.draftUnreadable).toBe('no-weight');
    expect(card.summary).toBe(
      'Protocol could not read the rate of this ketamine order: 14 mg/h needs a weight, and none can be read',
    );
    expect(head(card)).toContain('no readable weight is charted');
  });
});
