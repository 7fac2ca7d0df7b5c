import type { Bundle } from 'fhir/r4';
import { OperationOutcomeError, preconditionFailed } from '../../src/errors';
import { callService, loggableId, withDeadline } from '../../src/service/call-service';
import type { Steps } from '../../src/service/deps';
import type { ServiceDeps } from '../../src/service/deps';
import {
  fakeEvaluator,
  fakeSteps,
  harness,
  ketamineDraft,
  NOW,
  ORDER_SELECT,
  ORDER_SIGN,
  orderRequest,
  PATIENT_VIEW,
  patientViewRequest,
  sleep,
} from '../support/service';

describe('callService: the flow validate → gather → evaluate → decide → cards → conformance → audit', () => {
  it('a patient-view call with every prefetch key answers with the cards built from that patient, and audits the call', async () => {
    const evaluator = fakeEvaluator();
    const { deps, audits } = harness({ evaluator });
    const response = await callService(PATIENT_VIEW, patientViewRequest('p1'), deps);

    expect(response.cards).toHaveLength(1);
    expect(response.cards[0]?.summary).toBe('Protocol note (S2) for p1');
    expect(evaluator.bundles[0]?.entry?.map((e) => e.resource?.resourceType)).toEqual(['Patient']);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      serviceId: PATIENT_VIEW,
      hook: 'patient-view',
      patientId: 'p1',
      ruleIds: ['S2'],
      action: 'needs-data',
      outcome: 'ok',
      cardCount: 1,
      cardIds: [response.cards[0]?.uuid],
      at: NOW.toISOString(),
    });
    expect(audits[0]?.fhirSources?.patient).toBe('prefetch');
  });

  it('CH-R4 an unknown service id is a 404 OperationOutcome, before anything else runs', async () => {
    const { deps, audits } = harness();
    await expect(callService('no-such-service', patientViewRequest('p1'), deps)).rejects.toMatchObject({ status: 404 });
    expect(audits).toHaveLength(0);
  });

  it('CH-R1 an invalid request is a 400 and nothing is gathered', async () => {
    const gather = jest.fn();
    const { deps } = harness({ steps: fakeSteps({ gather }) });
    const body = patientViewRequest('p1');
    delete body.hookInstance;
    await expect(callService(PATIENT_VIEW, body, deps)).rejects.toMatchObject({ status: 400 });
    expect(gather).not.toHaveBeenCalled();
  });

  it('CH-R6 decide and cards see the bare patient id when the EHR sent Patient/p1', async () => {
    const buildCards = jest.fn<ReturnType<Steps['buildCards']>, Parameters<Steps['buildCards']>>(() => []);
    const { deps } = harness({ steps: fakeSteps({ buildCards }) });
    const body = patientViewRequest('p1') as { context: { patientId: string } };
    body.context.patientId = 'Patient/p1';
    await callService(PATIENT_VIEW, body, deps);
    expect(buildCards.mock.calls[0]?.[0].patientId).toBe('p1');
  });

  it('CH-C1 a call whose recommendation has no card answers { cards: [] } with no systemActions', async () => {
    const { deps } = harness({ steps: fakeSteps({ buildCards: () => [] }) });
    const response = await callService(PATIENT_VIEW, patientViewRequest('p1'), deps);
    expect(response).toEqual({ cards: [] });
  });

  it('CH-C9 cards that break the response schema are never sent: a 500, audited as an error', async () => {
    const { deps, audits } = harness({
      steps: fakeSteps({
        buildCards: () => [{ summary: 'x'.repeat(200), indicator: 'info', source: { label: 'Test' } }],
      }),
    });
    await expect(callService(PATIENT_VIEW, patientViewRequest('p1'), deps)).rejects.toMatchObject({ status: 500 });
    expect(audits[0]?.outcome).toBe('error');
  });

  it('CH-P4 a 412 from gathering propagates, and the call is audited as an error', async () => {
    const gather: Steps['gather'] = async () => {
      throw preconditionFailed(
        'Prefetch key "patient" missing and could not be fetched: no fhirServer in the request',
        ['prefetch.patient'],
      );
    };
    const { deps, audits } = harness({ steps: fakeSteps({ gather }) });
    await expect(callService(PATIENT_VIEW, patientViewRequest('p1'), deps)).rejects.toMatchObject({ status: 412 });
    expect(audits).toMatchObject([{ outcome: 'error', cardCount: 0, ruleIds: [] }]);
  });

  it('when the audit store fails, the clinician still gets the answer and the failure is logged', async () => {
    const { deps, log } = harness();
    deps.store = {
      ...deps.store,
      recordAudit: () => {
        throw new Error('disk full');
      },
    };
    const response = await callService(PATIENT_VIEW, patientViewRequest('p1'), deps);
    expect(response.cards).toHaveLength(1);
    expect(log.entries().some((e) => e.event === 'audit.failed')).toBe(true);
  });
});

describe('callService on order hooks', () => {
  const drafts = [
    ketamineDraft('k1', 0.3),
    ketamineDraft('k2', 0.4),
    {
      resourceType: 'MedicationRequest',
      id: 'other',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/p1' },
      medicationCodeableConcept: { text: 'ondansetron' },
    },
  ];

  it('order-select: only the selected ketamine drafts are checked; every draft joins the evaluated bundle', async () => {
    const evaluator = fakeEvaluator();
    const decide = jest.fn(fakeSteps().decide);
    const checkDraftOrder = jest.fn(fakeSteps().checkDraftOrder);
    const buildCards = jest.fn(fakeSteps().buildCards);
    const { deps, audits } = harness({ evaluator, steps: fakeSteps({ decide, checkDraftOrder, buildCards }) });
    const body = orderRequest('order-select', 'p1', drafts, ['MedicationRequest/k2', 'MedicationRequest/other']);

    const response = await callService(ORDER_SELECT, body, deps);

    const bundled = (evaluator.bundles[0] as Bundle).entry?.map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
    expect(bundled).toEqual(
      expect.arrayContaining(['Patient/p1', 'MedicationRequest/k1', 'MedicationRequest/k2', 'MedicationRequest/other']),
    );
    expect(decide.mock.calls[0]?.[3]).toEqual({
      hook: 'order-select',
      encounterId: null,
      draftOrderIds: ['k1', 'k2', 'other'],
      setAside: { otherPatient: 0, unreadable: 0, items: [] },
    });
    expect(checkDraftOrder.mock.calls.map((c) => c[0])).toEqual([
      { id: 'k2', rate: { kind: 'quantity', value: 0.4, unit: 'mg/kg/h' }, concentrationMgPerMl: null },
    ]);
    expect(Object.keys(buildCards.mock.calls[0]?.[0].drafts ?? {})).toEqual(['k2']);
    expect(response.cards.map((c) => c.summary)).toEqual(['Protocol note (O4) for p1 draft k2']);
    expect(audits[0]).toMatchObject({ ruleIds: ['S2', 'O4'], draftRate: 0.4 });
  });

  it('order-sign: every ketamine draft being signed is checked', async () => {
    const checkDraftOrder = jest.fn(fakeSteps().checkDraftOrder);
    const { deps } = harness({ steps: fakeSteps({ checkDraftOrder }) });
    const response = await callService(ORDER_SIGN, orderRequest('order-sign', 'p1', drafts), deps);
    expect(checkDraftOrder.mock.calls.map((c) => c[0].id)).toEqual(['k1', 'k2']);
    expect(response.cards).toHaveLength(2);
  });

  it('a draft replaces a record resource with the same id in the evaluated bundle', async () => {
    const evaluator = fakeEvaluator();
    const { deps } = harness({ evaluator });
    const body = orderRequest('order-sign', 'p1', [ketamineDraft('k1', 0.3)]) as Record<string, any>;
    body.prefetch.medicationRequests = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [{ resource: { ...ketamineDraft('k1', 0.1), status: 'active' } }],
    };
    await callService(ORDER_SIGN, body, deps);
    const k1 = evaluator.bundles[0]?.entry?.filter((e) => e.resource?.id === 'k1') ?? [];
    expect(k1).toHaveLength(1);
    expect((k1[0]?.resource as { status?: string }).status).toBe('draft');
  });
});

describe('CH-B2 the deadline budget', () => {
  it('CH-B2 CH-C10 an evaluation that never finishes still gets an answer: { cards: [] } at the deadline, logged and audited "degraded" (EHRs drop late cards)', async () => {
    // The evaluation never settles: that callService answers at all proves the deadline, without timing anything.
    const evaluator: ServiceDeps['evaluator'] = { evaluate: () => new Promise<never>(() => undefined) };
    const { deps, audits, log } = harness({ evaluator }, { deadlineMs: 100 });
    const response = await callService(PATIENT_VIEW, patientViewRequest('p1'), deps);

    expect(response).toEqual({ cards: [] });
    expect(audits).toMatchObject([{ outcome: 'degraded', cardCount: 0 }]);
    expect(log.entries().find((e) => e.event === 'service.deadline')).toMatchObject({
      deadlineMs: 100,
      serviceId: PATIENT_VIEW,
    });
  });

  it('CH-B2 a slow gather is cancelled through its AbortSignal when the deadline passes', async () => {
    let signal: AbortSignal | undefined;
    const gather: Steps['gather'] = (_d, _r, gatherDeps) =>
      new Promise((_resolve, reject) => {
        signal = gatherDeps.signal;
        gatherDeps.signal?.addEventListener('abort', () =>
          reject(new OperationOutcomeError('timeout', 'aborted', { status: 504 })),
        );
      });
    const { deps, audits } = harness({ steps: fakeSteps({ gather }) }, { deadlineMs: 50 });
    const response = await callService(PATIENT_VIEW, patientViewRequest('p1'), deps);
    expect(response).toEqual({ cards: [] });
    expect(signal?.aborted).toBe(true);
    expect(audits[0]?.outcome).toBe('degraded');
  });

  it('CH-B2 work that finishes within the budget is answered in full', async () => {
    const { deps, audits } = harness({ evaluator: fakeEvaluator({ delayMs: () => 20 }) }, { deadlineMs: 1000 });
    const response = await callService(PATIENT_VIEW, patientViewRequest('p1'), deps);
    expect(response.cards).toHaveLength(1);
    expect(audits[0]?.outcome).toBe('ok');
  });

  it('withDeadline: a failure after the deadline is swallowed, a failure before it is thrown', async () => {
    const late = await withDeadline(10, async () => {
      await sleep(40);
      throw new Error('too late to matter');
    });
    expect(late).toEqual({ timedOut: true });
    await sleep(50);
    await expect(withDeadline(1000, async () => Promise.reject(new Error('early')))).rejects.toThrow('early');
  });
});

describe('CH-B3 concurrency', () => {
  it('CH-B3 concurrent calls for different patients, finishing in a shuffled order, each get their own cards', async () => {
    const ids = Array.from({ length: 24 }, (_, i) => `patient-${i}`);
    // Later requests finish first: any state shared between calls would show up as a wrong patient.
    const evaluator = fakeEvaluator({ delayMs: (id) => (ids.length - ids.indexOf(id)) * 3 });
    const { deps, audits } = harness({ evaluator });
    const responses = await Promise.all(
      ids.map((id, i) => callService(PATIENT_VIEW, patientViewRequest(id, { hookInstance: `hook-${i}` }), deps)),
    );

    responses.forEach((response, i) =>
      expect(response.cards.map((c) => c.summary)).toEqual([`Protocol note (S2) for ${ids[i]}`]),
    );
    for (const row of audits) expect(row.hookInstance).toBe(`hook-${ids.indexOf(row.patientId)}`);
    const uuids = responses.flatMap((r) => r.cards.map((c) => c.uuid));
    expect(new Set(uuids).size).toBe(uuids.length);
  });
});

describe('loggableId', () => {
  it('lets an id-like hookInstance into logs and keeps anything else out', () => {
    expect(loggableId('d1577c69-dfbe-44ad-ba6d-3e05e953b2ea')).toBe('d1577c69-dfbe-44ad-ba6d-3e05e953b2ea');
    expect(loggableId('Jane Doe, MRN 12345')).toBeUndefined();
    expect(loggableId(42)).toBeUndefined();
  });
});
