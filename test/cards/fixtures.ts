/**
 * Hand-built Recommendation / OrderCheck objects and card inputs for the card tests (the decision
 * core is tested elsewhere). The scenario is the seed's: 70 kg, titrating from 0.2 mg/kg/h.
 */
import type { MedicationRequest, ValueSet } from 'fhir/r4';
import { loadParameters } from '../../src/config/parameters';
import type { CardInput } from '../../src/cards/build';
import { buildCards } from '../../src/cards/build';
import { medicationConceptFromValueSet, RXNORM_SYSTEM } from '../../src/cards/medication';
import type { Card } from '../../src/cards/types';
import type { OrderCheck, Recommendation } from '../../src/protocol/recommendation';
import { assertConformant } from '../../src/validation/response';

export const loaded = loadParameters();
export const params = loaded.values;

/** A ValueSet shaped like fhir-resources/ValueSet/ketamine.json (test data, not the project's codes). */
export const ketamineValueSet: ValueSet = {
  resourceType: 'ValueSet',
  status: 'draft',
  url: 'https://ketamine-cds.example.org/fhir/ValueSet/ketamine',
  compose: {
    include: [
      {
        system: RXNORM_SYSTEM,
        concept: [
          { code: 'rx-scd-1', display: 'ketamine 10 MG/ML Injectable Solution' },
          { code: 'rx-in-1', display: 'ketamine' },
        ],
      },
      { system: 'http://snomed.info/sct', concept: [{ code: 'sct-1', display: 'Ketamine' }] },
    ],
  },
};
export const medication = medicationConceptFromValueSet(ketamineValueSet);

export const NOW = new Date('2026-11-24T12:30:00Z');
export const PLAN_DEFINITION_URL = 'https://ketamine-cds.example.org/fhir/PlanDefinition/ketamine-chronic-migraine';
export const DOCS_URL = 'https://ketamine-cds.example.org/docs/protocol';

/** Deterministic uuids: 00000000-0000-4000-8000-000000000001, …002, … */
function sequentialUuids(): () => string {
  let counter = 0;
  return () => {
    counter += 1;
    return `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  };
}

export function recommendation(overrides: Partial<Recommendation> = {}): Recommendation {
  const base: Recommendation = {
    setAside: { otherPatient: 0, unreadable: 0, items: [] },
    ruleId: 'T8',
    action: 'increase',
    phase: 'titration',
    indicator: 'info',
    currentRate: 0.2,
    recommendedRate: 0.3,
    nextReviewAt: '2026-11-24T12:00:00Z',
    overdue: false,
    lastChangeAt: '2026-11-24T09:00:00Z',
    aboveSoftMax: false,
    maxToleratedRate: null,
    arithmetic: {
      fromRate: 0.2,
      toRate: 0.3,
      step: 0.1,
      weightKg: 70,
      mgPerHour: 21,
      concentrationMgPerMl: 1,
      concentrationSource: 'default',
      mlPerHour: 21,
    },
    missing: [],
    contraindications: [],
    cautions: [],
    prerequisites: {
      weight: { valueKg: 70, time: '2026-11-23T08:00:00Z', fresh: true },
      ekg: { time: '2026-11-22T10:15:00Z', fresh: true },
      pregnancyTest: null,
      pregnancyTestRequired: false,
      baselinePain: { id: 'pain-0', time: '2026-11-24T05:30:00Z', score: 8 },
      consent: { time: '2026-11-24T05:00:00Z' },
    },
    infusion: {
      segments: [
        { rate: 0.1, start: '2026-11-24T06:00:00Z', end: '2026-11-24T09:00:00Z', administrationIds: ['ma-1'] },
        { rate: 0.2, start: '2026-11-24T09:00:00Z', end: null, administrationIds: ['ma-2'] },
      ],
      startedAt: '2026-11-24T06:00:00Z',
      highestRate: 0.2,
      targetReachedAt: null,
      rateAtTarget: null,
      endedAt: null,
    },
    recentPain: [
      { id: 'pain-1', time: '2026-11-24T08:30:00Z', score: 7 },
      { id: 'pain-2', time: '2026-11-24T11:45:00Z', score: 6, charted: '60 mm' },
    ],
    sustained: null,
    vitals: [
      { kind: 'sbp', value: 128, unit: 'mm[Hg]', time: '2026-11-24T11:40:00Z', breach: null },
      { kind: 'hr', value: 84, unit: '/min', time: '2026-11-24T11:40:00Z', breach: null },
    ],
    adverseEffect: null,
    activeOrderId: 'order-1',
    weightKg: 70,
    notes: [],
    protocolVersion: params.protocolVersion,
  };
  return { ...base, ...overrides };
}

/** A not-started patient with every prerequisite met (S3). */
export function notStarted(overrides: Partial<Recommendation> = {}): Recommendation {
  return recommendation({
    ruleId: 'S3',
    action: 'start',
    phase: 'not-started',
    indicator: 'info',
    currentRate: 0,
    recommendedRate: 0.1,
    nextReviewAt: null,
    lastChangeAt: null,
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
    infusion: {
      segments: [],
      startedAt: null,
      highestRate: null,
      targetReachedAt: null,
      rateAtTarget: null,
      endedAt: null,
    },
    recentPain: [{ id: 'pain-0', time: '2026-11-24T11:00:00Z', score: 8 }],
    activeOrderId: null,
    ...overrides,
  });
}

export function draft(id: string, overrides: Partial<MedicationRequest> = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: { text: 'Ketamine 1 mg/mL in NS 100 mL' },
    subject: { reference: 'Patient/pat-1' },
    encounter: { reference: 'Encounter/enc-1' },
    requester: { reference: 'Practitioner/dr-1' },
    note: [{ text: 'Titrate per protocol' }],
    dosageInstruction: [
      {
        text: 'Ketamine 0.8 mg/kg/h IV',
        route: { text: 'IV' },
        doseAndRate: [
          { rateQuantity: { value: 0.8, unit: 'mg/kg/h', system: 'http://unitsofmeasure.org', code: 'mg/kg/h' } },
        ],
      },
    ],
    ...overrides,
  };
}

export function orderCheck(overrides: Partial<OrderCheck> = {}): OrderCheck {
  return {
    ruleId: 'O6',
    indicator: 'warning',
    draftId: 'draft-1',
    draftRate: 0.8,
    draftCharted: '0.8 mg/kg/h',
    suggestedRate: 0.3,
    suggestion: 'set-rate',
    arithmetic: {
      fromRate: 0.8,
      toRate: 0.3,
      step: null,
      weightKg: 70,
      mgPerHour: 21,
      concentrationMgPerMl: 1,
      concentrationSource: 'charted',
      mlPerHour: 21,
    },
    notes: [],
    ...overrides,
  };
}

export function input(overrides: Partial<CardInput> = {}): CardInput {
  return {
    hook: 'patient-view',
    recommendation: recommendation(),
    orderChecks: [],
    drafts: {},
    patientId: 'pat-1',
    encounterId: 'enc-1',
    params,
    uuid: sequentialUuids(),
    now: NOW,
    planDefinitionUrl: PLAN_DEFINITION_URL,
    docsUrl: DOCS_URL,
    evidence: { citation: loaded.file.citation, evidenceLevel: loaded.file.evidenceLevel },
    medication,
    ...overrides,
  };
}

/** Builds the cards and checks that the response they make is conformant (CH-C9). */
export function build(overrides: Partial<CardInput> = {}): Card[] {
  const cards = buildCards(input(overrides));
  assertConformant({ cards });
  return cards;
}

export function only(cards: Card[]): Card {
  expect(cards).toHaveLength(1);
  return cards[0] as Card;
}
