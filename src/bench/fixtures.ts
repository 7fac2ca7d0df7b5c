/**
 * Deterministic fixtures for the benchmark (`npm run bench`, src/scripts/bench.mjs): one inpatient with
 * refractory chronic migraine mid-titration of an IV ketamine infusion, charted by the one chart builder
 * (test/support/chart.ts, the examples' and the tests': hourly pain scores and vitals, a
 * MedicationAdministration per rate change, weight, EKG, pregnancy test, conditions, encounter), and the
 * CDS Hooks requests built from it.
 *
 * Every rate comes from the protocol parameters (start rate + k × escalation step), so the fixture follows
 * the parameter file; every time is relative to `now`, so the same `now` gives byte-identical fixtures.
 * Prefetch keys and queries are read from the service definitions (the discovery document), so the keys
 * always match the service; each key gets the resources its query selects (type, `code`, `status`).
 */
import type { Bundle, BundleEntry, FhirResource, MedicationRequest } from 'fhir/r4';
import type { ProtocolParameters } from '../config/parameters';
import type { CdsContext } from '../contract/cds-hooks';
import { renderTemplate } from '../fhir/prefetch-template';
import { MS_PER_HOUR, MS_PER_MINUTE, roundTo } from '../protocol/units';
// The one chart builder (test data: the EHR's side), compiled into dist with the benchmark.
import {
  chartBundle,
  COMORBIDITY,
  draftOrder,
  iso,
  MIGRAINE,
  offsetText,
  PAIN_NUMERIC,
} from '../../test/support/chart';

const KEY = 'bench';
const PATIENT_ID = `${KEY}-patient`;
const ENCOUNTER_ID = `${KEY}-encounter`;
const ACTIVE_ORDER_ID = `${KEY}-order`;
const DRAFT_ORDER_ID = `${KEY}-ketamine-draft-1`;
const PRACTITIONER_ID = `${KEY}-practitioner-1`;

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

/** A small deterministic wobble in [0, span) from an index (no randomness: fixtures are reproducible). */
const wobble = (i: number, span: number, salt: number) => ((((i + 1) * (salt * 2 + 7)) % span) + span) % span;

/**
 * The patient's record at `now`, charted by the chart builder: an adult woman admitted (historyHours + 2 h)
 * ago, with a weight, an EKG, a negative pregnancy test and the consent charted an hour before the infusion
 * started; `administrations` ketamine administrations one cadence apart, the rate raised one escalation step
 * at a time, the last one (in progress) being the rate change to the current rate one cadence ago
 * (≥ minHoursBetweenChanges, not overdue); hourly pain scores all above target (no sustained relief: still
 * titrating), each with normal vitals. The protocol's answer on patient-view: T8, increase by one step.
 */
export function buildRecord(params: ProtocolParameters, now: Date, shape: RecordShape = TYPICAL): BenchRecord {
  const nowMs = now.getTime();
  const cadenceMs = Math.round(shape.administrationEveryHours * MS_PER_HOUR);
  const startMs = nowMs - cadenceMs * shape.administrations;
  /** The offset of a time from the infusion start, as the chart timeline writes it. */
  const off = (ms: number) => offsetText(ms - startMs);
  const rateAt = (step: number) => rateAtStep(params, step);
  const currentRate = rateAt(shape.currentStep);

  const timeline: Array<readonly unknown[]> = [
    [off(startMs - MS_PER_HOUR), 'weight', 68],
    [off(startMs - MS_PER_HOUR), 'ekg', 'Observation'],
    [off(startMs - MS_PER_HOUR), 'pregnancy-test', 'negative'],
    [off(startMs - MS_PER_HOUR), 'consent'],
    [off(startMs), 'order', currentRate],
  ];
  const n = shape.administrations;
  for (let i = 0; i < n; i++) {
    const step = i === n - 1 ? shape.currentStep : Math.floor((i * shape.currentStep) / Math.max(n - 1, 1));
    timeline.push([off(startMs + i * cadenceMs), 'rate', rateAt(step)]);
  }
  // Hourly pain scores, all above target (no sustained relief yet), each with normal vitals.
  const painFloor = params.targetPain + 1;
  const painSpan = params.painScaleMax - painFloor - 1;
  for (let i = shape.historyHours - 1; i >= 0; i--)
    timeline.push([off(nowMs - 20 * MS_PER_MINUTE - i * MS_PER_HOUR), 'pain', painFloor + wobble(i, painSpan, 3)]);

  const chart = chartBundle({
    key: KEY,
    mrn: 'BENCH-0001',
    admission: iso(nowMs - (shape.historyHours + 2) * MS_PER_HOUR),
    start: iso(startMs),
    patient: { family: 'Bench', given: 'Synthetic', gender: 'female', birthDate: '1984-05-17' },
    conditions: [
      { key: 'migraine', code: MIGRAINE, onsetAge: 20 },
      { key: 'depression', code: COMORBIDITY.depression },
    ],
    chart: { unit: 'mg/kg/h' },
    painCode: PAIN_NUMERIC,
    bp: 'panel',
    timeline,
  });
  const resources = (chart.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
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

/**
 * The rate `step` escalation steps above the start rate (mg/kg/h), rounded as the protocol rounds.
 * @public used by src/scripts/bench.mjs (through dist/, which knip does not follow)
 */
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
function searchRecord(resources: FhirResource[], type: string, query: URLSearchParams): FhirResource[] {
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

function searchset(resources: FhirResource[], baseUrl = 'https://ehr.example.org/fhir'): Bundle {
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
function prefetchFor(
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

/**
 * Every record resource as a transaction of PUTs (for seeding an in-memory FHIR server).
 * @public used by src/scripts/bench.mjs (through dist/, which knip does not follow)
 */
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
function benchUuid(n: number): string {
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

/** The draft ketamine order an order-sign request carries, at `rate` mg/kg/h (the chart builder's). */
function benchDraft(record: BenchRecord, rate: number): MedicationRequest {
  return draftOrder({
    id: DRAFT_ORDER_ID,
    patientId: record.patientId,
    encounterId: record.encounterId,
    authoredOn: record.now.toISOString(),
    rate: { value: rate, unit: 'mg/kg/h' },
    priorOrderId: ACTIVE_ORDER_ID,
  });
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
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: benchDraft(record, rate) }] },
    },
    prefetch: prefetchFor(service.prefetch ?? {}, record, contextOf(record)),
  };
}
