import { decide, type DecisionContext } from '../../src/protocol/decide';
import type { VitalKind } from '../../src/protocol/facts';
import type { Recommendation } from '../../src/protocol/recommendation';
import {
  NOW,
  d,
  h,
  ketamine,
  m,
  mgkgh,
  orderSelect,
  params,
  patient,
  patientView,
  qty,
  type Patient,
} from './builders';

const run = (p: Patient, context: DecisionContext = patientView): Recommendation =>
  decide(p.build(), params, NOW, context);
const codes = (r: Recommendation) => r.missing.map((x) => x.code);

/** A titrating infusion at `rate` since `changedHoursAgo`, with a high pain score `painHoursAgo` ago. */
const titrating = (rate: number, changedHoursAgo = 5, painHoursAgo = 1, pain = 7) =>
  patient()
    .pains([8, h(changedHoursAgo + 6)], [pain, h(painHoursAgo)])
    .infusion([
      [0.1, h(changedHoursAgo + 5)],
      [rate, h(changedHoursAgo)],
    ]);

/** An infusion in taper phase: pain ≤ 3 from 14 h to 5 h ago (9 h, reached), now at `rate` since 4 h, pain `pain` 1 h ago. */
const tapering = (rate: number, pain = 2) =>
  patient()
    .pains([9, h(30)], [3, h(14)], [2, h(9)], [2, h(5)], [pain, h(1)])
    .infusion([
      [0.1, h(28)],
      [0.2, h(24)],
      [0.3, h(20)],
      [0.42, h(16)],
      [rate, h(4)],
    ]);

describe('P0 out of scope', () => {
  it('P0 without an active chronic-migraine diagnosis the protocol says nothing (action none), even for an eligible patient', () => {
    const r = run(patient().noMigraine());
    expect(r).toMatchObject({ ruleId: 'P0', action: 'none', recommendedRate: null, phase: 'not-started' });
  });
  it('P0 whatever else is charted: a running infusion with a hallucination and a vital breach gets no protocol advice', () => {
    const r = run(titrating(0.3).noMigraine().effect(h(1)).vital('sbp', 200));
    expect(r).toMatchObject({
      ruleId: 'P0',
      action: 'none',
      recommendedRate: null,
      currentRate: 0.3,
      phase: 'titration',
    });
  });
});

describe('not started: when the candidate card shows on patient-view', () => {
  it.each(['IMP', 'ACUTE', 'NONAC'])('S3 shows when the context encounter is inpatient (class %s)', (classCode) => {
    expect(run(patient().encounter({ classCode, inpatient: true })).action).toBe('start');
  });
  it("whether an encounter is inpatient is the CQL's judgement (facts.inpatient), never re-read from its class code", () => {
    expect(run(patient().encounter({ classCode: 'IMP', inpatient: false })).action).toBe('none');
  });
  it('an outpatient context encounter (AMB) and no ketamine order: nothing shown (action none), said in a note', () => {
    const r = run(patient().encounter({ classCode: 'AMB', inpatient: false }));
    expect(r).toMatchObject({ ruleId: 'S3', action: 'none', recommendedRate: null });
    expect(r.notes.join(' ')).toContain('Not shown on patient-view');
  });
  it('without an encounterId in context, an in-progress inpatient encounter counts', () => {
    expect(run(patient(), { hook: 'patient-view', encounterId: null, draftOrderIds: [] }).action).toBe('start');
    expect(
      run(patient().encounter({ status: 'finished' }), { hook: 'patient-view', encounterId: null, draftOrderIds: [] })
        .action,
    ).toBe('none');
  });
  it.each(['active', 'draft'])('an %s ketamine order shows the card even without an inpatient encounter', (status) => {
    expect(
      run(patient().noEncounter().order({ id: 'o-1', status }), {
        hook: 'patient-view',
        encounterId: null,
        draftOrderIds: [],
      }).action,
    ).toBe('start');
  });
  it('on order-select the encounter does not matter', () => {
    expect(run(patient().noEncounter().order({ id: 'draft-1', status: 'draft' }), orderSelect('draft-1')).action).toBe(
      'start',
    );
  });
});

describe('S1 contraindicated (critical, no start suggestion)', () => {
  it.each<[string, (p: Patient) => Patient, string]>([
    ['a positive pregnancy test', (p) => p.pregnancyTest('positive'), 'pregnancy-test-positive'],
    ['a quantitative hCG of 25 IU/L (positive)', (p) => p.hcg(25), 'pregnancy-test-positive'],
    ['a quantitative hCG of 5 IU/L (equivocal)', (p) => p.hcg(5), 'pregnancy-test-equivocal'],
    ['a quantitative hCG of 24.9 IU/L (equivocal)', (p) => p.hcg(24.9), 'pregnancy-test-equivocal'],
    ['an active pregnancy condition', (p) => p.pregnant(), 'pregnancy-condition'],
    ['active schizophrenia', (p) => p.psychosis(), 'psychosis'],
    ['a ketamine allergy', (p) => p.ketamineAllergy(), 'ketamine-allergy'],
    ['age 17 (under 18)', (p) => p.age(17), 'under-min-age'],
    ['systolic 181 mm[Hg] (start deferred)', (p) => p.vital('sbp', 181), 'vital-breach'],
    ['SpO2 91 % (start deferred)', (p) => p.vital('spo2', 91), 'vital-breach'],
  ])('S1 %s', (_s, given, code) => {
    const r = run(given(patient()));
    expect(r).toMatchObject({
      ruleId: 'S1',
      action: 'contraindicated',
      indicator: 'critical',
      recommendedRate: null,
      arithmetic: null,
    });
    expect(r.contraindications.map((c) => c.code)).toContain(code);
  });

  it.each<[string, (p: Patient) => Patient]>([
    ['age exactly 18', (p) => p.age(18)],
    ['hCG 4.9 IU/L (negative)', (p) => p.hcg(4.9)],
    ['systolic exactly 180', (p) => p.vital('sbp', 180)],
    ['SpO2 exactly 92', (p) => p.vital('spo2', 92)],
    ['a breach older than 2 h (not judged)', (p) => p.vital('sbp', 200, m(121)).vital('sbp', 120, m(60))],
  ])('S3 at the boundary: %s is not a contraindication', (_s, given) => {
    expect(run(given(patient())).ruleId).toBe('S3');
  });

  it('S1 comes before S2: contraindicated and missing data is contraindicated, the missing items still listed', () => {
    const r = run(patient().psychosis().noWeight());
    expect(r.ruleId).toBe('S1');
    expect(codes(r)).toContain('weight-missing');
  });
});

describe('S2 needs-data (warning, no start suggestion)', () => {
  it.each<[string, (p: Patient) => Patient, string[]]>([
    ['no weight', (p) => p.noWeight(), ['weight-missing']],
    ['a weight 7 d 1 h old', (p) => p.weight(70, h(7 * 24 + 1)), ['weight-stale']],
    ['a weight in stone', (p) => p.weight(11, d(1), 'stone'), ['weight-unreadable']],
    ['no EKG', (p) => p.noEkg(), ['ekg-missing']],
    ['an EKG 7 d 1 h old', (p) => p.ekg(h(7 * 24 + 1)), ['ekg-stale']],
    ['a woman without a pregnancy test', (p) => p.noPregnancyTest(), ['pregnancy-test-missing']],
    [
      'a woman whose negative test is 7 d 1 h old',
      (p) => p.pregnancyTest('negative', h(7 * 24 + 1)),
      ['pregnancy-test-stale'],
    ],
    ['a pregnancy test with no readable result', (p) => p.pregnancyTest(null), ['pregnancy-test-missing']],
    ['no pain score', (p) => p.pains(), ['baseline-pain-missing']],
    ['a pain score 4 h 1 min old', (p) => p.pains([8, m(241)]), ['baseline-pain-missing']],
    [
      'nothing at all: every missing item is listed',
      (p) => p.noWeight().noEkg().noPregnancyTest().pains(),
      ['weight-missing', 'ekg-missing', 'pregnancy-test-missing', 'baseline-pain-missing'],
    ],
  ])('S2 %s', (_s, given, missing) => {
    const r = run(given(patient()));
    expect(r).toMatchObject({
      ruleId: 'S2',
      action: 'needs-data',
      indicator: 'warning',
      recommendedRate: null,
      phase: 'not-started',
    });
    expect(codes(r)).toEqual(missing);
  });

  it.each<[string, (p: Patient) => Patient]>([
    ['a weight exactly 7 d old', (p) => p.weight(70, d(7))],
    ['a weight 6 d 23 h old', (p) => p.weight(70, h(7 * 24 - 1))],
    ['an EKG exactly 7 d old', (p) => p.ekg(d(7))],
    ['a negative pregnancy test exactly 7 d old', (p) => p.pregnancyTest('negative', d(7))],
    ['a man without a pregnancy test', (p) => p.male().noPregnancyTest()],
    ['a pain score exactly 4 h old', (p) => p.pains([8, h(4)])],
    ['a pain score 3 h 59 min old', (p) => p.pains([8, m(239)])],
  ])('S3 at the boundary: %s is enough', (_s, given) => {
    expect(run(given(patient())).ruleId).toBe('S3');
  });

  it('S2 a stale item says since when', () => {
    const r = run(patient().weight(70, d(8)));
    expect(r.missing).toEqual([{ code: 'weight-stale', since: d(8) }]);
  });
});

describe('S3 start (info) at startRate', () => {
  it('S3 suggests 0.1 mg/kg/h = 7 mg/h = 7 mL/h at 70 kg and the default 1 mg/mL, with the checklist met', () => {
    const r = run(patient().caution('glaucoma', 'Open-angle glaucoma'));
    expect(r).toMatchObject({
      ruleId: 'S3',
      action: 'start',
      phase: 'not-started',
      indicator: 'info',
      currentRate: 0,
      recommendedRate: 0.1,
      nextReviewAt: h(-3),
      arithmetic: {
        fromRate: 0,
        toRate: 0.1,
        step: null,
        weightKg: 70,
        mgPerHour: 7,
        concentrationMgPerMl: 1,
        concentrationSource: 'default',
        mlPerHour: 7,
      },
      cautions: [{ category: 'glaucoma', display: 'Open-angle glaucoma' }],
      contraindications: [],
      missing: [],
      weightKg: 70,
    });
    expect(r.prerequisites).toEqual({
      weight: { valueKg: 70, time: d(1), fresh: true },
      ekg: { time: d(1), fresh: true },
      pregnancyTest: { result: 'negative', time: d(1), fresh: true },
      pregnancyTestRequired: true,
      baselinePain: { id: 'pain-base', time: h(1), score: 8 },
      consent: { time: d(1) },
    });
  });

  it('S3 the consent reminder is open when no treatment Consent exists', () => {
    expect(run(patient().consent(false)).prerequisites.consent).toBeNull();
  });

  it('S3 with an active order of 2 mg/mL: 7 mg/h = 3.5 mL/h, and the order is named for priorPrescription', () => {
    const r = run(patient().order({ id: 'order-7', medication: ketamine({ concentrationMgPerMl: 2 }) }));
    expect(r.arithmetic).toMatchObject({ mgPerHour: 7, mlPerHour: 3.5, concentrationSource: 'charted' });
    expect(r.activeOrderId).toBe('order-7');
  });

  it('S3 a weight in pounds is converted: 154 [lb_av] is 69.85 kg → 7 mg/h', () => {
    const r = run(patient().weight(154, d(1), '[lb_av]'));
    expect(r.ruleId).toBe('S3');
    expect(r.arithmetic?.mgPerHour).toBe(7);
    expect(r.weightKg).toBeCloseTo(69.853, 3);
  });
});

describe('X1 completed', () => {
  const ended = () =>
    patient()
      .pains([9, h(30)], [3, h(20)], [2, h(12)], [2, h(8)])
      .infusion(
        [
          [0.1, h(29)],
          [0.2, h(25)],
          [0.3, h(21)],
          [0.1, h(9)],
        ],
        { end: h(5) },
      );

  it('X1 nothing running now: completed (info), phase stopped, with the course summary', () => {
    const r = run(ended());
    expect(r).toMatchObject({
      ruleId: 'X1',
      action: 'completed',
      phase: 'stopped',
      indicator: 'info',
      recommendedRate: null,
      currentRate: 0,
    });
    expect(r.infusion).toMatchObject({
      startedAt: h(29),
      highestRate: 0.3,
      targetReachedAt: h(12),
      rateAtTarget: 0.3,
      endedAt: h(5),
    });
  });

  it('X1 a new ketamine draft on order-select is judged as a new start (S3)', () => {
    const r = run(
      ended()
        .pain([7, h(1)])
        .order({ id: 'draft-9', status: 'draft' }),
      orderSelect('draft-9'),
    );
    expect(r).toMatchObject({ ruleId: 'S3', action: 'start', phase: 'not-started', recommendedRate: 0.1 });
    expect(r.notes.join(' ')).toContain('new start');
  });
});

describe('A1 psychotomimetic effect (critical decrease)', () => {
  it('A1 a hallucination since the current segment started: 0.3 → 0.2 mg/kg/h = 14 mg/h', () => {
    const r = run(titrating(0.3).effect(h(1)));
    expect(r).toMatchObject({
      ruleId: 'A1',
      action: 'decrease',
      indicator: 'critical',
      currentRate: 0.3,
      recommendedRate: 0.2,
      maxToleratedRate: 0.2,
      arithmetic: { fromRate: 0.3, toRate: 0.2, step: -0.1, mgPerHour: 14, mlPerHour: 14, becameStop: false },
      adverseEffect: { time: h(1), display: 'Hallucinations', atRate: 0.3 },
    });
  });
  it('A1 comes before T1: an effect 30 min after a change is acted on at once', () => {
    expect(run(titrating(0.3, 1).effect(m(30))).ruleId).toBe('A1');
  });
  it('A1 at 0.1 mg/kg/h the decrease reaches 0 and becomes a stop (rule A1 kept)', () => {
    const r = run(
      patient()
        .infusion([[0.1, h(2)]])
        .effect(h(1)),
    );
    expect(r).toMatchObject({
      ruleId: 'A1',
      action: 'stop',
      recommendedRate: 0,
      arithmetic: { toRate: 0, becameStop: true },
    });
  });
  it('A1 from the off-grid 0.12: → 0.02', () => {
    expect(
      run(
        patient()
          .infusion([[0.12, h(2)]])
          .effect(h(1)),
      ).recommendedRate,
    ).toBe(0.02);
  });
  it('after the decrease (the effect is before the current segment) A1 no longer fires, and T7 holds below the 0.4 that caused it', () => {
    const r = run(
      patient()
        .pains([8, h(20)], [6, h(1)])
        .infusion([
          [0.1, h(18)],
          [0.2, h(14)],
          [0.3, h(10)],
          [0.4, h(8)],
          [0.3, h(5)],
        ])
        .effect(h(6)),
    );
    expect(r).toMatchObject({
      ruleId: 'T7',
      action: 'hold',
      indicator: 'warning',
      recommendedRate: 0.3,
      maxToleratedRate: 0.3,
    });
    expect(r.adverseEffect).toMatchObject({ atRate: 0.4 });
  });
  it('T7 (v1.1) a rate raised back above the max tolerated rate, tolerated since, is held (never cut for the cap alone), naming the effect', () => {
    const r = run(
      patient()
        .pains([8, h(20)], [6, h(1)])
        .infusion([
          [0.3, h(18)],
          [0.4, h(12)],
          [0.3, h(9)],
          [0.5, h(5)],
        ])
        .effect(h(10)),
    );
    expect(r).toMatchObject({
      ruleId: 'T7',
      action: 'hold',
      indicator: 'warning',
      recommendedRate: 0.5,
      maxToleratedRate: 0.3,
      maxRateReason: 'above-max-tolerated',
      adverseEffect: { time: h(10), atRate: 0.4 },
    });
  });
  it('an AdverseEvent with ketamine as suspect counts like a coded effect', () => {
    const r = run(
      titrating(0.3).effect(h(1), { resourceType: 'AdverseEvent', via: 'ketamine-suspect', display: 'Dissociation' }),
    );
    expect(r.ruleId).toBe('A1');
  });
});

describe('A2 vital-sign breach (critical decrease)', () => {
  it.each<[VitalKind, number]>([
    ['sbp', 181],
    ['sbp', 89],
    ['dbp', 111],
    ['hr', 121],
    ['hr', 49],
    ['rr', 31],
    ['rr', 9],
    ['spo2', 91],
  ])('A2 %s %d: 0.3 → 0.2', (kind, value) => {
    const r = run(titrating(0.3).vital(kind, value));
    expect(r).toMatchObject({ ruleId: 'A2', action: 'decrease', indicator: 'critical', recommendedRate: 0.2 });
    expect(r.vitals.find((v) => v.kind === kind)?.breach).not.toBeNull();
  });
  it.each<[VitalKind, number]>([
    ['sbp', 180],
    ['sbp', 90],
    ['dbp', 110],
    ['hr', 120],
    ['hr', 50],
    ['rr', 30],
    ['rr', 10],
    ['spo2', 92],
  ])('at the threshold (%s %d) there is no breach: T8 increase', (kind, value) => {
    expect(run(titrating(0.3).vital(kind, value)).ruleId).toBe('T8');
  });
  it('A2 a breach exactly 2 h old is judged; 2 h 1 min old is not', () => {
    expect(run(titrating(0.3).vital('hr', 130, h(2))).ruleId).toBe('A2');
    // v1.1: with no heart rate within 2 h the increase waits for one (V1).
    expect(run(titrating(0.3).vital('hr', 130, m(121))).ruleId).toBe('V1');
    expect(run(titrating(0.3).vital('hr', 130, m(121)).vital('hr', 80, m(30))).ruleId).toBe('T8');
  });
  it('A2 at 0.1 becomes a stop', () => {
    expect(
      run(
        patient()
          .infusion([[0.1, h(2)]])
          .vital('rr', 8),
      ),
    ).toMatchObject({ ruleId: 'A2', action: 'stop', recommendedRate: 0 });
  });
  it('A2 comes before D1: without a weight the decrease is still suggested, without pump arithmetic', () => {
    const r = run(titrating(0.3).noWeight().vital('sbp', 200));
    expect(r).toMatchObject({ ruleId: 'A2', recommendedRate: 0.2, arithmetic: { mgPerHour: null, mlPerHour: null } });
  });
});

describe('D1 needs-data while running (weight)', () => {
  it.each<[string, (p: Patient) => Patient, string[]]>([
    ['no weight', (p) => p.noWeight(), ['weight-missing']],
    ['a weight 7 d 1 h old', (p) => p.weight(70, h(7 * 24 + 1)), ['weight-stale']],
  ])('D1 %s', (_s, given, missing) => {
    const r = run(given(titrating(0.2)));
    expect(r).toMatchObject({
      ruleId: 'D1',
      action: 'needs-data',
      indicator: 'warning',
      recommendedRate: null,
      currentRate: 0.2,
    });
    expect(codes(r)).toEqual(missing);
  });
  it('D1 a weight exactly 7 d old is still fresh: T8', () => {
    expect(run(titrating(0.2).weight(70, d(7))).ruleId).toBe('T8');
  });
  it('D1 a running rate in an unknown unit is stated (rate-unreadable with the unit) and no rate is suggested', () => {
    const r = run(
      patient()
        .pains([8, h(8)], [7, h(1)])
        .admin({ start: h(5), rate: qty(5, 'mcg/kg/min') }),
    );
    expect(r).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
    expect(r.missing).toEqual([
      expect.objectContaining({ code: 'rate-unreadable', detail: expect.stringContaining('mcg/kg/min') }),
    ]);
  });
});

describe('T1 hold: too soon after a change', () => {
  it('T1 2 h 59 min after the change: hold (info) at the current rate, next review at change + 3 h', () => {
    const r = run(titrating(0.2, 2 + 59 / 60, 0.5));
    expect(r).toMatchObject({
      ruleId: 'T1',
      action: 'hold',
      indicator: 'info',
      recommendedRate: 0.2,
      nextReviewAt: m(-1),
    });
  });
  it('T1 exactly 3 h after the change the step is allowed (T8)', () => {
    expect(run(titrating(0.2, 3, 0.5)).ruleId).toBe('T8');
  });
});

describe('T2 needs-data: pain after the last change', () => {
  it('T2 no pain score after the last change', () => {
    const r = run(titrating(0.2, 5, 6));
    expect(r).toMatchObject({ ruleId: 'T2', action: 'needs-data', indicator: 'warning', recommendedRate: null });
    expect(r.missing).toEqual([{ code: 'pain-after-change-missing', since: h(5) }]);
  });
  it('T2 a score taken at the moment of the change is not after it', () => {
    expect(run(titrating(0.2, 5, 5)).ruleId).toBe('T2');
  });
  it('T2 the latest score is 4 h 1 min old (pain-stale)', () => {
    const r = run(titrating(0.2, 5, 4 + 1 / 60));
    expect(r.ruleId).toBe('T2');
    expect(r.missing).toEqual([{ code: 'pain-stale', since: m(241) }]);
  });
  it('T2 a score exactly 4 h old is fresh enough (T8)', () => {
    expect(run(titrating(0.2, 5, 4)).ruleId).toBe('T8');
  });
});

describe('taper phase: T3, T4, T5', () => {
  it('T3 rebound above 3 during taper: hold (warning) for clinician review', () => {
    const r = run(tapering(0.22, 5));
    expect(r).toMatchObject({
      ruleId: 'T3',
      action: 'hold',
      phase: 'taper',
      indicator: 'warning',
      recommendedRate: 0.22,
    });
  });
  it.each<[number, number]>([
    [0.42, 0.22],
    [0.22, 0.02],
  ])('T4 taper %d → %d', (from, to) => {
    const r = run(tapering(from));
    expect(r).toMatchObject({
      ruleId: 'T4',
      action: 'taper',
      phase: 'taper',
      recommendedRate: to,
      arithmetic: { fromRate: from, toRate: to, step: -0.2 },
    });
  });
  it.each([0.02, 0.2])('T5 from %d the taper reaches 0: stop', (from) => {
    const r = run(tapering(from));
    expect(r).toMatchObject({
      ruleId: 'T5',
      action: 'stop',
      phase: 'taper',
      recommendedRate: 0,
      arithmetic: { toRate: 0, becameStop: true },
    });
  });
  it('T1 in taper phase, right after a taper step: hold until the next review', () => {
    expect(
      run(
        tapering(0.22).with((f) =>
          f.administrations.push({
            ...f.administrations[0]!,
            id: 'late',
            start: h(1),
            end: null,
            status: 'in-progress',
          }),
        ),
      ),
    ).toMatchObject({
      ruleId: 'T1',
      phase: 'taper',
    });
  });
  const reachedHoursAgo = (hours: number) =>
    patient()
      .pains([9, h(30)], [3, h(hours + 8)], [2, h(hours + 4)], [2, h(hours)], [2, h(1)])
      .infusion([
        [0.1, h(28)],
        [0.2, h(24)],
        [0.3, h(20)],
        [0.42, h(16)],
      ]);
  it('T4 the first taper step is due from when the sustained target was reached, not from the last change: 2 h after it, not overdue', () => {
    const r = run(reachedHoursAgo(2));
    expect(r).toMatchObject({ ruleId: 'T4', phase: 'taper', recommendedRate: 0.22, overdue: false });
    expect(r.infusion.targetReachedAt).toBe(h(2));
  });
  it('T4 the first taper step is overdue once more than 4 h have passed since the sustained target was reached', () => {
    expect(run(reachedHoursAgo(5))).toMatchObject({ ruleId: 'T4', overdue: true });
  });
  it('T4 the taper phase began at the score where relief had lasted ≥ 8 h, at the rate then running', () => {
    const r = run(tapering(0.42));
    expect(r.infusion).toMatchObject({ targetReachedAt: h(5), rateAtTarget: 0.42 });
    expect(r.sustained).toMatchObject({ from: h(14), reached: true });
  });
});

describe('titration: T6, T7, T8', () => {
  it('T6 at target but not yet for 8 h: hold (info); the card says when the taper may start', () => {
    const r = run(
      patient()
        .pains([8, h(12)], [3, h(4)], [2, h(1)])
        .infusion([
          [0.1, h(11)],
          [0.3, h(6)],
        ]),
    );
    expect(r).toMatchObject({
      ruleId: 'T6',
      action: 'hold',
      phase: 'titration',
      indicator: 'info',
      recommendedRate: 0.3,
      nextReviewAt: h(-4),
    });
    expect(r.sustained).toMatchObject({ from: h(4), to: h(1), reached: false, taperMayStartAt: h(-4) });
  });
  it('T7 0.95 + 0.1 would pass the 1.0 hard maximum: hold (warning)', () => {
    expect(run(titrating(0.95))).toMatchObject({
      ruleId: 'T7',
      action: 'hold',
      indicator: 'warning',
      recommendedRate: 0.95,
    });
  });
  it('T8 0.9 → 1.0 reaches the hard maximum exactly: allowed, with the soft-maximum warning', () => {
    expect(run(titrating(0.9))).toMatchObject({
      ruleId: 'T8',
      recommendedRate: 1,
      indicator: 'warning',
      aboveSoftMax: true,
    });
  });
  it('A3 (v1.1) a running rate above the hard maximum (1.2) is never held: critical decrease to 1.0', () => {
    expect(run(titrating(1.2))).toMatchObject({
      ruleId: 'A3',
      action: 'decrease',
      indicator: 'critical',
      recommendedRate: 1,
    });
  });
  it('T8 0.2 → 0.3 (info) = 21 mg/h = 21 mL/h at 70 kg', () => {
    const r = run(titrating(0.2, 3.5));
    expect(r).toMatchObject({
      ruleId: 'T8',
      action: 'increase',
      indicator: 'info',
      recommendedRate: 0.3,
      aboveSoftMax: false,
      overdue: false,
      nextReviewAt: h(-3),
      arithmetic: {
        fromRate: 0.2,
        toRate: 0.3,
        step: 0.1,
        weightKg: 70,
        mgPerHour: 21,
        mlPerHour: 21,
        concentrationSource: 'default',
      },
    });
  });
  it('T8 0.4 → 0.5 reaches the soft maximum exactly: info', () => {
    expect(run(titrating(0.4))).toMatchObject({
      ruleId: 'T8',
      recommendedRate: 0.5,
      indicator: 'info',
      aboveSoftMax: false,
    });
  });
  it('T8 0.42 → 0.52 passes the soft maximum: warning (attending review)', () => {
    expect(run(titrating(0.42))).toMatchObject({
      ruleId: 'T8',
      recommendedRate: 0.52,
      indicator: 'warning',
      aboveSoftMax: true,
    });
  });
  it('T8 the step is computed from the actual off-grid rate: 0.12 → 0.22', () => {
    expect(run(titrating(0.12)).recommendedRate).toBe(0.22);
  });
  it('T8 exactly 4 h since the change is not overdue; 4 h 1 min is', () => {
    expect(run(titrating(0.2, 4)).overdue).toBe(false);
    expect(run(titrating(0.2, 4 + 1 / 60)).overdue).toBe(true);
  });
  it('T8 a rate charted as 14 mL/h at 70 kg (default 1 mg/mL) is 0.2 mg/kg/h → 0.3', () => {
    const r = run(
      titrating(0.2).with((f) =>
        f.administrations.forEach((a) => (a.rate = qty(a.rate?.kind === 'quantity' ? a.rate.value * 70 : 0, 'mL/h'))),
      ),
    );
    expect(r).toMatchObject({
      ruleId: 'T8',
      currentRate: 0.2,
      recommendedRate: 0.3,
      arithmetic: { mgPerHour: 21, mlPerHour: 21 },
    });
  });
  it('T8 a rate charted as 14 mg/h at 70 kg is 0.2 mg/kg/h → 0.3 = 21 mg/h = 10.5 mL/h of a 2 mg/mL bag', () => {
    const r = run(
      patient()
        .pains([8, h(12)], [7, h(1)])
        .admin({ start: h(5), rate: qty(14, 'mg/h'), medication: ketamine({ concentrationMgPerMl: 2 }) }),
    );
    expect(r).toMatchObject({
      ruleId: 'T8',
      currentRate: 0.2,
      recommendedRate: 0.3,
      arithmetic: { mgPerHour: 21, mlPerHour: 10.5, concentrationSource: 'charted' },
    });
  });
  it('a VAS of 72 mm is 7.2 (above target): T8', () => {
    const r = run(titrating(0.2).pain({ time: m(30), code: '38214-3', vas: true, value: 72, unit: 'mm' }));
    expect(r.ruleId).toBe('T8');
    expect(r.recentPain[r.recentPain.length - 1]).toMatchObject({ score: 7.2, charted: '72 mm' });
  });
  it('a VAS of 25 mm is 2.5 (at target): T6', () => {
    expect(run(titrating(0.2).pain({ time: m(30), code: '38214-3', vas: true, value: 25, unit: 'mm' })).ruleId).toBe(
      'T6',
    );
  });
});

describe('every field of the recommendation is filled', () => {
  it('T8 0.2 → 0.3: the whole recommendation, as the cards receive it', () => {
    const r = run(
      patient()
        .pains(
          { id: 'p0', time: h(11), value: 8 },
          { id: 'p1', time: h(7), value: 7 },
          { id: 'p2', time: h(1), value: 6 },
        )
        .infusion([
          [0.1, h(10)],
          [0.2, h(5)],
        ])
        .order({ id: 'order-1' }),
    );
    expect(r).toEqual({
      ruleId: 'T8',
      action: 'increase',
      phase: 'titration',
      indicator: 'info',
      currentRate: 0.2,
      recommendedRate: 0.3,
      nextReviewAt: h(-3),
      overdue: true,
      lastChangeAt: h(5),
      aboveSoftMax: false,
      maxToleratedRate: null,
      maxToleratedRateUnknown: false,
      currentRateReading: {
        charted: '0.2 mg/kg/h',
        basis: 'mg/kg/h',
        amountPerHour: 0.2,
        concentrationMgPerMl: null,
        concentrationFrom: null,
        weightKg: null,
        rate: 0.2,
      },
      activeOrderConcentrationMgPerMl: null,
      arithmetic: {
        fromRate: 0.2,
        toRate: 0.3,
        step: 0.1,
        weightKg: 70,
        mgPerHour: 21,
        concentrationMgPerMl: 1,
        concentrationSource: 'default',
        concentrationFrom: 'default',
        mlPerHour: 21,
      },
      missing: [],
      contraindications: [],
      cautions: [],
      prerequisites: {
        weight: { valueKg: 70, time: d(1), fresh: true },
        ekg: { time: d(1), fresh: true },
        pregnancyTest: { result: 'negative', time: d(1), fresh: true },
        pregnancyTestRequired: true,
        baselinePain: { id: 'p0', time: h(11), score: 8 },
        consent: { time: d(1) },
      },
      infusion: {
        segments: [
          { rate: 0.1, start: h(10), end: h(5), administrationIds: [expect.any(String)] },
          { rate: 0.2, start: h(5), end: null, administrationIds: [expect.any(String)] },
        ],
        startedAt: h(10),
        highestRate: 0.2,
        targetReachedAt: null,
        rateAtTarget: null,
        endedAt: null,
        courseStartedAt: h(10),
      },
      recentPain: [
        { id: 'p1', time: h(7), score: 7 },
        { id: 'p2', time: h(1), score: 6 },
      ],
      sustained: null,
      vitals: [
        { kind: 'sbp', value: 120, unit: 'mm[Hg]', time: m(30), breach: null },
        { kind: 'dbp', value: 75, unit: 'mm[Hg]', time: m(30), breach: null },
        { kind: 'hr', value: 75, unit: '/min', time: m(30), breach: null },
        { kind: 'rr', value: 14, unit: '/min', time: m(30), breach: null },
        { kind: 'spo2', value: 98, unit: '%', time: m(30), breach: null },
      ],
      adverseEffect: null,
      activeOrderId: 'order-1',
      weightKg: 70,
      notes: [],
      protocolVersion: '1.1.0',
      setAside: { otherPatient: 0, unreadable: 0, items: [] },
    });
  });

  it('notes say what was read but not used: ketamine known only by its text, an ignored pain value', () => {
    const r = run(
      titrating(0.2, 5, 1)
        .with((f) =>
          f.administrations.forEach(
            (a) => (a.medication = ketamine({ recognizedBy: 'text', display: 'Ketamine drip (pharmacy)' })),
          ),
        )
        .pain({ time: m(20), value: 14 }),
    );
    const notes = r.notes.join('\n');
    expect(notes).toContain('"Ketamine drip (pharmacy)" was recognised as ketamine by its text only');
    expect(notes).toContain('outside 0–10');
  });
});

describe('a psychotomimetic effect charted while nothing was running still sets the max tolerated rate', () => {
  /** Ran 0.3 until 10 h ago; restarted at 0.2 9 h ago; pain 7 an hour ago. */
  const pausedThenRestarted = () =>
    patient()
      .pains([8, h(21)], [7, h(1)])
      .admin({ start: h(20), end: h(10), status: 'completed', rate: mgkgh(0.3) })
      .admin({ start: h(9), rate: mgkgh(0.2) });

  it('T7 a hallucination 9.9 h ago, between 0.3 (ended 10 h ago) and the restart at 0.2: hold at 0.2, no increase to 0.3', () => {
    const r = run(pausedThenRestarted().effect(h(9.9)));
    expect(r).toMatchObject({
      ruleId: 'T7',
      action: 'hold',
      currentRate: 0.2,
      recommendedRate: 0.2,
      maxToleratedRate: 0.2,
      adverseEffect: { atRate: 0.3 },
    });
    expect(r.notes.join(' ')).toContain('attributed to the last running rate before it, 0.3 mg/kg/h');
  });

  it('T7 the same when the pause is charted as a rate of 0 (pump paused): the effect counts at the 0.3 that ran before', () => {
    const r = run(
      patient()
        .pains([8, h(21)], [7, h(1)])
        .admin({ start: h(20), end: h(10), status: 'completed', rate: mgkgh(0.3) })
        .admin({ start: h(10), end: h(9), status: 'completed', rate: mgkgh(0) })
        .admin({ start: h(9), rate: mgkgh(0.2) })
        .effect(h(9.5)),
    );
    expect(r).toMatchObject({ ruleId: 'T7', action: 'hold', recommendedRate: 0.2, maxToleratedRate: 0.2 });
  });

  it('T7 an effect charted while the running rate was unreadable (unknown unit): the max tolerated rate is unknown, so no increase', () => {
    const r = run(
      patient()
        .pains([8, h(21)], [7, h(1)])
        .admin({ start: h(20), end: h(9), status: 'completed', rate: qty(5, 'mcg/kg/min') })
        .admin({ start: h(9), rate: mgkgh(0.2) })
        .effect(h(10)),
    );
    expect(r).toMatchObject({
      ruleId: 'T7',
      action: 'hold',
      indicator: 'warning',
      recommendedRate: 0.2,
      maxToleratedRate: null,
      maxToleratedRateUnknown: true,
      maxRateReason: 'tolerance-unknown',
      adverseEffect: { atRate: null },
    });
    expect(r.notes.join(' ')).toContain('max tolerated rate is unknown');
  });
});

describe('one concentration lookup reads charted mL/h rates and computes pump rates', () => {
  /** Running 7 mL/h since 5 h (administration fulfils order-a), pain 7 an hour ago. */
  const mlPerHour = (over: { medication?: number | null; requestId?: string | null } = {}) =>
    patient()
      .pains([8, h(12)], [7, h(1)])
      .admin({
        start: h(5),
        rate: qty(7, 'mL/h'),
        requestId: over.requestId === undefined ? 'order-a' : over.requestId,
        medication: ketamine({ concentrationMgPerMl: over.medication ?? null }),
      });

  it('T8 7 mL/h of an order that states 0.5 mg/mL is 0.05 mg/kg/h at 70 kg (not 0.1 by the default 1 mg/mL) → 0.15 = 21 mL/h', () => {
    const r = run(mlPerHour().order({ id: 'order-a', medication: ketamine({ concentrationMgPerMl: 0.5 }) }));
    expect(r).toMatchObject({
      ruleId: 'T8',
      currentRate: 0.05,
      recommendedRate: 0.15,
      arithmetic: { mgPerHour: 10.5, mlPerHour: 21, concentrationMgPerMl: 0.5, concentrationFrom: 'order' },
      currentRateReading: {
        charted: '7 mL/h',
        basis: 'mL/h',
        amountPerHour: 7,
        concentrationMgPerMl: 0.5,
        concentrationFrom: 'order',
        weightKg: 70,
        rate: 0.05,
      },
    });
  });

  it('the order the administration references wins over the active order; the Medication strength wins over both', () => {
    const referenced = run(
      mlPerHour()
        .order({ id: 'order-a', status: 'completed', medication: ketamine({ concentrationMgPerMl: 0.5 }) })
        .order({ id: 'order-b', medication: ketamine({ concentrationMgPerMl: 2 }) }),
    );
    expect(referenced.currentRateReading).toMatchObject({ concentrationMgPerMl: 0.5, concentrationFrom: 'order' });
    const own = run(
      mlPerHour({ medication: 2 }).order({ id: 'order-a', medication: ketamine({ concentrationMgPerMl: 0.5 }) }),
    );
    expect(own).toMatchObject({ currentRate: 0.2, currentRateReading: { concentrationFrom: 'medication' } });
  });

  it('without a referenced order the active order gives the strength; with none at all the default is used and said', () => {
    const active = run(
      mlPerHour({ requestId: null }).order({ id: 'order-b', medication: ketamine({ concentrationMgPerMl: 0.5 }) }),
    );
    expect(active.currentRateReading).toMatchObject({ concentrationFrom: 'active-order', rate: 0.05 });
    const byDefault = run(mlPerHour({ requestId: null }));
    expect(byDefault).toMatchObject({
      currentRate: 0.1,
      currentRateReading: { concentrationMgPerMl: 1, concentrationFrom: 'default' },
      arithmetic: { concentrationSource: 'default', concentrationFrom: 'default' },
    });
  });
});

describe('a new course after a stop is judged on its own, the max tolerated rate kept', () => {
  /** Course 1 (ended 20 h ago) reached the sustained target; course 2 restarted at 0.1 six hours ago, pain 7 now. */
  const restarted = () =>
    patient()
      .pains([9, h(60)], [3, h(40)], [2, h(34)], [2, h(30)], [8, h(7)], [7, h(1)])
      .infusion(
        [
          [0.1, h(58)],
          [0.2, h(54)],
          [0.3, h(50)],
          [0.1, h(26)],
        ],
        { end: h(20) },
      )
      .admin({ start: h(6), rate: mgkgh(0.1) });

  it('T8 the restart six hours after a 14 h stop is in titration (not the earlier course’s taper): 0.1 → 0.2', () => {
    const r = run(restarted());
    expect(r).toMatchObject({ ruleId: 'T8', action: 'increase', phase: 'titration', recommendedRate: 0.2 });
    expect(r.infusion).toMatchObject({ startedAt: h(58), courseStartedAt: h(6), targetReachedAt: null });
    expect(r.prerequisites.baselinePain).toMatchObject({ score: 8, time: h(7) });
    expect(r.notes.join(' ')).toContain('judged on its own');
  });

  it('T7 an effect at 0.3 in the earlier course still caps the new course at 0.2 (safety), and a note says so', () => {
    const r = run(
      patient()
        .pains([9, h(60)], [8, h(12)], [7, h(1)])
        .infusion(
          [
            [0.1, h(58)],
            [0.2, h(54)],
            [0.3, h(50)],
          ],
          { end: h(40) },
        )
        .infusion([
          [0.1, h(11)],
          [0.2, h(6)],
        ])
        .effect(h(45)),
    );
    expect(r).toMatchObject({ ruleId: 'T7', action: 'hold', recommendedRate: 0.2, maxToleratedRate: 0.2 });
    expect(r.notes.join(' ')).toContain('during an earlier ketamine course');
  });

  it('T4 a pause of 15 min (gapToleranceMinutes) does not end the course: the taper phase carries over', () => {
    const r = run(
      patient()
        .pains([9, h(30)], [3, h(14)], [2, h(9)], [2, h(5)], [2, h(1)])
        .infusion(
          [
            [0.1, h(28)],
            [0.2, h(24)],
            [0.3, h(20)],
            [0.42, h(16)],
          ],
          { end: m(4 * 60 + 15) },
        )
        .admin({ start: h(4), rate: mgkgh(0.4) }),
    );
    expect(r).toMatchObject({ ruleId: 'T4', phase: 'taper', recommendedRate: 0.2 });
  });
});

describe('a bag change is not a rate change', () => {
  /** 0.1 from 10 h, 0.2 from 6 h until 2 h ago; then a new bag at 0.2 after `gapMinutes`; pain 7 at 30 min. */
  const bagChange = (gapMinutes: number) =>
    patient()
      .pains([8, h(11)], [7, m(30)])
      .infusion(
        [
          [0.1, h(10)],
          [0.2, h(6)],
        ],
        { end: h(2) },
      )
      .admin({ start: m(120 - gapMinutes), rate: mgkgh(0.2) });

  it('T8 a new bag at the same rate 5 min after the last one ended does not restart the 3 h clock: 0.2 → 0.3', () => {
    const r = run(bagChange(5));
    expect(r).toMatchObject({ ruleId: 'T8', lastChangeAt: h(6), recommendedRate: 0.3 });
    expect(r.notes.join(' ')).toContain('bag change');
  });

  it('T1 a gap of exactly 15 min is still a bag change; 16 min ends the course and the restart is a change', () => {
    expect(run(bagChange(15)).ruleId).toBe('T8');
    expect(run(bagChange(16))).toMatchObject({ ruleId: 'T1', lastChangeAt: m(104) });
  });
});

describe('a chart shows no future: values dated after now are ignored, with a note', () => {
  it('S2 a weight dated tomorrow is not a fresh weight (a negative age must not pass the 7-day check)', () => {
    const r = run(patient().weight(70, d(-1)));
    expect(r).toMatchObject({ ruleId: 'S2', weightKg: null });
    expect(codes(r)).toEqual(['weight-unreadable']);
    expect(r.notes.join(' ')).toContain('dated after the evaluation time');
  });

  it('S2 an EKG dated tomorrow does not pass as recent', () => {
    const r = run(patient().ekg(d(-1)));
    expect(codes(r)).toEqual(['ekg-missing']);
    expect(r.prerequisites.ekg).toBeNull();
    expect(r.notes.join(' ')).toContain('The EKG charted at');
  });

  it('S2 a negative pregnancy test dated tomorrow does not pass as recent', () => {
    const r = run(patient().pregnancyTest('negative', d(-1)));
    expect(codes(r)).toEqual(['pregnancy-test-missing']);
    expect(r.notes.join(' ')).toContain('The pregnancy test charted at');
  });

  it('a vital sign dated after now is not judged (no A2 from it), and said', () => {
    const r = run(
      patient()
        .infusion([
          [0.1, h(7)],
          [0.2, h(3.5)],
        ])
        .pains([8, h(8)], [6, m(20)])
        .vital('sbp', 200, m(-30)),
    );
    // v1.1: the only systolic pressure is dated after now, so there is no recent blood pressure: V1, not A2.
    expect(r.ruleId).toBe('V1');
    expect(r.vitals.map((v) => v.kind)).not.toContain('sbp');
    expect(r.notes).toContainEqual({ vitalNote: 'after-now', kind: 'sbp', time: m(-30) });
  });

  it('a hallucination dated after now is not counted, and said', () => {
    const r = run(
      patient()
        .infusion([
          [0.1, h(7)],
          [0.2, h(3.5)],
        ])
        .pains([8, h(8)], [6, m(20)])
        .effect(m(-30)),
    );
    expect(r.ruleId).toBe('T8');
    expect(r.notes.join(' ')).toMatch(/Hallucinations.*dated after the evaluation time/);
  });
});

describe('the pregnancy test is required unless the patient is recorded as male', () => {
  it.each<[string, string | null]>([
    ['not recorded', null],
    ['unknown', 'unknown'],
    ['other', 'other'],
  ])(
    'S2 gender %s without a pregnancy test: the test is listed as missing and a note asks to confirm',
    (_s, gender) => {
      const r = run(patient().gender(gender).noPregnancyTest());
      expect(r).toMatchObject({ ruleId: 'S2', prerequisites: { pregnancyTestRequired: true } });
      expect(codes(r)).toEqual(['pregnancy-test-missing']);
      expect(r.notes.join(' ')).toContain('please confirm');
    },
  );

  it('S3 only a patient recorded as male starts without a pregnancy test', () => {
    expect(run(patient().male().noPregnancyTest())).toMatchObject({
      ruleId: 'S3',
      prerequisites: { pregnancyTestRequired: false },
    });
  });
});

describe('a running rate above the hard maximum', () => {
  it('A3 (v1.1) in taper phase, 1.2 mg/kg/h is brought down to 1.0 (critical decrease), marked as above the hard maximum', () => {
    const r = run(
      patient()
        .pains([9, h(30)], [3, h(14)], [2, h(9)], [2, h(5)], [2, h(1)])
        .infusion([
          [0.1, h(28)],
          [0.2, h(24)],
          [1.2, h(16)],
        ]),
    );
    expect(r).toMatchObject({
      ruleId: 'A3',
      action: 'decrease',
      indicator: 'critical',
      phase: 'taper',
      recommendedRate: 1,
      maxRateReason: 'above-hard-max',
      adverseEffect: null,
    });
  });
});
