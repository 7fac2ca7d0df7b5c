/**
 * Deterministic fixtures for the benchmark (`npm run bench`, src/scripts/bench.mjs): one inpatient with
 * refractory chronic migraine mid-titration of an IV ketamine infusion, charted the way an EHR charts it
 * (hourly pain scores and vitals, a MedicationAdministration per bag/rate change, weight, EKG, pregnancy
 * test, conditions, encounter), and the CDS Hooks requests built from it.
 *
 * Every rate comes from the protocol parameters (start rate + k × escalation step), so the fixture follows
 * the parameter file; every time is relative to `now`, so the same `now` gives byte-identical fixtures.
 * Prefetch keys and queries are read from the service definitions (the discovery document), so the keys
 * always match the service; each key gets the resources its query selects (type, `code`, `status`).
 */
import type {
  AllergyIntolerance,
  Bundle,
  BundleEntry,
  Condition,
  Consent,
  Encounter,
  FhirResource,
  MedicationAdministration,
  MedicationRequest,
  Observation,
  Patient,
} from 'fhir/r4';
import type { ProtocolParameters } from '../config/parameters';
import type { CdsContext } from '../contract/cds-hooks';
import { renderTemplate } from '../fhir/prefetch-template';
import { MS_PER_HOUR, MS_PER_MINUTE, roundTo } from '../protocol/units';

export const PATIENT_ID = 'bench-patient-1';
export const ENCOUNTER_ID = 'bench-encounter-1';
export const ACTIVE_ORDER_ID = 'bench-ketamine-order-1';
export const DRAFT_ORDER_ID = 'bench-ketamine-draft-1';
export const PRACTITIONER_ID = 'bench-practitioner-1';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';

/** How long the record is, and how many administrations chart the infusion. */
export interface RecordShape {
  /** Hours of hourly pain scores and vitals before `now` (72 typical, 168 = 7 days large). */
  historyHours: number;
  /** Ketamine MedicationAdministrations (one per bag change or rate change). */
  administrations: number;
  /** Hours between two administrations (the charting cadence; the last one is a rate change). */
  administrationEveryHours: number;
  /** Index of the current rate on the titration ladder: startRate + currentStep × escalationStep. */
  currentStep: number;
}

export const TYPICAL: RecordShape = {
  historyHours: 72,
  administrations: 20,
  administrationEveryHours: 3.5,
  currentStep: 3,
};
export const LARGE: RecordShape = {
  historyHours: 7 * 24,
  administrations: 46,
  administrationEveryHours: 3.5,
  currentStep: 3,
};

export interface BenchRecord {
  now: Date;
  patientId: string;
  encounterId: string;
  /** Every resource of the record (what a FHIR server would hold for this patient). */
  resources: FhirResource[];
  /** The current infusion rate (mg/kg/h) and the one the protocol should recommend next (T8). */
  currentRate: number;
  /** The current rate's step on the titration ladder (RecordShape.currentStep). */
  currentStep: number;
  expectedNextRate: number;
  counts: Record<string, number>;
}

const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });
const quantity = (value: number, unit: string, code = unit) => ({ value, unit, system: UCUM, code });
const iso = (ms: number) => new Date(ms).toISOString();

/** A small deterministic wobble in [0, span) from an index (no randomness: fixtures are reproducible). */
const wobble = (i: number, span: number, salt: number) => ((((i + 1) * (salt * 2 + 7)) % span) + span) % span;

function observation(
  id: string,
  code: string,
  display: string,
  atMs: number,
  value: Partial<Observation>,
  category = 'vital-signs',
): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
    code: { coding: [{ system: LOINC, code, display }], text: display },
    subject: ref('Patient', PATIENT_ID),
    encounter: ref('Encounter', ENCOUNTER_ID),
    effectiveDateTime: iso(atMs),
    ...value,
  };
}

export function ketamineConcept() {
  return {
    coding: [{ system: RXNORM, code: '6130', display: 'ketamine' }],
    text: 'ketamine 1 mg/mL in sodium chloride 0.9% infusion',
  };
}

/**
 * The patient's record at `now`: an adult woman admitted (historyHours + 2 h) ago, with a weight, an EKG
 * and a negative pregnancy test charted an hour before the infusion started; `administrations` ketamine administrations one
 * cadence apart, the rate raised one escalation step at a time, the last one (in progress) being the rate
 * change to the current rate one cadence ago (≥ minHoursBetweenChanges, not overdue); hourly pain scores
 * all above target (no sustained relief: still titrating) and hourly normal vitals.
 * The protocol's answer on patient-view: T8, increase by one step.
 */
export function buildRecord(params: ProtocolParameters, now: Date, shape: RecordShape = TYPICAL): BenchRecord {
  const nowMs = now.getTime();
  const hoursAgo = (h: number) => nowMs - Math.round(h * MS_PER_HOUR);
  const rateAt = (step: number) => rateAtStep(params, step);
  const resources: FhirResource[] = [];
  const admittedHoursAgo = shape.historyHours + 2;
  const admittedMs = hoursAgo(admittedHoursAgo);

  const patient: Patient = {
    resourceType: 'Patient',
    id: PATIENT_ID,
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.5', value: 'BENCH-0001' }],
    name: [{ family: 'Bench', given: ['Synthetic'] }],
    gender: 'female',
    birthDate: '1984-05-17',
  };
  const encounter: Encounter = {
    resourceType: 'Encounter',
    id: ENCOUNTER_ID,
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
    subject: ref('Patient', PATIENT_ID),
    period: { start: iso(admittedMs) },
    reasonCode: [{ coding: [{ system: ICD10, code: 'G43.719' }], text: 'Chronic migraine, intractable' }],
  };
  const condition = (id: string, system: string, code: string, display: string, onset: string): Condition => ({
    resourceType: 'Condition',
    id,
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    verificationStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
    },
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] },
    ],
    code: { coding: [{ system, code, display }], text: display },
    subject: ref('Patient', PATIENT_ID),
    onsetDateTime: onset,
  });
  const allergy: AllergyIntolerance = {
    resourceType: 'AllergyIntolerance',
    id: 'bench-allergy-1',
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
    },
    code: { coding: [{ system: RXNORM, code: '7980', display: 'penicillin G' }], text: 'penicillin' },
    patient: ref('Patient', PATIENT_ID),
  };
  resources.push(
    patient,
    encounter,
    condition(
      'bench-condition-1',
      ICD10,
      'G43.719',
      'Chronic migraine without aura, intractable, without status migrainosus',
      '2019-03-01',
    ),
    condition(
      'bench-condition-2',
      ICD10,
      'G44.41',
      'Drug-induced headache, not elsewhere classified, intractable',
      '2023-09-12',
    ),
    allergy,
  );

  // Work-up an hour before the infusion started: weight, EKG, pregnancy test (within their windows), consent.
  const firstAdministrationHoursAgo = shape.administrationEveryHours * shape.administrations;
  const workupMs = hoursAgo(firstAdministrationHoursAgo + 1);
  resources.push(
    observation('bench-weight-1', '29463-7', 'Body weight', workupMs, { valueQuantity: quantity(68, 'kg') }),
    observation(
      'bench-ekg-1',
      '11524-6',
      'EKG study',
      workupMs,
      { valueString: 'Normal sinus rhythm, QTc 421 ms' },
      'procedure',
    ),
    observation(
      'bench-hcg-1',
      '2106-3',
      'Choriogonadotropin (pregnancy test) [Presence] in Urine',
      workupMs,
      { valueCodeableConcept: { coding: [{ system: SNOMED, code: '260385009', display: 'Negative' }] } },
      'laboratory',
    ),
  );
  const consent: Consent = {
    resourceType: 'Consent',
    id: 'bench-consent-1',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] },
    category: [{ coding: [{ system: LOINC, code: '59284-0', display: 'Patient Consent' }] }],
    patient: ref('Patient', PATIENT_ID),
    dateTime: iso(workupMs),
  };
  resources.push(consent);

  // The active order and its administrations: every administration starts one cadence after the previous,
  // the last one (in progress) is the one rate change that brought the infusion to the current rate.
  const currentRate = rateAt(shape.currentStep);
  const order: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id: ACTIVE_ORDER_ID,
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: ketamineConcept(),
    subject: ref('Patient', PATIENT_ID),
    encounter: ref('Encounter', ENCOUNTER_ID),
    authoredOn: iso(hoursAgo(firstAdministrationHoursAgo)),
    requester: ref('Practitioner', PRACTITIONER_ID),
    dosageInstruction: [
      {
        text: 'Titrate per IV ketamine protocol',
        route: { coding: [{ system: SNOMED, code: '47625008', display: 'Intravenous route' }] },
        doseAndRate: [{ rateQuantity: quantity(currentRate, 'mg/kg/h') }],
      },
    ],
  };
  resources.push(order);
  const n = shape.administrations;
  const lastStartHoursAgo = shape.administrationEveryHours;
  for (let i = 0; i < n; i++) {
    const startMs = hoursAgo(lastStartHoursAgo + (n - 1 - i) * shape.administrationEveryHours);
    const last = i === n - 1;
    const step = last ? shape.currentStep : Math.floor((i * shape.currentStep) / Math.max(n - 1, 1));
    const administration: MedicationAdministration = {
      resourceType: 'MedicationAdministration',
      id: `bench-admin-${String(i + 1).padStart(3, '0')}`,
      status: last ? 'in-progress' : 'completed',
      medicationCodeableConcept: ketamineConcept(),
      subject: ref('Patient', PATIENT_ID),
      context: ref('Encounter', ENCOUNTER_ID),
      effectivePeriod: last
        ? { start: iso(startMs) }
        : { start: iso(startMs), end: iso(startMs + Math.round(shape.administrationEveryHours * MS_PER_HOUR)) },
      request: ref('MedicationRequest', ACTIVE_ORDER_ID),
      dosage: {
        route: { coding: [{ system: SNOMED, code: '47625008', display: 'Intravenous route' }] },
        rateQuantity: quantity(rateAt(step), 'mg/kg/h'),
      },
    };
    resources.push(administration);
  }

  // Hourly pain scores (all above target: no sustained relief yet) and hourly vitals, newest first in time.
  const painFloor = params.targetPain + 1;
  const painSpan = params.painScaleMax - painFloor - 1;
  for (let i = 0; i < shape.historyHours; i++) {
    const atMs = nowMs - 20 * MS_PER_MINUTE - i * MS_PER_HOUR;
    resources.push(
      observation(
        `bench-pain-${String(i + 1).padStart(3, '0')}`,
        '72514-3',
        'Pain severity - 0-10 verbal numeric rating [Score] - Reported',
        atMs,
        { valueQuantity: quantity(painFloor + wobble(i, painSpan, 3), '{score}') },
        'survey',
      ),
    );
  }
  for (let i = 0; i < shape.historyHours; i++) {
    const atMs = nowMs - 15 * MS_PER_MINUTE - i * MS_PER_HOUR;
    const k = String(i + 1).padStart(3, '0');
    resources.push(
      observation(`bench-bp-${k}`, '85354-9', 'Blood pressure panel with all children optional', atMs, {
        component: [
          {
            code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] },
            valueQuantity: quantity(112 + wobble(i, 18, 5), 'mm[Hg]', 'mm[Hg]'),
          },
          {
            code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] },
            valueQuantity: quantity(68 + wobble(i, 12, 2), 'mm[Hg]', 'mm[Hg]'),
          },
        ],
      }),
      observation(`bench-hr-${k}`, '8867-4', 'Heart rate', atMs, {
        valueQuantity: quantity(68 + wobble(i, 20, 4), '/min'),
      }),
      observation(`bench-rr-${k}`, '9279-1', 'Respiratory rate', atMs, {
        valueQuantity: quantity(13 + wobble(i, 5, 1), '/min'),
      }),
      observation(`bench-spo2-${k}`, '59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry', atMs, {
        valueQuantity: quantity(95 + wobble(i, 4, 6), '%'),
      }),
    );
  }

  const counts: Record<string, number> = {};
  for (const r of resources) counts[r.resourceType] = (counts[r.resourceType] ?? 0) + 1;
  return {
    now,
    patientId: PATIENT_ID,
    encounterId: ENCOUNTER_ID,
    resources,
    currentRate,
    currentStep: shape.currentStep,
    expectedNextRate: rateAt(shape.currentStep + 1),
    counts,
  };
}

/** The rate `step` escalation steps above the start rate (mg/kg/h), rounded as the protocol rounds. */
export function rateAtStep(params: ProtocolParameters, step: number): number {
  return roundTo(params.startRate + step * params.escalationStep, params.rateRounding);
}

// ----- prefetch: the resources each service query selects --------------------------------------

function codingsOf(resource: FhirResource): { system?: string; code?: string }[] {
  const r = resource as unknown as Record<string, { coding?: { system?: string; code?: string }[] } | undefined>;
  return [...(r.code?.coding ?? []), ...(r.medicationCodeableConcept?.coding ?? [])];
}

function timeOf(resource: FhirResource): number {
  const r = resource as unknown as Record<string, unknown>;
  const candidates = [
    r.effectiveDateTime,
    (r.effectivePeriod as { start?: string } | undefined)?.start,
    r.authoredOn,
    r.date,
    r.recordedDate,
    r.onsetDateTime,
    (r.period as { start?: string } | undefined)?.start,
  ];
  const text = candidates.find((c): c is string => typeof c === 'string');
  return text ? Date.parse(text) : 0;
}

/**
 * The resources one search selects, as a FHIR server would: same type; `patient`/`subject` (the
 * reference); any listed `code` (system|code); any listed `status`; `_sort=-…` newest first.
 * Other parameters (`_count`, `_include`…) are left to the caller.
 */
export function searchRecord(resources: FhirResource[], type: string, query: URLSearchParams): FhirResource[] {
  const codes = query.get('code')?.split(',') ?? null;
  const statuses = query.get('status')?.split(',') ?? null;
  const who = query.get('patient') ?? query.get('subject');
  const patientRef = who === null ? null : who.startsWith('Patient/') ? who : `Patient/${who}`;
  const selected = resources.filter((r) => {
    if (r.resourceType !== type) return false;
    if (patientRef !== null) {
      const x = r as { subject?: { reference?: string }; patient?: { reference?: string } };
      if ((x.subject ?? x.patient)?.reference !== patientRef) return false;
    }
    if (codes && !codingsOf(r).some((c) => codes.some((t) => t === `${c.system}|${c.code}` || t === c.code)))
      return false;
    if (statuses && !statuses.includes(String((r as { status?: unknown }).status))) return false;
    return true;
  });
  if (query.get('_sort')?.startsWith('-')) selected.sort((a, b) => timeOf(b) - timeOf(a));
  return selected;
}

export function searchset(resources: FhirResource[], baseUrl = 'https://ehr.example.org/fhir'): Bundle {
  const entry: BundleEntry[] = resources.map((resource) => ({
    fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id ?? ''}`,
    resource,
    search: { mode: 'match' },
  }));
  return { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry };
}

/**
 * A full prefetch for the given service prefetch templates: each key's query evaluated over the record.
 * `_count` is not applied (many EHRs ignore it in prefetch): every matching resource is sent.
 */
export function prefetchFor(
  templates: Record<string, string>,
  record: BenchRecord,
  context: CdsContext,
): Record<string, FhirResource | null> {
  const prefetch: Record<string, FhirResource | null> = {};
  for (const [key, template] of Object.entries(templates)) {
    const query = renderTemplate(template, { context });
    if (query === null) {
      prefetch[key] = null;
      continue;
    }
    const [path = '', queryString = ''] = query.split('?', 2);
    const [type = '', id] = path.split('/');
    if (id !== undefined && !query.includes('?')) {
      prefetch[key] = record.resources.find((r) => r.resourceType === type && r.id === id) ?? null;
      continue;
    }
    prefetch[key] = searchset(searchRecord(record.resources, type, new URLSearchParams(queryString)));
  }
  return prefetch;
}

/** Every record resource as a transaction of PUTs (for seeding an in-memory FHIR server). */
export function transactionOf(record: BenchRecord): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: record.resources.map((resource) => ({
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id ?? ''}` },
    })),
  };
}

// ----- the CDS Hooks requests -------------------------------------------------------------------

/** Prefetch templates by service id, as GET /cds-services lists them. */
export interface DiscoveredService {
  id: string;
  hook: string;
  prefetch?: Record<string, string>;
}

const contextOf = (record: BenchRecord): CdsContext => ({
  userId: `Practitioner/${PRACTITIONER_ID}`,
  patientId: record.patientId,
  encounterId: record.encounterId,
});

/** A fixed-format uuid from a label, so fixtures stay reproducible. */
export function benchUuid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** patient-view with a full prefetch (CH-P1: no outbound FHIR call). */
export function patientViewRequest(
  service: DiscoveredService,
  record: BenchRecord,
  instance = 1,
): Record<string, unknown> {
  return {
    hookInstance: benchUuid(instance),
    hook: 'patient-view',
    context: {
      userId: `Practitioner/${PRACTITIONER_ID}`,
      patientId: record.patientId,
      encounterId: record.encounterId,
    },
    prefetch: prefetchFor(service.prefetch ?? {}, record, contextOf(record)),
  };
}

/** patient-view without prefetch: every key is fetched from `fhirServer` (CH-P3, CH-P7). */
export function patientViewFallbackRequest(
  record: BenchRecord,
  fhirServer: string,
  accessToken: string,
  instance = 3,
): Record<string, unknown> {
  return {
    hookInstance: benchUuid(instance),
    hook: 'patient-view',
    fhirServer,
    fhirAuthorization: {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'patient/*.read',
      subject: 'bench-cds-service',
    },
    context: {
      userId: `Practitioner/${PRACTITIONER_ID}`,
      patientId: record.patientId,
      encounterId: record.encounterId,
    },
  };
}

/** The draft ketamine order an order-sign request carries, at `rate` mg/kg/h. */
export function draftOrder(record: BenchRecord, rate: number): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: DRAFT_ORDER_ID,
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: ketamineConcept(),
    subject: ref('Patient', record.patientId),
    encounter: ref('Encounter', record.encounterId),
    authoredOn: record.now.toISOString(),
    priorPrescription: ref('MedicationRequest', ACTIVE_ORDER_ID),
    dosageInstruction: [
      {
        text: 'IV ketamine infusion',
        route: { coding: [{ system: SNOMED, code: '47625008', display: 'Intravenous route' }] },
        doseAndRate: [{ rateQuantity: quantity(rate, 'mg/kg/h') }],
      },
    ],
  };
}

/** order-sign with a full prefetch and one draft ketamine order at `rate` mg/kg/h. */
export function orderSignRequest(
  service: DiscoveredService,
  record: BenchRecord,
  rate: number,
  instance = 2,
): Record<string, unknown> {
  return {
    hookInstance: benchUuid(instance),
    hook: 'order-sign',
    context: {
      userId: `Practitioner/${PRACTITIONER_ID}`,
      patientId: record.patientId,
      encounterId: record.encounterId,
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draftOrder(record, rate) }] },
    },
    prefetch: prefetchFor(service.prefetch ?? {}, record, contextOf(record)),
  };
}
