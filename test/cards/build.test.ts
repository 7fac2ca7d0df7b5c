import type { MedicationRequest } from 'fhir/r4';
import { buildCards } from '../../src/cards/build';
import { DOSE_RATE_TYPE_SYSTEM, OVERRIDE_REASON_SYSTEM, UCUM_SYSTEM } from '../../src/cards/suggestions';
import type { Card } from '../../src/cards/types';
import {
  build,
  DOCS_URL,
  draft,
  input,
  loaded,
  medication,
  notStarted,
  only,
  params,
  PLAN_DEFINITION_URL,
  recommendation,
} from './fixtures';

const ext = (card: Card) => card.extension?.['ketamine-protocol'];
const firstAction = (card: Card) => card.suggestions?.[0]?.actions?.[0];
const createdOrder = (card: Card) => firstAction(card)?.resource as MedicationRequest;

describe('patient-view cards from a recommendation', () => {
  describe('T8 increase', () => {
    const card = only(build());

    it('T8 summarises the increase as the protocol suggestion, with both rates', () => {
      expect(card.summary).toBe('Protocol suggests increasing ketamine from 0.2 to 0.3 mg/kg/h');
      expect(card.summary).not.toMatch(/^(Increase|Start|Stop|Give)/);
      expect(card.indicator).toBe('info');
    });

    it('T8 detail states the rule, the arithmetic with the default concentration, and every input with its time', () => {
      const d = card.detail ?? '';
      expect(d).toContain('Rule T8');
      expect(d).toContain(
        "0.2 → 0.3 mg/kg/h (+0.1 mg/kg/h) = 21 mg/h at 70 kg; no bag strength on the record: confirm the bag's concentration before setting the pump in mL/h",
      );
      expect(d).toMatch(/confirm the bag's concentration/);
      expect(d).toContain('Dosing weight: 70 kg (2026-11-23 08:00 UTC)');
      expect(d).toContain('Current rate: 0.2 mg/kg/h since 2026-11-24 09:00 UTC');
      expect(d).toContain('6/10 at 2026-11-24 11:45 UTC (0.8 h ago) (charted as 60 mm)');
      expect(d).toContain('7/10 at 2026-11-24 08:30 UTC');
      expect(d).toContain('Systolic blood pressure 128 mmHg (2026-11-24 11:40 UTC)');
      expect(d).toContain('Heart rate 84/min');
      expect(d).toContain('EKG: 2026-11-22 10:15 UTC');
      expect(d).toContain('Informed consent: on file (2026-11-24 05:00 UTC)');
      expect(d).toContain('Sustained run: no run of scores at or below 3/10');
      expect(d).toContain('Next review**: 2026-11-24 12:00 UTC');
    });

    it('T8 detail carries the evidence level and the citation from the parameter file', () => {
      expect(card.detail).toContain(loaded.file.evidenceLevel);
      expect(card.detail).toContain('J Headache Pain 2016;17:106');
      expect(card.detail).toContain(`Protocol version ${params.protocolVersion}`);
    });

    it('T8 suggests creating a draft order at the new rate, traced to the protocol version and replacing the active order', () => {
      expect(card.selectionBehavior).toBe('at-most-one');
      expect(card.suggestions).toHaveLength(1);
      expect(card.suggestions?.[0]?.isRecommended).toBe(true);
      const action = firstAction(card);
      expect(action?.type).toBe('create');
      const order = createdOrder(card);
      expect(order).toMatchObject({
        resourceType: 'MedicationRequest',
        status: 'draft',
        intent: 'order',
        subject: { reference: 'Patient/pat-1' },
        encounter: { reference: 'Encounter/enc-1' },
        priorPrescription: { reference: 'MedicationRequest/order-1' },
        instantiatesCanonical: [`${PLAN_DEFINITION_URL}|${params.protocolVersion}`],
        medicationCodeableConcept: medication,
      });
      const [ordered, calculated] = order.dosageInstruction?.[0]?.doseAndRate ?? [];
      expect(ordered).toEqual({
        type: { coding: [{ system: DOSE_RATE_TYPE_SYSTEM, code: 'ordered', display: 'Ordered' }] },
        rateQuantity: { value: 0.3, unit: 'mg/kg/h', system: UCUM_SYSTEM, code: 'mg/kg/h' },
      });
      expect(calculated).toEqual({
        type: { coding: [{ system: DOSE_RATE_TYPE_SYSTEM, code: 'calculated', display: 'Calculated' }] },
        rateQuantity: { value: 21, unit: 'mg/h', system: UCUM_SYSTEM, code: 'mg/h' },
      });
    });

    it('T8 offers override reasons with system, code and display, and links to the protocol documentation', () => {
      expect(card.overrideReasons?.length).toBeGreaterThanOrEqual(3);
      for (const reason of card.overrideReasons ?? []) {
        expect(reason.system).toBe(OVERRIDE_REASON_SYSTEM);
        expect(reason.code).toMatch(/^[a-z-]+$/);
        expect(reason.display.length).toBeGreaterThan(0);
      }
      expect(card.links).toEqual([{ label: expect.any(String), url: DOCS_URL, type: 'absolute' }]);
      expect(card.source).toMatchObject({ url: DOCS_URL, topic: { code: 'T8' } });
      expect(card.source.label).toContain(params.protocolVersion);
    });

    it('T8 extension carries the machine-readable result', () => {
      expect(ext(card)).toEqual({
        ruleId: 'T8',
        action: 'increase',
        phase: 'titration',
        currentRate: 0.2,
        recommendedRate: 0.3,
        unit: 'mg/kg/h',
        draftRate: null,
        nextReviewAt: '2026-11-24T12:00:00Z',
        maxToleratedRate: null,
        protocolVersion: params.protocolVersion,
      });
    });

    it('every card and suggestion gets a uuid from the injected generator', () => {
      expect(card.uuid).toBe('00000000-0000-4000-8000-000000000001');
      expect(card.suggestions?.[0]?.uuid).toBe('00000000-0000-4000-8000-000000000002');
    });
  });

  it('T8 above the soft maximum is a warning that asks for attending review, and an overdue step is said', () => {
    const rec = recommendation({
      currentRate: 0.5,
      recommendedRate: 0.6,
      indicator: 'warning',
      aboveSoftMax: true,
      overdue: true,
      lastChangeAt: '2026-11-24T07:00:00Z',
      arithmetic: null,
    });
    const card = only(build({ recommendation: rec }));
    expect(card.indicator).toBe('warning');
    expect(card.summary).toBe(
      `Protocol suggests increasing ketamine from 0.5 to 0.6 mg/kg/h (step overdue); above ${params.softMaxRate}, attending review advised`,
    );
    expect(card.detail).toContain(
      `more than ${params.maxHoursBetweenChanges} h since the last rate change (2026-11-24 07:00 UTC)`,
    );
    // Without the core's arithmetic the mg/h comes from the dosing weight.
    expect(createdOrder(card).dosageInstruction?.[0]?.doseAndRate?.[1]?.rateQuantity?.value).toBe(0.6 * 70);
  });

  it('S3 start: suggests a draft at the start rate with the checklist met and the consent reminder open', () => {
    const rec = notStarted({
      prerequisites: {
        ...notStarted().prerequisites,
        consent: null,
        pregnancyTestRequired: true,
        pregnancyTest: { result: 'negative', time: '2026-11-23T09:00:00Z', fresh: true },
      },
      cautions: [{ category: 'glaucoma', display: 'Primary open-angle glaucoma' }],
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe(`Protocol suggests starting IV ketamine at ${params.startRate} mg/kg/h`);
    const d = card.detail ?? '';
    expect(d).toContain('Rule S3');
    expect(d).toContain(
      "0 → 0.1 mg/kg/h = 7 mg/h at 70 kg; no bag strength on the record: confirm the bag's concentration before setting the pump in mL/h",
    );
    expect(d).toContain('- [x] EKG (2026-11-22 10:15 UTC)');
    expect(d).toContain('- [x] Pregnancy test negative (2026-11-23 09:00 UTC)');
    expect(d).toContain('- [x] Dosing weight 70 kg');
    expect(d).toContain('- [x] Baseline pain score 8/10');
    expect(d).toContain('- [ ] Obtain written informed consent');
    expect(d).toContain('Cautions (not blocking)');
    expect(d).toContain('Glaucoma: Primary open-angle glaucoma');
    const order = createdOrder(card);
    expect(order.priorPrescription).toBeUndefined();
    expect(order.dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity?.value).toBe(params.startRate);
    expect(ext(card)).toMatchObject({
      ruleId: 'S3',
      action: 'start',
      phase: 'not-started',
      currentRate: 0,
      recommendedRate: params.startRate,
    });
  });

  it('S3 with consent on file checks the consent reminder off', () => {
    const card = only(build({ recommendation: notStarted() }));
    expect(card.detail).toContain('- [x] Written informed consent on file (2026-11-24 05:00 UTC)');
    expect(card.detail).not.toContain('- [ ] Obtain written informed consent');
  });

  it('T4 taper suggests the lower rate from the actual (off-grid) current rate', () => {
    const rec = recommendation({
      ruleId: 'T4',
      action: 'taper',
      phase: 'taper',
      currentRate: 0.42,
      recommendedRate: 0.22,
      arithmetic: {
        fromRate: 0.42,
        toRate: 0.22,
        step: -0.2,
        weightKg: 70,
        mgPerHour: 15.4,
        concentrationMgPerMl: 2,
        concentrationSource: 'charted',
        mlPerHour: 7.7,
      },
      sustained: { from: '2026-11-24T02:00:00Z', to: '2026-11-24T11:00:00Z', scores: 4, hours: 9, reached: true },
      infusion: {
        ...recommendation().infusion,
        highestRate: 0.42,
        targetReachedAt: '2026-11-24T10:00:00Z',
        rateAtTarget: 0.42,
      },
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe('Protocol suggests tapering ketamine from 0.42 to 0.22 mg/kg/h');
    expect(card.detail).toContain('0.42 → 0.22 mg/kg/h (−0.2 mg/kg/h) = 15.4 mg/h at 70 kg = 7.7 mL/h at 2 mg/mL');
    expect(card.detail).not.toContain('default concentration');
    expect(card.detail).toContain(
      'Sustained run: 4 scores at or below 3/10 from 2026-11-24 02:00 UTC to 2026-11-24 11:00 UTC (9 h of 8 h needed: reached)',
    );
    expect(card.detail).toContain('sustained target reached 2026-11-24 10:00 UTC at 0.42 mg/kg/h');
    expect(firstAction(card)?.type).toBe('create');
    expect(ext(card)).toMatchObject({ ruleId: 'T4', action: 'taper', phase: 'taper', recommendedRate: 0.22 });
  });

  it('A1 decrease is critical, names the adverse effect and suggests the lower rate', () => {
    const rec = recommendation({
      ruleId: 'A1',
      action: 'decrease',
      indicator: 'critical',
      currentRate: 0.3,
      recommendedRate: 0.2,
      arithmetic: {
        fromRate: 0.3,
        toRate: 0.2,
        step: -0.1,
        weightKg: 70,
        mgPerHour: 14,
        concentrationMgPerMl: 1,
        concentrationSource: 'default',
        mlPerHour: 14,
      },
      adverseEffect: {
        time: '2026-11-24T12:10:00Z',
        display: 'Visual hallucinations',
        atRate: 0.3,
        psychotomimetic: true,
      },
      maxToleratedRate: 0.2,
    });
    const card = only(build({ recommendation: rec }));
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe(
      'Protocol suggests decreasing ketamine from 0.3 to 0.2 mg/kg/h after a psychotomimetic effect',
    );
    expect(card.detail).toContain(
      'Adverse effect: Visual hallucinations (a psychotomimetic effect) on 2026-11-24 12:10 UTC, at 0.3 mg/kg/h',
    );
    expect(card.detail).toContain('Maximum tolerated rate: 0.2 mg/kg/h');
    expect(createdOrder(card).dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity?.value).toBe(0.2);
  });

  it('A2 decrease names the vital-sign breach with its limit', () => {
    const rec = recommendation({
      ruleId: 'A2',
      action: 'decrease',
      indicator: 'critical',
      currentRate: 0.3,
      recommendedRate: 0.2,
      vitals: [
        {
          kind: 'sbp',
          value: 192,
          unit: 'mm[Hg]',
          time: '2026-11-24T12:00:00Z',
          breach: { bound: 'high', limit: params.sbpHigh },
        },
      ],
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe(
      'Protocol suggests decreasing ketamine from 0.3 to 0.2 mg/kg/h after a vital-sign breach',
    );
    expect(card.detail).toContain(
      `Systolic blood pressure 192 mmHg (2026-11-24 12:00 UTC) **above the limit of ${params.sbpHigh} mmHg**`,
    );
  });

  it('T5 stop updates the active order to completed (minimal resource when only its id is known)', () => {
    const rec = recommendation({
      ruleId: 'T5',
      action: 'stop',
      phase: 'taper',
      currentRate: 0.02,
      recommendedRate: 0,
      arithmetic: {
        fromRate: 0.02,
        toRate: -0.18,
        step: -0.2,
        weightKg: 70,
        mgPerHour: null,
        concentrationMgPerMl: null,
        concentrationSource: null,
        mlPerHour: null,
        becameStop: true,
      },
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe('Protocol suggests stopping ketamine: taper complete from 0.02 mg/kg/h');
    expect(card.detail).toContain('0.02 mg/kg/h (−0.2 mg/kg/h) reaches 0 or below, so the infusion stops');
    const action = firstAction(card);
    expect(action?.type).toBe('update');
    expect(action?.resource).toEqual({
      resourceType: 'MedicationRequest',
      id: 'order-1',
      status: 'completed',
      intent: 'order',
      subject: { reference: 'Patient/pat-1' },
      medicationCodeableConcept: medication,
    });
    expect(ext(card)).toMatchObject({ action: 'stop', recommendedRate: 0 });
  });

  it('stop with the whole active order known sends that order back with status completed and nothing else changed', () => {
    const active = { ...draft('order-1'), status: 'active' as const };
    const rec = recommendation({
      ruleId: 'A1',
      action: 'stop',
      indicator: 'critical',
      currentRate: 0.1,
      recommendedRate: 0,
      arithmetic: null,
    });
    const card = only(build({ recommendation: rec, activeOrder: active }));
    expect(card.summary).toBe('Protocol suggests stopping ketamine after a psychotomimetic effect at 0.1 mg/kg/h');
    expect(firstAction(card)?.resource).toEqual({ ...active, status: 'completed' });
    expect(active.status).toBe('active');
  });

  it('stop without a known active order shows the card with no suggestion and no override reasons', () => {
    const rec = recommendation({
      ruleId: 'A2',
      action: 'stop',
      indicator: 'critical',
      currentRate: 0.1,
      recommendedRate: 0,
      activeOrderId: null,
      arithmetic: null,
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe('Protocol suggests stopping ketamine after a vital-sign breach at 0.1 mg/kg/h');
    expect(card.suggestions).toBeUndefined();
    expect(card.selectionBehavior).toBeUndefined();
    expect(card.overrideReasons).toBeUndefined();
  });

  describe('holds carry no suggestion', () => {
    const hold = (over: Parameters<typeof recommendation>[0]) =>
      only(
        build({ recommendation: recommendation({ action: 'hold', recommendedRate: 0.2, arithmetic: null, ...over }) }),
      );

    it('T1 hold gives the time the next review is due', () => {
      const card = hold({ ruleId: 'T1', nextReviewAt: '2026-11-24T15:00:00Z' });
      expect(card.summary).toBe(
        'Protocol suggests keeping ketamine at 0.2 mg/kg/h until the next review at 2026-11-24 15:00 UTC',
      );
      expect(card.suggestions).toBeUndefined();
      expect(card.detail).toContain('No rate change: the rate stays at 0.2 mg/kg/h');
      expect(ext(card)).toMatchObject({
        ruleId: 'T1',
        action: 'hold',
        recommendedRate: 0.2,
        nextReviewAt: '2026-11-24T15:00:00Z',
      });
    });

    it('T3 hold during the taper asks for clinician review, as a warning', () => {
      const card = hold({ ruleId: 'T3', phase: 'taper', indicator: 'warning' });
      expect(card.indicator).toBe('warning');
      expect(card.summary).toMatch(
        /^Protocol suggests keeping ketamine at 0\.2 mg\/kg\/h: pain rose above target during the taper/,
      );
    });

    it('T6 hold says when the taper may start', () => {
      const card = hold({
        ruleId: 'T6',
        sustained: { from: '2026-11-24T08:30:00Z', to: '2026-11-24T11:45:00Z', scores: 2, hours: 3.25, reached: false },
      });
      expect(card.summary).toContain(`taper once sustained for ${params.sustainedHours} h`);
      expect(card.detail).toContain('(3.3 h of 8 h needed: not yet reached)');
    });

    it('T6 hold names the time the taper may start when the core gives it', () => {
      const sustained = {
        from: '2026-11-24T08:30:00Z',
        to: '2026-11-24T11:45:00Z',
        scores: 2,
        hours: 3.25,
        reached: false,
        taperMayStartAt: '2026-11-24T16:30:00Z',
      };
      const card = hold({ ruleId: 'T6', sustained });
      expect(card.summary).toBe(
        'Protocol suggests keeping ketamine at 0.2 mg/kg/h: pain at target; taper may start after 2026-11-24 16:30 UTC',
      );
      expect(card.detail).toContain('the taper may start at 2026-11-24 16:30 UTC if pain stays at or below target');
    });

    it('T7 hold says another step would exceed the maximum', () => {
      const card = hold({ ruleId: 'T7', indicator: 'warning', maxToleratedRate: 0.2 });
      expect(card.summary).toContain('another step would pass the hard maximum of 1 mg/kg/h');
      expect(card.detail).toContain(`hard maximum of ${params.hardMaxRate} mg/kg/h`);
    });
  });

  it('S2 needs-data lists every missing item in the summary and the detail, with no suggestion', () => {
    const rec = notStarted({
      ruleId: 'S2',
      action: 'needs-data',
      indicator: 'warning',
      recommendedRate: null,
      arithmetic: null,
      missing: [
        { code: 'weight-stale', since: '2026-11-10T08:00:00Z' },
        { code: 'ekg-missing' },
        { code: 'pregnancy-test-missing' },
      ],
      prerequisites: {
        ...notStarted().prerequisites,
        weight: { valueKg: 70, time: '2026-11-10T08:00:00Z', fresh: false },
        ekg: null,
        pregnancyTestRequired: true,
      },
    });
    const card = only(build({ recommendation: rec }));
    expect(card.indicator).toBe('warning');
    expect(card.summary).toBe(
      'Protocol suggests recording a current weight, EKG and pregnancy test before starting ketamine',
    );
    const d = card.detail ?? '';
    expect(d).toContain('**Missing**');
    expect(d).toContain(`Dosing weight: last charted 2026-11-10 08:00 UTC, older than ${params.weightMaxAgeDays} d`);
    expect(d).toContain(`EKG: none charted (needed within ${params.ekgMaxAgeDays} d)`);
    expect(d).toContain('Pregnancy test: no negative result charted');
    expect(d).toContain('- [ ] EKG');
    expect(d).toContain('- [ ] Pregnancy test');
    expect(card.suggestions).toBeUndefined();
    expect(ext(card)).toMatchObject({ ruleId: 'S2', action: 'needs-data', recommendedRate: null });
  });

  it('D1 needs-data while running asks for a weight before the next rate decision', () => {
    const rec = recommendation({
      ruleId: 'D1',
      action: 'needs-data',
      indicator: 'warning',
      recommendedRate: null,
      arithmetic: null,
      weightKg: null,
      missing: [{ code: 'weight-missing' }],
      prerequisites: { ...recommendation().prerequisites, weight: null },
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe(
      'Protocol suggests recording a current weight before the next ketamine rate decision: none charted',
    );
    expect(card.detail).toContain('Dosing weight: none charted');
    expect(card.detail).toContain('Dosing weight: no current weight');
  });

  it('T2 needs-data names the last change after which a pain score is needed', () => {
    const rec = recommendation({
      ruleId: 'T2',
      action: 'needs-data',
      indicator: 'warning',
      recommendedRate: null,
      arithmetic: null,
      missing: [{ code: 'pain-after-change-missing', since: '2026-11-24T09:00:00Z' }],
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe(
      'Protocol suggests recording a current pain score before the next ketamine rate decision',
    );
    expect(card.detail).toContain('Pain score after the last rate change (2026-11-24 09:00 UTC): none charted');
  });

  it('S1 contraindicated is critical, lists each contraindication and suggests nothing', () => {
    const rec = notStarted({
      ruleId: 'S1',
      action: 'contraindicated',
      indicator: 'critical',
      recommendedRate: null,
      arithmetic: null,
      contraindications: [
        { code: 'pregnancy-test-positive', display: 'hCG qualitative: Positive', time: '2026-11-24T07:00:00Z' },
        { code: 'psychosis', display: 'Schizophrenia, unspecified', time: null },
      ],
    });
    const card = only(build({ recommendation: rec }));
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe(
      'Protocol advises against starting ketamine: positive pregnancy test and psychosis or schizophrenia',
    );
    expect(card.detail).toContain('Contraindications');
    expect(card.detail).toContain('positive pregnancy test: hCG qualitative: Positive (2026-11-24 07:00 UTC)');
    expect(card.detail).toContain('psychosis or schizophrenia: Schizophrenia, unspecified');
    expect(card.suggestions).toBeUndefined();
  });

  it('X1 completed summarises the course and suggests nothing', () => {
    const rec = recommendation({
      ruleId: 'X1',
      action: 'completed',
      phase: 'stopped',
      currentRate: 0,
      recommendedRate: null,
      nextReviewAt: null,
      arithmetic: null,
      infusion: {
        segments: [],
        startedAt: '2026-11-20T06:00:00Z',
        highestRate: 0.42,
        targetReachedAt: '2026-11-21T10:00:00Z',
        rateAtTarget: 0.42,
        endedAt: '2026-11-22T09:00:00Z',
      },
    });
    const card = only(build({ recommendation: rec }));
    expect(card.summary).toBe('Protocol course completed: ketamine infusion ended 2026-11-22 09:00 UTC');
    expect(card.detail).toContain(
      'Infusion: started 2026-11-20 06:00 UTC, highest rate 0.42 mg/kg/h, sustained target reached 2026-11-21 10:00 UTC at 0.42 mg/kg/h, ended 2026-11-22 09:00 UTC',
    );
    expect(card.suggestions).toBeUndefined();
    expect(ext(card)).toMatchObject({ ruleId: 'X1', phase: 'stopped' });
  });

  it('P0 none gives no card at all', () => {
    const rec = recommendation({ ruleId: 'P0', action: 'none', recommendedRate: null });
    expect(buildCards(input({ recommendation: rec }))).toEqual([]);
  });

  it('notes from the core are listed in the detail', () => {
    const card = only(
      build({ recommendation: recommendation({ notes: ['Pain score on an unsupported scale was ignored'] }) }),
    );
    expect(card.detail).toContain('- Pain score on an unsupported scale was ignored');
  });

  it('CH-R6 a Patient/ prefix on the patient id does not end up doubled in the draft subject', () => {
    const card = only(build({ patientId: 'Patient/pat-1', encounterId: null }));
    expect(createdOrder(card).subject).toEqual({ reference: 'Patient/pat-1' });
    expect(createdOrder(card).encounter).toBeUndefined();
  });

  it('CH-C8 numbers are rounded with the parameters and always carry units', () => {
    const rec = recommendation({
      currentRate: 0.2,
      recommendedRate: 0.3,
      weightKg: 71.34999999,
      arithmetic: {
        fromRate: 0.2,
        toRate: 0.30000000000000004,
        step: 0.1,
        weightKg: 71.34999999,
        mgPerHour: 21.404999999,
        concentrationMgPerMl: 1,
        concentrationSource: 'default',
        mlPerHour: 21.404999999,
      },
      vitals: [{ kind: 'spo2', value: 95.00000001, unit: '%', time: '2026-11-24T12:00:00Z', breach: null }],
    });
    const card = only(build({ recommendation: rec }));
    expect(card.detail).toContain(
      "0.2 → 0.3 mg/kg/h (+0.1 mg/kg/h) = 21.4 mg/h at 71.3 kg; no bag strength on the record: confirm the bag's concentration before setting the pump in mL/h",
    );
    expect(card.detail).toContain('SpO2 95%');
    // No long decimals anywhere before the citation (whose DOI has digits of its own).
    expect((card.detail ?? '').split('**Evidence**')[0]).not.toMatch(/\d\.\d{3,}/);
  });

  it('the draft order carries no calculated mg/h entry when no dosing weight is known', () => {
    const rec = recommendation({
      weightKg: null,
      arithmetic: {
        fromRate: 0.2,
        toRate: 0.3,
        step: 0.1,
        weightKg: null,
        mgPerHour: null,
        concentrationMgPerMl: null,
        concentrationSource: null,
        mlPerHour: null,
      },
    });
    const card = only(build({ recommendation: rec }));
    expect(createdOrder(card).dosageInstruction?.[0]?.doseAndRate).toHaveLength(1);
    expect(card.detail).toContain('no current dosing weight, so mg/h and mL/h are not computed');
  });
});
