/**
 * End to end through HTTP with the real modules: request validation, gather (prefetch or the in-process
 * FHIR server), the CQL evaluator, the decision core, the card builder, the response schema and the
 * SQLite store. Time is pinned to the example's "now".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, FhirResource } from 'fhir/r4';
import request from 'supertest';
import { createEvaluator, PLAN_DEFINITION_URL } from '../../src/cql';
import { createApp, type AppDeps } from '../../src/http/app';
import { roundTo } from '../../src/protocol/units';
import { STEPS } from '../../src/service/steps';
import { openStore, type Store } from '../../src/store';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server';
import { memoryLogger } from '../support/logs';
import {
  DEFINITIONS,
  DOCS_URL,
  NOW,
  ORDER_SELECT,
  ORDER_SIGN,
  PARAMS,
  PATIENT_VIEW,
  PUBLIC_BASE,
  testUuid,
} from '../support/service';

const EXAMPLE_FILE = path.resolve(__dirname, '../fixtures/requests/patient-view-example.json');
const example = () => JSON.parse(readFileSync(EXAMPLE_FILE, 'utf8')) as Record<string, any>;

const evaluator = createEvaluator();
let store: Store;
let app: ReturnType<typeof createApp>;

function realDeps(overrides: Partial<AppDeps> = {}): AppDeps {
  return {
    definitions: DEFINITIONS,
    parameters: PARAMS,
    steps: STEPS,
    evaluator,
    store,
    logger: memoryLogger('info').logger,
    clock: () => NOW,
    uuid: testUuid,
    config: {
      deadlineMs: 15_000,
      fhirServerAllowlist: [],
      fhirTimeoutMs: 10_000,
      fhirMaxPages: 3,
      docsUrl: DOCS_URL,
      planDefinitionUrl: PLAN_DEFINITION_URL,
    },
    http: { publicBaseUrl: PUBLIC_BASE, requestLimitBytes: 2 * 1024 * 1024, corsOrigins: ['*'] },
    ...overrides,
  };
}

/** Every resource of the example's prefetch. */
function exampleResources(): FhirResource[] {
  return Object.values(example().prefetch as Record<string, FhirResource | null>).flatMap((value) => {
    if (value === null) return [];
    if (value.resourceType === 'Bundle') return (value.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    return [value];
  });
}

const protocolExtension = (card: { extension?: Record<string, any> }) => card.extension?.['ketamine-protocol'];

beforeEach(async () => {
  store = await openStore(':memory:');
  app = createApp(realDeps());
});
afterEach(() => store.close());

describe('patient-view end to end', () => {
  it('S3 the README example request (test/fixtures/requests/patient-view-example.json) gets a start card at the start rate, audited', async () => {
    const res = await request(app)
      .post(`/cds-services/${PATIENT_VIEW}`)
      .set('Content-Type', 'application/json')
      .send(readFileSync(EXAMPLE_FILE, 'utf8'));

    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    const card = res.body.cards[0];
    expect(protocolExtension(card)).toMatchObject({
      ruleId: 'S3',
      action: 'start',
      phase: 'not-started',
      recommendedRate: PARAMS.startRate,
      protocolVersion: PARAMS.protocolVersion,
    });
    expect(card.source.url).toBe(DOCS_URL);
    expect(card.suggestions[0].actions[0]).toMatchObject({
      type: 'create',
      resource: {
        resourceType: 'MedicationRequest',
        status: 'draft',
        instantiatesCanonical: [expect.stringContaining(PLAN_DEFINITION_URL)],
      },
    });
    await store.flush();
    expect(await store.listAudit()).toMatchObject([
      { serviceId: PATIENT_VIEW, ruleIds: ['S3'], outcome: 'ok', patientId: 'example-patient-1', cardIds: [card.uuid] },
    ]);
  });

  it('S2 the same patient without a weight gets a needs-data card instead', async () => {
    const body = example();
    body.prefetch.weights = null;
    const res = await request(app).post(`/cds-services/${PATIENT_VIEW}`).send(body);
    expect(res.status).toBe(200);
    expect(protocolExtension(res.body.cards[0])).toMatchObject({
      ruleId: 'S2',
      action: 'needs-data',
      recommendedRate: null,
    });
  });

  it('CH-P3 with no prefetch at all, the record is read from the fhirServer and gives the same answer', async () => {
    const fhir: TestFhirServer = await startFhirServer({
      seed: [
        {
          resourceType: 'Bundle',
          type: 'collection',
          entry: exampleResources().map((resource) => ({ resource })),
        } as Bundle,
      ],
    });
    try {
      const body = example();
      delete body.prefetch;
      body.fhirServer = fhir.baseUrl;
      const res = await request(app).post(`/cds-services/${PATIENT_VIEW}`).send(body);
      expect(res.status).toBe(200);
      expect(protocolExtension(res.body.cards[0])).toMatchObject({ ruleId: 'S3' });
      expect(fhir.requests.length).toBeGreaterThanOrEqual(
        Object.keys(DEFINITIONS.get(PATIENT_VIEW)?.prefetch ?? {}).length,
      );
    } finally {
      await fhir.close();
    }
  });

  it('CH-B3 concurrent calls for two different patients through the real evaluator each get their own rule', async () => {
    const ready = example();
    // The second patient's own record (v1.1: resources naming another patient are set aside).
    const noWeight = JSON.parse(
      JSON.stringify(example()).replaceAll('Patient/example-patient-1"', 'Patient/example-patient-2"'),
    ) as Record<string, any>;
    noWeight.context.patientId = 'example-patient-2';
    noWeight.prefetch.patient.id = 'example-patient-2';
    noWeight.prefetch.weights = null;
    const bodies = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? ready : noWeight));
    const responses = await Promise.all(
      bodies.map((body) => request(app).post(`/cds-services/${PATIENT_VIEW}`).send(body)),
    );
    responses.forEach((res, i) => expect(protocolExtension(res.body.cards[0]).ruleId).toBe(i % 2 === 0 ? 'S3' : 'S2'));
  });
});

describe('order hooks end to end', () => {
  const draft = (id: string, rate: number) => ({
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/example-patient-1' },
    medicationCodeableConcept: {
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '6130', display: 'ketamine' }],
      text: 'ketamine infusion',
    },
    dosageInstruction: [
      {
        doseAndRate: [
          { rateQuantity: { value: rate, unit: 'mg/kg/h', system: 'http://unitsofmeasure.org', code: 'mg/kg/h' } },
        ],
      },
    ],
  });
  const orderBody = (hook: 'order-select' | 'order-sign', drafts: object[]) => {
    const body = example();
    body.hook = hook;
    body.context = {
      userId: body.context.userId,
      patientId: body.context.patientId,
      encounterId: body.context.encounterId,
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) },
    };
    if (hook === 'order-select') body.context.selections = drafts.map((d: any) => `MedicationRequest/${d.id}`);
    return body;
  };

  it('O4 order-select: a first ketamine order off the start rate gets a card suggesting the start rate, with the draft rate', async () => {
    const offRate = roundTo(PARAMS.startRate + PARAMS.escalationStep + PARAMS.escalationStep, PARAMS.rateRounding);
    const res = await request(app)
      .post(`/cds-services/${ORDER_SELECT}`)
      .send(orderBody('order-select', [draft('draft-1', offRate)]));
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    expect(protocolExtension(res.body.cards[0])).toMatchObject({
      ruleId: 'O4',
      draftRate: offRate,
      recommendedRate: PARAMS.startRate,
    });
    expect(res.body.cards[0].suggestions[0].actions[0]).toMatchObject({ type: 'update', resource: { id: 'draft-1' } });
  });

  it('order-sign: a ketamine order at the start rate is consistent with the protocol: no card', async () => {
    const res = await request(app)
      .post(`/cds-services/${ORDER_SIGN}`)
      .send(orderBody('order-sign', [draft('draft-2', PARAMS.startRate)]));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });
});
