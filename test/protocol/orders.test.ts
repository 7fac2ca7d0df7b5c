import { decide, type DecisionContext } from '../../src/protocol/decide';
import { checkDraftOrder, type DraftOrder } from '../../src/protocol/orders';
import type { ChartedRate } from '../../src/protocol/facts';
import {
  NOW,
  h,
  ketamine,
  mgkgh,
  orderSelect,
  orderSign,
  params,
  patient,
  patientView,
  qty,
  type Patient,
} from './builders';

const DRAFT = 'draft-1';
const draft = (
  rate: ChartedRate | null,
  concentrationMgPerMl: number | null = null,
  strengthUnreadable: string | null = null,
): DraftOrder => ({
  id: DRAFT,
  rate,
  concentrationMgPerMl,
  ...(strengthUnreadable === null ? {} : { strengthUnreadable }),
});
/** The ids of every finding on a check, most severe first. */
const ids = (c: { findings?: Array<{ ruleId: string }> }) => (c.findings ?? []).map((f) => f.ruleId);

/** Decide on the order hook with the draft in the record, then check the draft. */
const check = (
  p: Patient,
  rate: ChartedRate | null,
  context: DecisionContext = orderSelect(DRAFT),
  concentration: number | null = null,
) => {
  const facts = p.order({ id: DRAFT, status: 'draft', rate }).build();
  const rec = decide(facts, params, NOW, context);
  return { rec, check: checkDraftOrder(draft(rate, concentration), rec, params, context.hook) };
};

/** Running at `rate` since 5 h, pain 7/10 an hour ago: the protocol suggests rate + 0.1. */
const running = (rate: number) =>
  patient()
    .pains([8, h(11)], [7, h(1)])
    .infusion([
      [0.1, h(10)],
      [rate, h(5)],
    ]);

describe('O1 contraindicated', () => {
  it('O1 a draft for a patient with a positive pregnancy test: critical, suggestion delete the draft', () => {
    const { check: c } = check(patient().pregnancyTest('positive'), mgkgh(0.1));
    expect(c).toMatchObject({
      ruleId: 'O1',
      indicator: 'critical',
      suggestion: 'delete',
      suggestedRate: null,
      draftId: DRAFT,
    });
  });
  it('O1 comes before O0: even a draft without a readable rate is to be deleted', () => {
    expect(check(patient().psychosis(), null).check.ruleId).toBe('O1');
  });
});

describe('O0 unreadable draft rate', () => {
  it.each<[string, ChartedRate | null]>([
    ['no rate', null],
    ['an unknown unit', qty(5, 'mcg/kg/min')],
  ])('O0 %s: warning, no suggestion, the reason said', (_s, rate) => {
    const { check: c } = check(patient(), rate);
    expect(c).toMatchObject({ ruleId: 'O0', indicator: 'warning', draftRate: null, suggestion: null });
    expect(c.notes.join(' ')).toContain('could not be read');
  });
});

describe('O2 needs-data for a start', () => {
  it('O2 a start draft while the EKG is missing: warning (the recommendation lists what is missing)', () => {
    const { rec, check: c } = check(patient().noEkg(), mgkgh(0.1));
    expect(c).toMatchObject({ ruleId: 'O2', indicator: 'warning', suggestion: null });
    expect(rec.missing.map((x) => x.code)).toEqual(['ekg-missing']);
  });
});

describe('O3 above the hard maximum', () => {
  it('O3 a running infusion with a draft of 1.1 mg/kg/h: critical, set to the recommended 0.3', () => {
    const { check: c } = check(running(0.2), mgkgh(1.1));
    expect(c).toMatchObject({
      ruleId: 'O3',
      indicator: 'critical',
      draftRate: 1.1,
      suggestion: 'set-rate',
      suggestedRate: 0.3,
    });
    expect(c.arithmetic).toMatchObject({ toRate: 0.3, mgPerHour: 21 });
  });
  it('O3 a new start drafted at 80 mg/h for 70 kg (1.14 mg/kg/h): critical, set to the start rate 0.1', () => {
    const { check: c } = check(patient(), qty(80, 'mg/h'));
    expect(c).toMatchObject({
      ruleId: 'O3',
      indicator: 'critical',
      draftRate: 1.14,
      suggestedRate: 0.1,
      draftCharted: '80 mg/h',
    });
  });
  it('exactly 1.0 is not above the hard maximum (O6 applies instead when it is more than one step)', () => {
    expect(check(running(0.2), mgkgh(1)).check.ruleId).toBe('O6');
  });
});

describe('O4 a start at another rate than startRate', () => {
  it.each<[string, ChartedRate, number | null]>([
    ['0.2 mg/kg/h', mgkgh(0.2), null],
    ['14 mL/h at 1 mg/mL and 70 kg (0.2 mg/kg/h)', qty(14, 'mL/h'), null],
    ['7 mL/h of 2 mg/mL at 70 kg (0.2 mg/kg/h)', qty(7, 'mL/h'), 2],
  ])('O4 a start drafted at %s: warning, set to 0.1', (_s, rate, conc) => {
    const { check: c } = check(patient(), rate, orderSelect(DRAFT), conc);
    expect(c).toMatchObject({
      ruleId: 'O4',
      indicator: 'warning',
      draftRate: 0.2,
      suggestion: 'set-rate',
      suggestedRate: 0.1,
    });
  });
  it.each<[string, ChartedRate]>([
    ['0.1 mg/kg/h', mgkgh(0.1)],
    ['7 mg/h at 70 kg', qty(7, 'mg/h')],
    ['7 mL/h at the default 1 mg/mL and 70 kg', qty(7, 'mL/h')],
    ['0.104 mg/kg/h (within tolerance)', mgkgh(0.104)],
  ])('a start drafted at %s is consistent: no card', (_s, rate) => {
    expect(check(patient(), rate).check).toMatchObject({ ruleId: null, indicator: null, suggestion: null });
  });
  it('O4 after a completed infusion a new draft is judged as a new start', () => {
    const ended = patient().infusion(
      [
        [0.1, h(20)],
        [0.3, h(10)],
      ],
      { end: h(3) },
    );
    expect(check(ended, mgkgh(0.3)).check).toMatchObject({ ruleId: 'O4', suggestedRate: 0.1 });
  });
});

describe('O5 above the current rate when the protocol does not suggest an increase', () => {
  const tooSoon = () =>
    running(0.2).with((f) =>
      f.administrations.push({ ...f.administrations[1]!, id: 'again', start: h(1), rate: mgkgh(0.25) }),
    );

  it('O5 during T1 (hold at 0.25) a draft of 0.35 is a warning on order-select, set to the current 0.25', () => {
    const { rec, check: c } = check(tooSoon(), mgkgh(0.35));
    expect(rec.ruleId).toBe('T1');
    expect(c).toMatchObject({ ruleId: 'O5', indicator: 'warning', suggestion: 'set-rate', suggestedRate: 0.25 });
  });
  it('O5 the same draft on order-sign is critical', () => {
    expect(check(tooSoon(), mgkgh(0.35), orderSign(DRAFT)).check).toMatchObject({
      ruleId: 'O5',
      indicator: 'critical',
    });
  });
  it('O5 when the recommendation names no rate (T2 needs-data) the suggestion is the current rate', () => {
    const { rec, check: c } = check(running(0.2).pains([8, h(11)]), mgkgh(0.3));
    expect(rec.ruleId).toBe('T2');
    expect(c).toMatchObject({ ruleId: 'O5', suggestedRate: 0.2 });
  });
  it('O5 during an A1 decrease a draft above the current rate is set to the decreased rate', () => {
    const { check: c } = check(running(0.3).effect(h(1)), mgkgh(0.4), orderSign(DRAFT));
    expect(c).toMatchObject({ ruleId: 'O5', indicator: 'critical', suggestedRate: 0.2 });
  });
  it('O5 when the protocol says stop, the draft above the current rate is to be deleted', () => {
    const { rec, check: c } = check(
      patient()
        .infusion([[0.1, h(2)]])
        .effect(h(1)),
      mgkgh(0.2),
    );
    expect(rec.action).toBe('stop');
    expect(c).toMatchObject({ ruleId: 'O5', suggestion: 'delete', suggestedRate: 0 });
  });
});

describe('O6 more than one step above the current rate', () => {
  it('O6 current 0.2, protocol suggests 0.3, draft 0.4: warning on order-select, set to 0.3', () => {
    const { rec, check: c } = check(running(0.2), mgkgh(0.4));
    expect(rec.action).toBe('increase');
    expect(c).toMatchObject({ ruleId: 'O6', indicator: 'warning', suggestedRate: 0.3 });
  });
  it('O6 the same draft on order-sign is critical', () => {
    expect(check(running(0.2), mgkgh(0.4), orderSign(DRAFT)).check).toMatchObject({
      ruleId: 'O6',
      indicator: 'critical',
    });
  });
  it('O6 0.31 is more than one step (beyond tolerance) above 0.2', () => {
    expect(check(running(0.2), mgkgh(0.31)).check.ruleId).toBe('O6');
  });
  it.each<[string, ChartedRate]>([
    ['the recommended 0.3', mgkgh(0.3)],
    ['0.304 (within tolerance of 0.3)', mgkgh(0.304)],
    ['21 mg/h at 70 kg (0.3)', qty(21, 'mg/h')],
    ['0.25, a smaller step', mgkgh(0.25)],
    ['the current 0.2', mgkgh(0.2)],
    ['a decrease to 0.1', mgkgh(0.1)],
  ])('a draft at %s is consistent: no card', (_s, rate) => {
    expect(check(running(0.2), rate).check.ruleId).toBeNull();
  });
});

describe('decreases and scope', () => {
  it('a decrease is always allowed, even during a hold', () => {
    expect(check(running(0.4).pains([8, h(11)], [2, h(1)]), mgkgh(0.2), orderSign(DRAFT)).check.ruleId).toBeNull();
  });
  it('P0: without a chronic-migraine diagnosis the draft is not this protocol’s to check', () => {
    expect(check(patient().noMigraine(), mgkgh(0.8)).check).toMatchObject({ ruleId: null, suggestion: null });
  });
});

describe('severity order: one check lists every finding that applies (v1.1: O1, O0, O3, O2, O4, O5, O6)', () => {
  it('O3 comes before O2: a start drafted above the hard maximum while data is missing is critical, without a rate suggestion', () => {
    const { check: c } = check(patient().noEkg(), mgkgh(1.5));
    expect(c).toMatchObject({ ruleId: 'O3', indicator: 'critical', suggestion: null, suggestedRate: null });
    expect(ids(c)).toEqual(['O3', 'O2', 'O4']);
  });

  it('O1 with O3 and O4: a 1.5 mg/kg/h draft under S1 lists all three; critical, the suggestion deletes the draft', () => {
    const { rec, check: c } = check(patient().psychosis(), mgkgh(1.5));
    expect(rec.ruleId).toBe('S1');
    expect(c).toMatchObject({ ruleId: 'O1', indicator: 'critical', suggestion: 'delete', suggestedRate: null });
    expect(ids(c)).toEqual(['O1', 'O3', 'O4']);
    // No finding suggests a rate for a contraindicated start.
    expect(c.findings?.slice(1).map((f) => f.suggestion)).toEqual([null, null]);
  });

  it('O1 with O4: a 0.2 mg/kg/h draft under S1 lists O1 and O4', () => {
    expect(ids(check(patient().pregnancyTest('positive'), mgkgh(0.2)).check)).toEqual(['O1', 'O4']);
  });

  it('O1 alone: a draft at the start rate under S1', () => {
    expect(ids(check(patient().psychosis(), mgkgh(0.1)).check)).toEqual(['O1']);
  });

  it('O0 with O2: a draft without a readable rate while the EKG is missing lists both (the rate findings cannot apply)', () => {
    const { rec, check: c } = check(patient().noEkg(), null);
    expect(c).toMatchObject({ ruleId: 'O0', indicator: 'warning', suggestion: null, reason: 'draft-rate-unreadable' });
    expect(ids(c)).toEqual(['O0', 'O2']);
    expect(rec.missing.map((x) => x.code)).toEqual(['ekg-missing']);
  });

  it('O1 with O0: a draft without a readable rate under S1 lists O1 then O0', () => {
    expect(ids(check(patient().psychosis(), null).check)).toEqual(['O1', 'O0']);
  });
});

describe('§1 a draft whose bag strength is charted but unusable: O0, never read with the default', () => {
  it.each<[string, number | null, string | null, string]>([
    ['100 mg / 0 mL', null, '100 mg / 0 mL', '100 mg / 0 mL'],
    ['-100 mg / 100 mL', null, '-100 mg / 100 mL', '-100 mg / 100 mL'],
    ['1e308 mg / 1e-308 mL (not finite)', null, '1e+308 mg / 1e-308 mL', '1e+308 mg / 1e-308 mL'],
    ['0 mg/mL', 0, null, '0 mg/mL'],
    ['a negative strength', -1, null, '-1 mg/mL'],
  ])('O0 an 8 mL/h start draft of a bag charted at %s: unreadable, the strength named', (_s, conc, text, named) => {
    const rec = decide(
      patient()
        .order({ id: DRAFT, status: 'draft', rate: qty(8, 'mL/h') })
        .build(),
      params,
      NOW,
      orderSelect(DRAFT),
    );
    const c = checkDraftOrder(draft(qty(8, 'mL/h'), conc, text), rec, params, 'order-select');
    expect(c).toMatchObject({ ruleId: 'O0', draftRate: null, unreadable: { strength: named } });
    expect(c.notes.join(' ')).toContain(`(${named}) cannot be read`);
  });

  it('O0 an 8 mL/h draft of a bag charted at 1e308 mg/mL: an implausible rate, taken as a charting error', () => {
    const { check: c } = check(patient(), qty(8, 'mL/h'), orderSelect(DRAFT), 1e308);
    expect(c).toMatchObject({ ruleId: 'O0', draftRate: null });
    expect(c.notes.join(' ')).toContain('highest plausible rate');
  });

  it('O0 an 8 mL/h draft of a bag charted at 1e-308 mg/mL reads as less than 0.01 mg/kg/h: a charting error, not a decrease', () => {
    const { check: c } = check(running(0.2), qty(8, 'mL/h'), orderSelect(DRAFT), 1e-308);
    expect(c).toMatchObject({ ruleId: 'O0', draftRate: null });
    expect(c.notes.join(' ')).toContain('reads as less than');
  });

  it('O0 a draft without its own strength while the active order’s strength cannot be read: unreadable, not the default', () => {
    const p = running(0.2)
      .order({ id: 'order-b', medication: ketamine({ strengthUnreadable: '100 mg / 0 mL' }) })
      .order({ id: DRAFT, status: 'draft', rate: qty(14, 'mL/h') });
    const rec = decide(p.build(), params, NOW, orderSelect(DRAFT));
    const c = checkDraftOrder(draft(qty(14, 'mL/h')), rec, params, 'order-select');
    expect(c).toMatchObject({ ruleId: 'O0', draftRate: null, unreadable: { strength: '100 mg / 0 mL' } });
  });

  it('an 8 mL/h start draft with no strength charted anywhere is read with the default 1 mg/mL at 70 kg (0.11): O4', () => {
    expect(check(patient(), qty(8, 'mL/h')).check).toMatchObject({
      ruleId: 'O4',
      draftReading: { concentrationFrom: 'default' },
    });
  });
});

describe('§8 a new start after an adverse effect at the start rate is a re-challenge: listed as S3 (warning) after the order findings', () => {
  /** Course 1 at `rate` ended 30 h ago, with hallucinations charted 31 h ago; pain 7/10 an hour ago. */
  const afterEffect = (rate = 0.1) =>
    patient()
      .pains([7, h(1)])
      .infusion([[rate, h(40)]], { end: h(30) })
      .effect(h(31));

  it.each<[string, DecisionContext]>([
    ['order-select', orderSelect(DRAFT)],
    ['order-sign', orderSign(DRAFT)],
  ])(
    'S3 on %s a draft at the start rate gets a warning finding, no suggestion; the effects named on the recommendation',
    (_hook, context) => {
      const { rec, check: c } = check(afterEffect(), mgkgh(0.1), context);
      expect(rec).toMatchObject({ ruleId: 'S3', action: 'start', indicator: 'warning', maxToleratedRate: 0 });
      expect(rec.rechallenge).toEqual({
        maxToleratedRate: 0,
        effects: [{ time: h(31), display: 'Hallucinations', atRate: 0.1, psychotomimetic: true }],
      });
      expect(c).toMatchObject({ ruleId: 'S3', indicator: 'warning', reason: 're-challenge', suggestion: null });
      expect(ids(c)).toEqual(['S3']);
    },
  );

  it('O4 then S3: a draft at 0.2 leads with O4 (set to the start rate) and lists the re-challenge after it', () => {
    const { check: c } = check(afterEffect(), mgkgh(0.2));
    expect(c).toMatchObject({ ruleId: 'O4', indicator: 'warning', suggestion: 'set-rate', suggestedRate: 0.1 });
    expect(ids(c)).toEqual(['O4', 'S3']);
  });

  it('O3, O4 then S3: a draft above the hard maximum is critical, the re-challenge still listed', () => {
    const { check: c } = check(afterEffect(), mgkgh(1.5));
    expect(c).toMatchObject({ ruleId: 'O3', indicator: 'critical' });
    expect(ids(c)).toEqual(['O3', 'O4', 'S3']);
  });

  it('O0 then S3: a draft without a readable rate is a re-challenge all the same', () => {
    expect(ids(check(afterEffect(), null).check)).toEqual(['O0', 'S3']);
  });

  it('an effect at 0.3 (max tolerated 0.2, above the start rate) is no re-challenge: a draft at the start rate gets no card', () => {
    const { rec, check: c } = check(afterEffect(0.3), mgkgh(0.1));
    expect(rec).toMatchObject({ ruleId: 'S3', indicator: 'info', maxToleratedRate: 0.2 });
    expect(rec.rechallenge).toBeUndefined();
    expect(c.ruleId).toBeNull();
  });

  it('X1 on patient-view the completed course carries the re-challenge (the effect, its time and rate)', () => {
    const rec = decide(afterEffect().build(), params, NOW, patientView);
    expect(rec).toMatchObject({
      ruleId: 'X1',
      indicator: 'info',
      rechallenge: { maxToleratedRate: 0, effects: [{ atRate: 0.1, time: h(31) }] },
    });
    expect(decide(afterEffect(0.3).build(), params, NOW, patientView).rechallenge).toBeUndefined();
  });
});

describe('a draft cannot be checked against a running rate that cannot be read', () => {
  const unreadable = () =>
    patient()
      .pains([8, h(12)], [7, h(1)])
      .admin({ start: h(5), rate: qty(5, 'mcg/kg/min') })
      .order({ id: 'draft-1', status: 'draft', rate: mgkgh(0.9) });

  it.each<[string, DecisionContext, 'warning' | 'critical']>([
    ['order-select: warning', orderSelect('draft-1'), 'warning'],
    ['order-sign: critical', orderSign('draft-1'), 'critical'],
  ])(
    'O0 a draft of 0.9 mg/kg/h (≤ the hard maximum) while the running rate is unreadable, on %s, no rate suggestion',
    (_hook, context, indicator) => {
      const rec = decide(unreadable().build(), params, NOW, context);
      expect(rec.currentRate).toBeNull();
      const c = checkDraftOrder(
        { id: 'draft-1', rate: mgkgh(0.9), concentrationMgPerMl: null },
        rec,
        params,
        context.hook,
      );
      expect(c).toMatchObject({
        ruleId: 'O0',
        indicator,
        reason: 'current-rate-unreadable',
        draftRate: 0.9,
        suggestedRate: null,
        suggestion: null,
      });
      expect(c.notes.join(' ')).toContain('running rate could not be read');
    },
  );

  it('O3 still comes first: a draft above the hard maximum is critical even when the running rate is unreadable', () => {
    const rec = decide(unreadable().build(), params, NOW, orderSelect('draft-1'));
    const c = checkDraftOrder(
      { id: 'draft-1', rate: mgkgh(1.5), concentrationMgPerMl: null },
      rec,
      params,
      'order-select',
    );
    expect(c).toMatchObject({ ruleId: 'O3', indicator: 'critical' });
  });
});

describe('the draft rate is read with the same concentration lookup', () => {
  it('a draft of 14 mL/h without its own strength is read with the active order’s 0.5 mg/mL: 0.1 mg/kg/h, within one step of 0.05 (no O6), said in a note', () => {
    const p = patient()
      .pains([8, h(12)], [7, h(1)])
      .infusion([[0.05, h(5)]])
      .order({ id: 'order-b', medication: ketamine({ concentrationMgPerMl: 0.5 }) })
      .order({ id: 'draft-1', status: 'draft', rate: qty(14, 'mL/h') });
    const rec = decide(p.build(), params, NOW, orderSelect('draft-1'));
    const c = checkDraftOrder(
      { id: 'draft-1', rate: qty(14, 'mL/h'), concentrationMgPerMl: null },
      rec,
      params,
      'order-select',
    );
    expect(c).toMatchObject({ ruleId: null, draftRate: 0.1, draftReading: { concentrationFrom: 'active-order' } });
    expect(c.notes.join(' ')).toContain("active order's 0.5 mg/mL");
  });
});
