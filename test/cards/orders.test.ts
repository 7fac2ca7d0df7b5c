import type { MedicationRequest } from 'fhir/r4';
import { buildCards } from '../../src/cards/build';
import { DOSE_RATE_TYPE_SYSTEM, UCUM_SYSTEM } from '../../src/cards/suggestions';
import type { Card } from '../../src/cards/types';
import type { OrderCheck } from '../../src/protocol/recommendation';
import {
  build,
  draft,
  input,
  notStarted,
  only,
  orderCheck,
  params,
  PLAN_DEFINITION_URL,
  recommendation,
} from './fixtures';

const ext = (card: Card) => card.extension?.['ketamine-protocol'];
const firstAction = (card: Card) => card.suggestions?.[0]?.actions?.[0];

function orderCards(
  check: Partial<OrderCheck>,
  over: Parameters<typeof input>[0] = {},
  hook: 'order-select' | 'order-sign' = 'order-select',
) {
  const c = orderCheck(check);
  return build({ hook, orderChecks: [c], drafts: { [c.draftId]: draft(c.draftId) }, ...over });
}

describe('order-select / order-sign cards from order checks', () => {
  it('a draft consistent with the protocol gets no card', () => {
    const cards = orderCards({
      ruleId: null,
      indicator: null,
      suggestedRate: null,
      suggestion: null,
      arithmetic: null,
      draftRate: 0.3,
    });
    expect(cards).toEqual([]);
  });

  it('on order hooks the recommendation itself gives no card: only checks with a rule do', () => {
    const checks = [
      orderCheck({ draftId: 'draft-1' }),
      orderCheck({ draftId: 'draft-2', ruleId: null, indicator: null, suggestion: null, suggestedRate: null }),
    ];
    const cards = build({
      hook: 'order-sign',
      orderChecks: checks,
      drafts: { 'draft-1': draft('draft-1'), 'draft-2': draft('draft-2') },
    });
    expect(cards).toHaveLength(1);
    expect(ext(cards[0] as Card)?.ruleId).toBe('O6');
  });

  describe('O6 a draft more than one step above the current rate', () => {
    const card = only(orderCards({}, {}, 'order-sign'));

    it('O6 summary suggests the recommended rate instead of the draft', () => {
      expect(card.summary).toBe(
        `Protocol suggests 0.3 mg/kg/h instead of the draft 0.8 mg/kg/h: more than one ${params.escalationStep} step`,
      );
      expect(card.indicator).toBe('warning');
    });

    it('O6 detail names the draft as charted, the rule, the arithmetic and the recommendation it was judged against', () => {
      const d = card.detail ?? '';
      expect(d).toContain('draft 0.8 mg/kg/h; protocol allows 0.3 mg/kg/h now (running 0.2 mg/kg/h');
      expect(d).toContain('Rule O6');
      expect(d).toContain('**Calculation**: protocol rate 0.3 mg/kg/h = 21 mg/h at 70 kg = 21 mL/h at 1 mg/mL');
      expect(d).toContain('protocol allows 0.3 mg/kg/h now (running 0.2 mg/kg/h; rule T8, Titration step)');
      expect(d).toContain('Current rate: 0.2 mg/kg/h');
    });

    it('O6 suggestion updates the WHOLE draft with only the rate replaced (ordered mg/kg/h + calculated mg/h) and the protocol traced', () => {
      const action = firstAction(card);
      expect(action?.type).toBe('update');
      const original = draft('draft-1');
      const updated = action?.resource as MedicationRequest;
      const { dosageInstruction: originalDosage, ...originalRest } = original;
      const { dosageInstruction: updatedDosage, ...updatedRest } = updated;
      expect(updatedRest).toEqual({
        ...originalRest,
        instantiatesCanonical: [`${PLAN_DEFINITION_URL}|${params.protocolVersion}`],
      });
      expect(updatedDosage).toHaveLength(1);
      expect(updatedDosage?.[0]?.route).toEqual(originalDosage?.[0]?.route);
      expect(updatedDosage?.[0]?.doseAndRate).toEqual([
        {
          type: { coding: [{ system: DOSE_RATE_TYPE_SYSTEM, code: 'ordered', display: 'Ordered' }] },
          rateQuantity: { value: 0.3, unit: 'mg/kg/h', system: UCUM_SYSTEM, code: 'mg/kg/h' },
        },
        {
          type: { coding: [{ system: DOSE_RATE_TYPE_SYSTEM, code: 'calculated', display: 'Calculated' }] },
          rateQuantity: { value: 21, unit: 'mg/h', system: UCUM_SYSTEM, code: 'mg/h' },
        },
      ]);
      expect(updatedDosage?.[0]?.text).toContain('0.3 mg/kg/h');
      expect(updatedDosage?.[0]?.text).not.toContain('0.8');
      expect(card.selectionBehavior).toBe('at-most-one');
      expect(card.overrideReasons?.length).toBeGreaterThan(0);
    });

    it('O6 extension: the O-rule, the recommendation action/phase/current rate, the suggested and the draft rate', () => {
      expect(ext(card)).toEqual({
        ruleId: 'O6',
        action: 'increase',
        phase: 'titration',
        currentRate: 0.2,
        recommendedRate: 0.3,
        unit: 'mg/kg/h',
        draftRate: 0.8,
        nextReviewAt: '2026-11-24T12:00:00Z',
        maxToleratedRate: null,
        protocolVersion: params.protocolVersion,
      });
    });
  });

  it('O6 the corrected draft is traced to the protocol: its own instantiatesCanonical entries kept, the PlanDefinition added once', () => {
    const ours = `${PLAN_DEFINITION_URL}|${params.protocolVersion}`;
    const local = 'https://hospital.example.org/fhir/PlanDefinition/ketamine-order-set|3';
    const canonicalsAfter = (instantiatesCanonical: string[]) => {
      const c = orderCheck();
      const card = only(
        build({
          hook: 'order-select',
          orderChecks: [c],
          drafts: { 'draft-1': draft('draft-1', { instantiatesCanonical }) },
        }),
      );
      return (firstAction(card)?.resource as MedicationRequest).instantiatesCanonical;
    };
    expect(canonicalsAfter([local])).toEqual([local, ours]);
    expect(canonicalsAfter([ours, local])).toEqual([ours, local]);
  });

  it('O6 keeps a dose entry and strips a rate drafted as mL/h in a second entry', () => {
    const d = draft('draft-1', {
      dosageInstruction: [
        {
          text: 'old',
          doseAndRate: [
            { doseQuantity: { value: 50, unit: 'mg' } },
            { rateQuantity: { value: 56, unit: 'mL/h', code: 'mL/h', system: UCUM_SYSTEM } },
          ],
        },
      ],
    });
    const c = orderCheck({ draftCharted: '56 mL/h' });
    const card = only(build({ hook: 'order-select', orderChecks: [c], drafts: { 'draft-1': d } }));
    const rates = (firstAction(card)?.resource as MedicationRequest).dosageInstruction?.[0]?.doseAndRate ?? [];
    expect(rates.map((r) => r.rateQuantity?.unit ?? r.doseQuantity?.unit)).toEqual(['mg/kg/h', 'mg/h', 'mg']);
    expect(card.detail).toContain('draft 0.8 mg/kg/h (56 mL/h');
  });

  it('O5 on order-sign is critical and suggests the current rate when no increase is due', () => {
    const rec = recommendation({ ruleId: 'T1', action: 'hold', recommendedRate: 0.2, arithmetic: null });
    const card = only(
      orderCards(
        {
          ruleId: 'O5',
          indicator: 'critical',
          draftRate: 0.3,
          draftCharted: '21 mg/h',
          suggestedRate: 0.2,
          arithmetic: null,
        },
        { recommendation: rec },
        'order-sign',
      ),
    );
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe('Protocol suggests 0.2 mg/kg/h instead of the draft 0.3 mg/kg/h: no increase is due now');
    const updated = firstAction(card)?.resource as MedicationRequest;
    expect(updated.dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity?.value).toBe(0.2);
    // mg/h computed from the dosing weight when the check carries no arithmetic.
    expect(updated.dosageInstruction?.[0]?.doseAndRate?.[1]?.rateQuantity?.value).toBe(14);
    expect(ext(card)).toMatchObject({ ruleId: 'O5', action: 'hold', recommendedRate: 0.2, draftRate: 0.3 });
  });

  it('O3 a draft above the hard maximum is critical and names the maximum', () => {
    const card = only(orderCards({ ruleId: 'O3', indicator: 'critical', draftRate: 1.5, draftCharted: '105 mg/h' }));
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe(
      `Protocol suggests 0.3 mg/kg/h: the draft 1.5 mg/kg/h exceeds the ${params.hardMaxRate} mg/kg/h maximum`,
    );
    expect(card.detail).toContain(`hard maximum of ${params.hardMaxRate} mg/kg/h`);
    expect(firstAction(card)?.type).toBe('update');
  });

  it('O4 a start drafted off the start rate suggests the start rate', () => {
    const rec = notStarted();
    const card = only(
      orderCards(
        {
          ruleId: 'O4',
          draftRate: 0.3,
          draftCharted: '0.3 mg/kg/h',
          suggestedRate: params.startRate,
          arithmetic: {
            fromRate: 0.3,
            toRate: 0.1,
            step: null,
            weightKg: 70,
            mgPerHour: 7,
            concentrationMgPerMl: 1,
            concentrationSource: 'default',
            mlPerHour: 7,
          },
        },
        { recommendation: rec },
      ),
    );
    expect(card.summary).toBe(
      `Protocol suggests starting ketamine at ${params.startRate} mg/kg/h instead of the draft 0.3 mg/kg/h`,
    );
    expect(card.detail).toContain('- [x] Written informed consent on file');
    expect(ext(card)).toMatchObject({
      ruleId: 'O4',
      action: 'start',
      phase: 'not-started',
      recommendedRate: params.startRate,
      draftRate: 0.3,
    });
  });

  it('O1 while contraindicated is critical and suggests deleting the draft', () => {
    const rec = notStarted({
      ruleId: 'S1',
      action: 'contraindicated',
      indicator: 'critical',
      recommendedRate: null,
      arithmetic: null,
      contraindications: [{ code: 'ketamine-allergy', display: 'Ketamine (substance) allergy', time: '2020-01-01' }],
    });
    const card = only(
      orderCards(
        {
          ruleId: 'O1',
          indicator: 'critical',
          suggestion: 'delete',
          suggestedRate: null,
          arithmetic: null,
          draftRate: 0.1,
        },
        { recommendation: rec },
      ),
    );
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe('Protocol advises against ordering ketamine: ketamine allergy or intolerance');
    expect(card.detail).toContain('ketamine allergy or intolerance: Ketamine (substance) allergy');
    expect(firstAction(card)).toEqual({
      type: 'delete',
      description: expect.stringContaining('draft-1'),
      resourceId: 'MedicationRequest/draft-1',
    });
    expect(ext(card)).toMatchObject({ ruleId: 'O1', action: 'contraindicated', recommendedRate: null, draftRate: 0.1 });
  });

  it('O2 while start data are missing lists every missing item and suggests nothing', () => {
    const rec = notStarted({
      ruleId: 'S2',
      action: 'needs-data',
      indicator: 'warning',
      recommendedRate: null,
      arithmetic: null,
      missing: [{ code: 'ekg-stale', since: '2026-10-01T09:00:00Z' }, { code: 'baseline-pain-missing' }],
    });
    const card = only(
      orderCards(
        { ruleId: 'O2', suggestion: null, suggestedRate: null, arithmetic: null, draftRate: 0.1 },
        { recommendation: rec },
      ),
    );
    expect(card.summary).toBe('Protocol suggests recording a current EKG and pain score before ordering ketamine');
    expect(card.detail).toContain(`EKG: last charted 2026-10-01 09:00 UTC, older than ${params.ekgMaxAgeDays} d`);
    expect(card.detail).toContain(`Baseline pain score: none within the last ${params.painMaxAgeHours} h`);
    expect(card.suggestions).toBeUndefined();
    expect(card.overrideReasons).toBeUndefined();
  });

  it('O0 an unreadable draft rate is a warning that says what was charted, with no suggestion', () => {
    const card = only(
      orderCards({
        ruleId: 'O0',
        suggestion: null,
        suggestedRate: null,
        arithmetic: null,
        draftRate: null,
        draftCharted: '5 [drp]/min',
        notes: ['Unknown rate unit [drp]/min'],
      }),
    );
    expect(card.indicator).toBe('warning');
    expect(card.summary).toMatch(/^Protocol could not read the rate of this ketamine order/);
    expect(card.detail).toContain('draft 5 \\[drp\\]/min');
    expect(card.detail).toContain('- Unknown rate unit \\[drp\\]/min');
    expect(card.suggestions).toBeUndefined();
    expect(ext(card)?.draftRate).toBeNull();
  });

  it('a set-rate check whose draft is not among the selected drafts keeps the card but suggests nothing', () => {
    const c = orderCheck({ draftId: 'missing-draft' });
    const card = only(build({ hook: 'order-select', orderChecks: [c], drafts: {} }));
    expect(card.suggestions).toBeUndefined();
  });

  it('one card per draft with a rule, each with its own uuids', () => {
    const checks = [
      orderCheck({ draftId: 'a' }),
      orderCheck({ draftId: 'b', ruleId: 'O3', indicator: 'critical', draftRate: 2 }),
    ];
    const cards = buildCards(
      input({ hook: 'order-sign', orderChecks: checks, drafts: { a: draft('a'), b: draft('b') } }),
    );
    expect(cards.map((c) => ext(c)?.ruleId)).toEqual(['O6', 'O3']);
    const uuids = cards.flatMap((c) => [c.uuid, ...(c.suggestions ?? []).map((s) => s.uuid)]);
    expect(new Set(uuids).size).toBe(4);
  });
});
