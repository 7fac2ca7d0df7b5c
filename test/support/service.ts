/**
 * Service dependencies for tests: the real definitions, parameters, request validation, gather and
 * response schema, with the clinical steps (evaluate, decide, order check, cards) replaced by small
 * fakes that carry the patient's own data through, so a test can see what went where. Time and uuids
 * are pinned.
 */
import type { Bundle, Patient } from 'fhir/r4';
import type { Card } from '../../src/cards/types';
import { loadParameters } from '../../src/config/parameters';
import { gather } from '../../src/fhir/gather';
import type { AppDeps } from '../../src/http/app';
import type { ClinicalFacts } from '../../src/protocol/facts';
import type { OrderCheck, Recommendation } from '../../src/protocol/recommendation';
import { loadDefinitions } from '../../src/service/definitions';
import type { ServiceDeps, Steps } from '../../src/service/deps';
import type { AuditRow, FeedbackItem } from '../../src/store';
import { assertConformant } from '../../src/validation/response';
import { memoryLogger, type MemoryLog } from './logs';

export const PARAMS = loadParameters().values;
export const DEFINITIONS = loadDefinitions();
export const NOW = new Date('2026-03-10T12:00:00Z');
export const PATIENT_VIEW = 'ketamine-protocol-patient-view';
export const ORDER_SELECT = 'ketamine-protocol-order-select';
export const ORDER_SIGN = 'ketamine-protocol-order-sign';
export const PUBLIC_BASE = 'https://cds.example.org';
export const DOCS_URL = `${PUBLIC_BASE}/docs/protocol`;
const PLAN_DEFINITION_URL = 'https://ketamine-cds.example.org/fhir/PlanDefinition/ketamine-chronic-migraine';

/** A pause that never keeps the test process alive on its own. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function emptyFacts(patientId: string): ClinicalFacts {
  return {
    patient: { id: patientId, birthDate: null, ageYears: null, gender: null },
    chronicMigraine: [],
    encounters: [],
    weight: null,
    ekg: null,
    pregnancyTest: null,
    pregnancyConditions: [],
    psychosis: [],
    ketamineAllergies: [],
    cautions: [],
    adverseEffects: [],
    vitals: [],
    painScores: [],
    administrations: [],
    orders: [],
    consent: null,
  };
}

function fakeRecommendation(overrides: Partial<Recommendation> = {}): Recommendation {
  return {
    setAside: { otherPatient: 0, unreadable: 0, items: [] },
    ruleId: 'S2',
    action: 'needs-data',
    phase: 'not-started',
    indicator: 'warning',
    currentRate: 0,
    recommendedRate: null,
    nextReviewAt: null,
    overdue: false,
    lastChangeAt: null,
    aboveSoftMax: false,
    maxToleratedRate: null,
    arithmetic: null,
    missing: [{ code: 'weight-missing' }],
    contraindications: [],
    cautions: [],
    prerequisites: {
      weight: null,
      ekg: null,
      pregnancyTest: null,
      pregnancyTestRequired: false,
      baselinePain: null,
      consent: null,
    },
    infusion: {
      segments: [],
      startedAt: null,
      highestRate: null,
      targetReachedAt: null,
      rateAtTarget: null,
      endedAt: null,
    },
    recentPain: [],
    sustained: null,
    vitals: [],
    adverseEffect: null,
    activeOrderId: null,
    weightKg: null,
    notes: [],
    protocolVersion: PARAMS.protocolVersion,
    ...overrides,
  };
}

/** Reads the Patient of the bundle into facts; ketamine draft orders become facts.orders. */
export function fakeEvaluator(
  options: { delayMs?: (patientId: string) => number } = {},
): ServiceDeps['evaluator'] & { bundles: Bundle[] } {
  const bundles: Bundle[] = [];
  return {
    bundles,
    async evaluate(bundle) {
      bundles.push(bundle);
      const patient = bundle.entry?.map((e) => e.resource).find((r): r is Patient => r?.resourceType === 'Patient');
      const id = patient?.id ?? 'unknown';
      const delay = options.delayMs?.(id) ?? 0;
      if (delay > 0) await sleep(delay);
      const facts = emptyFacts(id);
      for (const entry of bundle.entry ?? []) {
        const r = entry.resource;
        if (
          r?.resourceType === 'MedicationRequest' &&
          r.id &&
          /ketamine/i.test(r.medicationCodeableConcept?.text ?? '')
        ) {
          const rate = r.dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity;
          facts.orders.push({
            id: r.id,
            status: r.status,
            intent: r.intent,
            authoredOn: r.authoredOn ?? null,
            rate:
              rate?.value !== undefined
                ? { kind: 'quantity', value: rate.value, unit: rate.code ?? rate.unit ?? null }
                : null,
            medication: { recognizedBy: 'text', display: 'ketamine', concentrationMgPerMl: null },
          });
        }
      }
      return facts;
    },
  };
}

/**
 * Fake clinical steps around the real gather and response schema: decide names the patient it was given
 * (in `notes`), each selected draft is an O4 check, and cards carry the patient and rule so a test can
 * check that each answer belongs to its request.
 */
export function fakeSteps(overrides: Partial<Steps> = {}): Steps {
  return {
    gather,
    window: (bundle) => bundle,
    decide: (facts) => fakeRecommendation({ notes: [facts.patient.id] }),
    checkDraftOrder: (draft): OrderCheck => ({
      ruleId: 'O4',
      indicator: 'warning',
      draftId: draft.id,
      draftRate: draft.rate?.kind === 'quantity' ? draft.rate.value : null,
      draftCharted: null,
      suggestedRate: PARAMS.startRate,
      suggestion: 'set-rate',
      arithmetic: null,
      notes: [],
    }),
    buildCards: (input) => {
      const card = (ruleId: string, extra: string): Card => ({
        uuid: input.uuid(),
        summary: `Protocol note (${ruleId}) for ${input.recommendation.notes[0] ?? '?'}${extra}`,
        indicator: 'info',
        source: { label: 'Test', url: input.docsUrl },
      });
      if (input.hook === 'patient-view') return [card(input.recommendation.ruleId, '')];
      return input.orderChecks.map((check) => card(check.ruleId ?? '-', ` draft ${check.draftId}`));
    },
    assertConformant,
    ...overrides,
  };
}

export interface TestHarness {
  deps: AppDeps;
  log: MemoryLog;
  audits: AuditRow[];
  feedback: Array<{ serviceId: string; items: FeedbackItem[] }>;
}

let uuidCounter = 0;
/** Deterministic, valid v4-shaped uuids, unique across a test run. */
export function testUuid(): string {
  uuidCounter += 1;
  return `00000000-0000-4000-8000-${uuidCounter.toString(16).padStart(12, '0')}`;
}

export function harness(overrides: Partial<AppDeps> = {}, config: Partial<ServiceDeps['config']> = {}): TestHarness {
  const log = memoryLogger();
  const audits: AuditRow[] = [];
  const feedback: TestHarness['feedback'] = [];
  const deps: AppDeps = {
    definitions: DEFINITIONS,
    parameters: PARAMS,
    steps: fakeSteps(),
    evaluator: fakeEvaluator(),
    store: {
      recordAudit: (row) => void audits.push(row),
      recordFeedback: (serviceId, items) => {
        feedback.push({ serviceId, items });
        return { stored: items.length, duplicates: 0 };
      },
    },
    logger: log.logger,
    clock: () => NOW,
    uuid: testUuid,
    config: {
      deadlineMs: 2000,
      fhirServerAllowlist: [],
      fhirTimeoutMs: 1000,
      fhirMaxPages: 3,
      docsUrl: DOCS_URL,
      planDefinitionUrl: PLAN_DEFINITION_URL,
      ...config,
    },
    http: { publicBaseUrl: PUBLIC_BASE, requestLimitBytes: 1024 * 1024, corsOrigins: ['*'] },
    ...overrides,
  };
  return { deps, log, audits, feedback };
}

// ----- requests ----------------------------------------------------------------------------------

function patientBundle(patientId: string, family = 'Doe'): Patient {
  return {
    resourceType: 'Patient',
    id: patientId,
    name: [{ family, given: ['Jane'] }],
    gender: 'female',
    birthDate: '1980-04-01',
  };
}

/** A patient-view request whose prefetch holds every key: the patient, and every search empty. */
export function patientViewRequest(
  patientId: string,
  options: { family?: string; hookInstance?: string } = {},
): Record<string, unknown> {
  const prefetch: Record<string, unknown> = {};
  for (const key of Object.keys(DEFINITIONS.get(PATIENT_VIEW)?.prefetch ?? {})) {
    prefetch[key] =
      key === 'patient'
        ? patientBundle(patientId, options.family)
        : { resourceType: 'Bundle', type: 'searchset', total: 0 };
  }
  return {
    hook: 'patient-view',
    hookInstance: options.hookInstance ?? 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    context: { userId: 'Practitioner/example', patientId, encounterId: 'enc-1' },
    prefetch,
  };
}

export function ketamineDraft(id: string, rate: number): Record<string, unknown> {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { text: 'ketamine 1 mg/mL in NS infusion' },
    dosageInstruction: [
      {
        doseAndRate: [
          { rateQuantity: { value: rate, unit: 'mg/kg/h', system: 'http://unitsofmeasure.org', code: 'mg/kg/h' } },
        ],
      },
    ],
  };
}

export function orderRequest(
  hook: 'order-select' | 'order-sign',
  patientId: string,
  drafts: Array<Record<string, unknown>>,
  selections?: string[],
): Record<string, unknown> {
  const base = patientViewRequest(patientId);
  const context: Record<string, unknown> = {
    userId: 'Practitioner/example',
    patientId,
    draftOrders: { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) },
  };
  if (hook === 'order-select')
    context.selections = selections ?? drafts.map((d) => `${String(d.resourceType)}/${String(d.id)}`);
  return { ...base, hook, context };
}
