import fc from 'fast-check';
import { buildCards } from '../../src/cards/build';
import type { Card } from '../../src/cards/types';
import type {
  Action,
  ContraindicationCode,
  MissingCode,
  OrderCheck,
  OrderRuleId,
  Recommendation,
  RuleId,
} from '../../src/protocol/recommendation';
import { assertConformant } from '../../src/validation/response';
import { draft, input, recommendation } from './fixtures';

const RULE_ACTIONS: Array<[RuleId, Action]> = [
  ['S1', 'contraindicated'],
  ['S2', 'needs-data'],
  ['S3', 'start'],
  ['X1', 'completed'],
  ['A1', 'decrease'],
  ['A1', 'stop'],
  ['A2', 'decrease'],
  ['A2', 'stop'],
  ['D1', 'needs-data'],
  ['T1', 'hold'],
  ['T2', 'needs-data'],
  ['T3', 'hold'],
  ['T4', 'taper'],
  ['T5', 'stop'],
  ['T6', 'hold'],
  ['T7', 'hold'],
  ['T8', 'increase'],
];
const MISSING: MissingCode[] = [
  'weight-missing',
  'weight-stale',
  'weight-unreadable',
  'ekg-missing',
  'ekg-stale',
  'pregnancy-test-missing',
  'pregnancy-test-stale',
  'baseline-pain-missing',
  'pain-after-change-missing',
  'pain-stale',
  'rate-unreadable',
];
const CONTRA: Array<Exclude<ContraindicationCode, 'vital-breach'>> = [
  'pregnancy-test-positive',
  'pregnancy-test-equivocal',
  'pregnancy-condition',
  'psychosis',
  'ketamine-allergy',
  'under-min-age',
];
const ORDER_RULES: OrderRuleId[] = ['O0', 'O1', 'O2', 'O3', 'O4', 'O5', 'O6'];

/** Rates as the chart holds them: off-grid, with binary noise. */
const rate = fc.double({ min: 0.01, max: 2, noNaN: true });
const chartText = fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' });
const iso = fc
  .date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

const recArb: fc.Arbitrary<Recommendation> = fc
  .record({
    ruleAction: fc.constantFrom(...RULE_ACTIONS),
    current: rate,
    recommended: fc.option(rate, { nil: null }),
    missing: fc.uniqueArray(fc.constantFrom(...MISSING), { maxLength: MISSING.length }),
    contra: fc.array(
      fc.oneof(
        fc.record({ code: fc.constantFrom(...CONTRA), display: chartText, time: fc.option(iso, { nil: null }) }),
        fc.record({
          code: fc.constant('vital-breach' as const),
          vital: fc.record({
            kind: fc.constantFrom('sbp' as const, 'hr' as const, 'spo2' as const),
            value: fc.double({ min: 0, max: 300, noNaN: true }),
            unit: fc.constantFrom('mm[Hg]', '/min', '%'),
            time: iso,
            breach: fc.record({ bound: fc.constantFrom('high' as const, 'low' as const), limit: fc.nat(200) }),
          }),
          time: iso,
        }),
      ),
      { maxLength: CONTRA.length + 1 },
    ),
    notes: fc.array(chartText, { maxLength: 3 }),
    overdue: fc.boolean(),
    aboveSoftMax: fc.boolean(),
    nextReviewAt: fc.option(iso, { nil: null }),
    weight: fc.option(fc.double({ min: 30, max: 200, noNaN: true }), { nil: null }),
    activeOrderId: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), { nil: null }),
  })
  .map((r) =>
    recommendation({
      ruleId: r.ruleAction[0],
      action: r.ruleAction[1],
      phase: r.ruleAction[0].startsWith('S') ? 'not-started' : r.ruleAction[0] === 'X1' ? 'stopped' : 'titration',
      currentRate: r.current,
      recommendedRate: r.recommended,
      missing: r.missing.map((code) => ({ code, detail: 'x' })),
      contraindications: r.contra,
      notes: r.notes,
      overdue: r.overdue,
      aboveSoftMax: r.aboveSoftMax,
      nextReviewAt: r.nextReviewAt,
      weightKg: r.weight,
      arithmetic: null,
      activeOrderId: r.activeOrderId,
    }),
  );

const checkArb: fc.Arbitrary<OrderCheck> = fc.record({
  ruleId: fc.option(fc.constantFrom(...ORDER_RULES), { nil: null }),
  indicator: fc.option(fc.constantFrom('info' as const, 'warning' as const, 'critical' as const), { nil: null }),
  draftId: fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/),
  draftRate: fc.option(rate, { nil: null }),
  draftCharted: fc.option(chartText, { nil: null }),
  suggestedRate: fc.option(rate, { nil: null }),
  suggestion: fc.option(fc.constantFrom('delete' as const, 'set-rate' as const), { nil: null }),
  arithmetic: fc.constant(null),
  notes: fc.array(chartText, { maxLength: 2 }),
});

const summaries = (cards: Card[]) => cards.map((c) => c.summary);

describe('whatever the recommendation, the cards are conformant', () => {
  it('CH-C2 CH-C9 patient-view: summary < 140 characters, phrased as the protocol speaking, response conformant', () => {
    fc.assert(
      fc.property(recArb, (rec) => {
        const cards = buildCards(input({ recommendation: rec }));
        assertConformant({ cards });
        for (const summary of summaries(cards)) {
          expect([...summary].length).toBeLessThan(140);
          expect(summary).toMatch(/^Protocol /);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('CH-C2 CH-C9 order hooks: one card per check with a rule, each conformant', () => {
    fc.assert(
      fc.property(recArb, fc.uniqueArray(checkArb, { maxLength: 4, selector: (c) => c.draftId }), (rec, checks) => {
        const drafts = Object.fromEntries(checks.map((c) => [c.draftId, draft(c.draftId)]));
        const cards = buildCards(input({ hook: 'order-sign', recommendation: rec, orderChecks: checks, drafts }));
        expect(cards).toHaveLength(checks.filter((c) => c.ruleId !== null).length);
        assertConformant({ cards });
        for (const summary of summaries(cards)) expect([...summary].length).toBeLessThan(140);
      }),
      { numRuns: 200 },
    );
  });
});
