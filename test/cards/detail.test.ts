/**
 * The card detail as a clinician reads it: the problems found reviewing the golden HTTP responses
 * (a "−0" step on holds, a calculation on cards that recommend no rate, "1 scores", raw ISO times and
 * UCUM units in notes, a running breach called a contraindication, an overdue first taper step, the
 * strength said for a draft's pump arithmetic).
 */
import { buildCards } from '../../src/cards/build';
import type { Card } from '../../src/cards/types';
import { checkDraftOrder, decide } from '../../src/protocol';
import type { ChartedRate } from '../../src/protocol/facts';
import { assertConformant } from '../../src/validation/response';
import { h, ketamine, m, mgkgh, NOW, orderSelect, params, patient, patientView, qty } from '../protocol/builders';
import { build, draft, input, only, recommendation } from './fixtures';

type Facts = ReturnType<ReturnType<typeof patient>['build']>;

function cardFor(facts: Facts): { ruleId: string; detail: string } {
  const rec = decide(facts, params, NOW, patientView);
  const cards = buildCards(input({ recommendation: rec, params, now: NOW }));
  assertConformant({ cards });
  return { ruleId: rec.ruleId, detail: only(cards).detail ?? '' };
}

function orderCardFor(facts: Facts, rate: ChartedRate, concentrationMgPerMl: number | null): Card {
  const rec = decide(facts, params, NOW, orderSelect('draft-1'));
  const check = checkDraftOrder({ id: 'draft-1', rate, concentrationMgPerMl }, rec, params, 'order-select');
  const cards = buildCards(
    input({
      hook: 'order-select',
      recommendation: rec,
      orderChecks: [check],
      drafts: { 'draft-1': draft('draft-1') },
      params,
      now: NOW,
    }),
  );
  assertConformant({ cards });
  return only(cards);
}

const running = () =>
  patient().infusion([
    [0.1, h(7)],
    [0.2, h(3.5)],
  ]);

describe('the calculation says what changes, and only when a rate is recommended', () => {
  it('T1 a hold says the rate stays at its value, with no arrow and no "−0" step', () => {
    const { ruleId, detail } = cardFor(
      patient()
        .infusion([
          [0.1, h(4)],
          [0.2, h(1)],
        ])
        .pains([8, h(5)], [6, m(20)])
        .build(),
    );
    expect(ruleId).toBe('T1');
    expect(detail).toContain(
      'No rate change: the rate stays at 0.2 mg/kg/h = 14 mg/h at 70 kg; no bag strength on the record',
    );
    expect(detail).not.toContain('0.2 → 0.2');
    expect(detail).not.toMatch(/[−-]0 mg\/kg\/h/);
  });

  it.each([
    ['T2', running().pains([8, h(8)])],
    [
      'D1',
      running()
        .pains([8, h(8)], [6, m(20)])
        .noWeight(),
    ],
  ])('%s recommends no rate, so its card shows no calculation', (rule, builder) => {
    const { ruleId, detail } = cardFor(builder.build());
    expect(ruleId).toBe(rule);
    expect(detail).not.toContain('**Calculation**');
    expect(detail).not.toContain('→');
  });
});

describe('counts agree with their nouns', () => {
  it('T6 a sustained run of one score says "1 score … at" its time, never "1 scores … from X to X"', () => {
    const card = only(
      build({
        recommendation: recommendation({
          ruleId: 'T6',
          action: 'hold',
          recommendedRate: 0.2,
          arithmetic: null,
          sustained: { from: '2026-11-24T11:45:00Z', to: '2026-11-24T11:45:00Z', scores: 1, hours: 0, reached: false },
        }),
      }),
    );
    expect(card.detail).toContain(
      'Sustained run: 1 score at or below 3/10 at 2026-11-24 11:45 UTC (0 h of 8 h needed: not yet reached)',
    );
    expect(card.detail).not.toContain('1 scores');
  });

  it('T6 with a minimum of one score for a sustained run, the rule says "at least 1 score"', () => {
    const card = only(
      build({
        params: { ...params, minScoresForSustained: 1 },
        recommendation: recommendation({ ruleId: 'T6', action: 'hold', recommendedRate: 0.2, arithmetic: null }),
      }),
    );
    expect(card.detail).toContain('once at least 1 score at or below target');
  });
});

describe('notes read like the rest of the card', () => {
  it('T2 notes about vitals too old to judge give the time as "… UTC" and the units as mmHg, /min and %', () => {
    const { ruleId, detail } = cardFor(
      running()
        .pains([8, h(8)])
        .noVitals()
        .vital('sbp', 118, h(3))
        .vital('hr', 82, h(3))
        .vital('spo2', 97, h(3))
        .build(),
    );
    expect(ruleId).toBe('T2');
    const notes = detail.split('**Notes**')[1] ?? '';
    expect(notes).toContain('Not judged, older than 2 h: systolic blood pressure 118 mmHg (2026-11-24 09:00 UTC)');
    expect(notes).toContain('heart rate 82/min (2026-11-24 09:00 UTC)');
    expect(notes).toContain('oxygen saturation 97% (2026-11-24 09:00 UTC)');
    expect(detail).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    expect(detail).not.toContain('mm\\[Hg\\]');
  });

  it('a pain score dated in the future is noted with a readable time', () => {
    const { detail } = cardFor(
      running()
        .pains([8, h(8)], [6, m(20)], [2, h(-2)])
        .build(),
    );
    expect(detail).toMatch(
      /The pain score charted at 2026-11-24 14:00 UTC is dated after the evaluation time: ignored\./,
    );
  });
});

describe('a vital-sign breach is named for what it is', () => {
  it('A2 while the infusion runs lists the breach under "Vital-sign breach", in mmHg, not under "Contraindications"', () => {
    const { ruleId, detail } = cardFor(
      running()
        .pains([8, h(8)], [6, m(20)])
        .vital('sbp', 200)
        .build(),
    );
    expect(ruleId).toBe('A2');
    expect(detail).toContain(
      '**Vital-sign breach**\n- Systolic blood pressure 200 mmHg (above 180 mmHg) (2026-11-24 11:30 UTC)',
    );
    expect(detail).not.toContain('**Contraindications**');
  });

  it('S1 before a start, the same breach is a contraindication (the start is deferred)', () => {
    const { ruleId, detail } = cardFor(patient().vital('sbp', 200).build());
    expect(ruleId).toBe('S1');
    expect(detail).toContain(
      '**Contraindications**\n- vital sign out of range: Systolic blood pressure 200 mmHg (above 180 mmHg)',
    );
  });
});

describe('overdue is said only when the step has been due that long', () => {
  const tapering = () =>
    patient().infusion([
      [0.1, h(30)],
      [0.2, h(26)],
      [0.4, h(20)],
    ]);

  it('T4 the first taper step, due since the sustained target was reached minutes ago, is not called overdue', () => {
    const { ruleId, detail } = cardFor(
      tapering()
        .pains([9, h(31)], [3, h(8.5)], [2, h(4)], [1, m(10)])
        .build(),
    );
    expect(ruleId).toBe('T4');
    expect(detail).not.toContain('**Overdue**');
  });

  it('T4 the first taper step not taken 9 h after the target was reached is overdue, counted from that time', () => {
    const { ruleId, detail } = cardFor(
      tapering()
        .pains([9, h(31)], [3, h(18)], [2, h(12)], [2, h(9)], [1, m(10)])
        .build(),
    );
    expect(ruleId).toBe('T4');
    expect(detail).toContain(
      '**Overdue**: more than 4 h since the sustained target was reached (2026-11-24 03:00 UTC).',
    );
  });

  it('T8 an increase more than 4 h after the last change is still overdue since that change', () => {
    const { ruleId, detail } = cardFor(
      running()
        .pains([8, h(8)], [7, m(20)])
        .build(),
    );
    expect(ruleId).toBe('T8');
    expect(detail).not.toContain('**Overdue**');
    const late = cardFor(
      patient()
        .infusion([
          [0.1, h(9)],
          [0.2, h(5)],
        ])
        .pains([8, h(10)], [7, m(20)])
        .build(),
    );
    expect(late.detail).toContain('**Overdue**: more than 4 h since the last rate change (2026-11-24 07:00 UTC).');
  });
});

describe("a draft's pump arithmetic says whose strength it uses", () => {
  const holdingOnA2MgPerMlBag = () =>
    patient()
      .admin({
        start: h(5),
        rate: qty(7, 'mL/h'),
        requestId: 'order-a',
        medication: ketamine({ concentrationMgPerMl: 2 }),
      })
      .order({ id: 'order-a', medication: ketamine({ concentrationMgPerMl: 2 }) })
      .pains([8, h(12)], [2, h(1)]);

  it("O5 a draft without a strength is computed with the active order's 2 mg/mL, not the default", () => {
    const card = orderCardFor(holdingOnA2MgPerMlBag().build(), mgkgh(0.3), null);
    expect(card.extension?.['ketamine-protocol'].ruleId).toBe('O5');
    expect(card.detail).toContain(
      'protocol rate 0.2 mg/kg/h = 14 mg/h at 70 kg = 7 mL/h at 2 mg/mL (strength of the active ketamine order)',
    );
    expect(card.detail).not.toContain('default concentration');
  });

  it("O3 a draft with its own strength is read and computed with it, said as the draft order's, not an administered one", () => {
    const card = orderCardFor(holdingOnA2MgPerMlBag().build(), qty(100, 'mL/h'), 1);
    expect(card.extension?.['ketamine-protocol'].ruleId).toBe('O3');
    expect(card.detail).toContain(
      "draft 1.43 mg/kg/h (100 mL/h × 1 mg/mL ÷ 70 kg = 1.43 mg/kg/h (strength of the draft order's Medication))",
    );
    expect(card.detail).toContain("= 14 mL/h at 1 mg/mL (strength of the draft order's Medication)");
    // The running bag's own line (Inputs) may speak of the administered Medication; the draft's never does.
    expect((card.detail ?? '').split('**Inputs**')[0]).not.toContain('administered');
  });
});

describe('an order card says the protocol rate, never the draft, in its calculation', () => {
  /** The **Calculation** line of an order card's detail. */
  const calculation = (card: Card) => (card.detail ?? '').split('\n').find((l) => l.startsWith('**Calculation**'));
  const titrating = () => running().pains([8, h(8)], [7, m(20)]);

  it('O6 a draft of 0.8 while 0.2 runs: the calculation never puts the draft and the protocol rate around an arrow', () => {
    const card = orderCardFor(titrating().build(), mgkgh(0.8), 2);
    expect(card.extension?.['ketamine-protocol'].ruleId).toBe('O6');
    // The line above names all three rates: what was drafted, what the protocol allows, what runs.
    expect(card.detail).toContain('draft 0.8 mg/kg/h; protocol allows 0.3 mg/kg/h now (running 0.2 mg/kg/h;');
    expect(calculation(card)).toBe(
      "**Calculation**: protocol rate 0.3 mg/kg/h = 21 mg/h at 70 kg = 10.5 mL/h at 2 mg/mL (strength of the draft order's Medication)",
    );
    expect(card.detail).not.toContain('→');
  });

  it.each([
    ['O3', titrating(), mgkgh(1.5), 'protocol rate 0.3 mg/kg/h = 21 mg/h at 70 kg'],
    ['O4', patient().pains([9, h(1)], [9, m(10)]), mgkgh(0.3), 'protocol rate 0.1 mg/kg/h = 7 mg/h at 70 kg'],
    [
      'O5',
      running().pains([8, h(8)], [2, m(20)]),
      mgkgh(0.3),
      'protocol rate 0.2 mg/kg/h = 14 mg/h at 70 kg; no bag strength on the record',
    ],
  ])('%s the calculation says the protocol rate alone, with no arrow from the draft', (rule, builder, rate, line) => {
    const card = orderCardFor(builder.build(), rate, null);
    expect(card.extension?.['ketamine-protocol'].ruleId).toBe(rule);
    expect(calculation(card)).toContain(`**Calculation**: ${line}`);
    expect(card.detail).not.toContain('→');
  });

  it('O5 a draft above the running rate when the protocol stops (T5): the calculation says the infusion stops, no arrow', () => {
    const card = orderCardFor(
      patient()
        .infusion([
          [0.1, h(30)],
          [0.2, h(26)],
          [0.4, h(20)],
          [0.2, h(5)],
        ])
        .pains([9, h(31)], [3, h(19)], [2, h(12)], [2, h(6)], [1, m(10)])
        .build(),
      mgkgh(0.3),
      null,
    );
    expect(card.extension?.['ketamine-protocol']).toMatchObject({ ruleId: 'O5', action: 'stop' });
    expect(calculation(card)).toBe(
      '**Calculation**: protocol rate 0 mg/kg/h: the protocol stops the infusion, so there is no pump rate to set',
    );
    expect(card.detail).not.toContain('→');
  });
});
