/**
 * The record is the patient's (docs/clinical-specification.md §2, v1.1): before any clinical reading,
 * the gathered resources are checked for what no decision may rest on, and those are set aside:
 *  - a resource whose subject/patient names another patient (an EHR or FHIR server that ignored a
 *    search parameter sends such data), or another Patient resource;
 *  - a resource with a date that does not parse as a FHIR date/dateTime/instant;
 *  - a resource holding a number that is not finite (JSON's 1e400 reads as Infinity);
 *  - a null or malformed bundle entry (counted from the prefetch the EHR sent);
 *  - a resource whose clinical time is after `now` (v1.1: data dated after now is ignored, and the card
 *    says so): left in, a future recheck would hide the present value from every "latest" reading.
 * What was set aside is counted by kind (for the card and the audit row), never echoed: ids and content
 * stay out of text a clinician reads.
 */
import type { FhirResource } from 'fhir/r4';
import type { SetAsideItem, SetAsideSummary } from '../protocol/recommendation';

export type { SetAsideSummary };

export const NOTHING_SET_ASIDE: SetAsideSummary = Object.freeze({ otherPatient: 0, unreadable: 0, items: [] });

/**
 * FHIR date, dateTime and instant (R4 regular expressions, simplified to their shape). A time needs its
 * zone, as FHIR requires: without one, the instant would depend on the server's time zone.
 */
const FHIR_DATE =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/;

/** Fields holding a date on the resource types the service reads (top level or one level down). */
const DATE_FIELDS: readonly string[] = [
  'effectiveDateTime',
  'effectiveInstant',
  'issued',
  'onsetDateTime',
  'abatementDateTime',
  'recordedDate',
  'authoredOn',
  'date',
  'detected',
  'birthDate',
  'dateTime',
  'lastOccurrence',
];
const PERIOD_FIELDS: readonly string[] = ['effectivePeriod', 'period', 'onsetPeriod'];

/** The patient a reference names: "Patient/123", an absolute URL ending so, with or without _history. */
export function referencedPatientId(reference: unknown): { type: string; id: string } | null {
  if (typeof reference !== 'string') return null;
  const path = reference.split('#')[0]?.replace(/\/_history\/[^/]*$/, '') ?? '';
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.length < 2) return null;
  const id = parts[parts.length - 1] as string;
  const type = parts[parts.length - 2] as string;
  return /^[A-Z][A-Za-z]+$/.test(type) ? { type, id } : null;
}

/** The bare id of context.patientId ("123" or "Patient/123"). */
export function bareId(patientId: string): string {
  const ref = referencedPatientId(patientId);
  return ref && ref.type === 'Patient' ? ref.id : patientId;
}

function belongsToAnother(resource: FhirResource, patientId: string): boolean {
  if (resource.resourceType === 'Patient') return resource.id !== undefined && resource.id !== patientId;
  const holder = resource as { subject?: { reference?: unknown }; patient?: { reference?: unknown } };
  for (const ref of [holder.subject?.reference, holder.patient?.reference]) {
    const named = referencedPatientId(ref);
    if (named && (named.type !== 'Patient' || named.id !== patientId)) return true;
  }
  return false;
}

function unreadableDate(resource: Record<string, unknown>): string | null {
  for (const field of DATE_FIELDS) {
    const value = resource[field];
    if (value !== undefined && (typeof value !== 'string' || !FHIR_DATE.test(value))) return field;
  }
  for (const field of PERIOD_FIELDS) {
    const period = resource[field];
    if (period === undefined) continue;
    if (typeof period !== 'object' || period === null) return field;
    for (const end of ['start', 'end'] as const) {
      const value = (period as Record<string, unknown>)[end];
      if (value !== undefined && (typeof value !== 'string' || !FHIR_DATE.test(value))) return `${field}.${end}`;
    }
  }
  return null;
}

/** The path of the first number that is not finite, or null (depth-bounded: FHIR resources are shallow). */
function nonFiniteNumber(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (typeof value !== 'object' || value === null || depth > 12) return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = nonFiniteNumber(item, path, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = nonFiniteNumber(item, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Null or malformed entries in the prefetch bundles the EHR sent (each is set aside and counted). */
export function malformedPrefetchEntries(prefetch: Record<string, unknown> | undefined): number {
  let count = 0;
  for (const value of Object.values(prefetch ?? {})) {
    if (typeof value !== 'object' || value === null) continue;
    const entries = (value as { resourceType?: unknown; entry?: unknown }).entry;
    if ((value as { resourceType?: unknown }).resourceType !== 'Bundle' || !Array.isArray(entries)) continue;
    for (const entry of entries) {
      const resource = (entry as { resource?: unknown } | null)?.resource;
      // An entry without a resource is malformed too (a searchset entry carries one): gather skips it.
      if (
        typeof entry !== 'object' ||
        entry === null ||
        typeof resource !== 'object' ||
        resource === null ||
        typeof (resource as { resourceType?: unknown }).resourceType !== 'string'
      )
        count += 1;
    }
  }
  return count;
}

/**
 * This patient's own Patient resource is never set aside (without it there is no record to judge, 412):
 * a field of it that cannot be read (a birth date that does not parse, a number that is not finite) is
 * dropped from a copy instead, and counted.
 */
function readablePatient(patient: FhirResource, items: SetAsideItem[]): FhirResource {
  let copy: Record<string, unknown> = patient as unknown as Record<string, unknown>;
  for (let i = 0; i < Object.keys(patient).length; i++) {
    const dateField = unreadableDate(copy);
    const numberField = dateField ? null : nonFiniteNumber(copy, '', 0);
    const field = dateField ?? numberField;
    if (!field) break;
    items.push({ reason: dateField ? 'unreadable-date' : 'non-finite-number', resourceType: 'Patient', field });
    const { [field.split('.')[0] as string]: _dropped, ...rest } = copy;
    copy = rest;
  }
  return copy as unknown as FhirResource;
}

/** An in-progress administration without its unreadable start (effective[x] dropped) when that is all that is wrong; else null. */
function withoutStart(administration: FhirResource, dateField: string): FhirResource | null {
  if ((administration as { status?: unknown }).status !== 'in-progress') return null;
  const period = (administration as { effectivePeriod?: { end?: unknown } }).effectivePeriod;
  if (!['effectiveDateTime', 'effectivePeriod', 'effectivePeriod.start'].includes(dateField)) return null;
  if (typeof period === 'object' && period !== null && period.end !== undefined) return null;
  const {
    effectiveDateTime: _dateTime,
    effectivePeriod: _period,
    ...rest
  } = administration as FhirResource & {
    effectiveDateTime?: unknown;
    effectivePeriod?: unknown;
  };
  const copy = rest as FhirResource;
  return unreadableDate(copy as unknown as Record<string, unknown>) === null && nonFiniteNumber(copy, '', 0) === null
    ? copy
    : null;
}

/** An administration without its charted rate, when the rate held the only non-finite number; else null. */
function withoutRate(administration: FhirResource): FhirResource | null {
  const dosage = (administration as { dosage?: unknown }).dosage;
  if (typeof dosage !== 'object' || dosage === null || Array.isArray(dosage)) return null;
  const { rateQuantity: _quantity, rateRatio: _ratio, ...rest } = dosage as Record<string, unknown>;
  const copy = { ...administration, dosage: rest } as FhirResource;
  return nonFiniteNumber(copy, '', 0) === null ? copy : null;
}

/**
 * An observation whose quantity keeps its unit but loses its value, when that value held the only non-finite
 * number; else null. The latest weight must stay the latest: dropped, an older weight would stand in for an
 * unreadable one (which is D1, §2); kept without its value, it is read as charted but unreadable.
 */
function withoutQuantityValue(observation: FhirResource): FhirResource | null {
  const quantity = (observation as { valueQuantity?: unknown }).valueQuantity;
  if (typeof quantity !== 'object' || quantity === null || Array.isArray(quantity)) return null;
  const { value: _value, ...rest } = quantity as Record<string, unknown>;
  const copy = { ...observation, valueQuantity: rest } as FhirResource;
  return nonFiniteNumber(copy, '', 0) === null ? copy : null;
}

/** What is kept of a resource whose only non-finite number is a clinical value that still says something. */
function withoutNonFinite(resource: FhirResource, field: string): FhirResource | null {
  if (resource.resourceType === 'MedicationAdministration') return withoutRate(resource);
  if (resource.resourceType === 'Observation' && field === 'valueQuantity.value') return withoutQuantityValue(resource);
  return null;
}

/** Keep the resources that are this patient's and readable; count the rest by kind. */
export function ownRecord(
  resources: readonly FhirResource[],
  patientId: string,
  malformedEntries = 0,
  now: Date | null = null,
): { resources: FhirResource[]; setAside: SetAsideSummary } {
  const id = bareId(patientId);
  const kept: FhirResource[] = [];
  const items: SetAsideItem[] = [];
  for (let i = 0; i < malformedEntries; i++) items.push({ reason: 'malformed-entry', resourceType: null });
  for (const resource of resources) {
    if (belongsToAnother(resource, id)) {
      items.push({ reason: 'other-patient', resourceType: resource.resourceType });
      continue;
    }
    if (resource.resourceType === 'Patient') {
      kept.push(readablePatient(resource, items));
      continue;
    }
    const dateField = unreadableDate(resource as unknown as Record<string, unknown>);
    if (dateField) {
      items.push({ reason: 'unreadable-date', resourceType: resource.resourceType, field: dateField });
      // An in-progress administration whose start cannot be read still runs: kept without its time (the
      // core cannot place it: D1), never dropped (dropping it would read as "course completed", X1).
      const timeless = resource.resourceType === 'MedicationAdministration' ? withoutStart(resource, dateField) : null;
      if (timeless) kept.push(timeless);
      continue;
    }
    if (now !== null && datedAfter(resource, now.getTime())) {
      items.push({ reason: 'after-now', resourceType: resource.resourceType });
      continue;
    }
    const numberField = nonFiniteNumber(resource, '', 0);
    if (numberField) {
      items.push({ reason: 'non-finite-number', resourceType: resource.resourceType, field: numberField });
      // An administration whose rate is not finite still ran: kept without its rate (unreadable, D1 when
      // current), never dropped (dropping a running one would read as "course completed", X1). An
      // observation whose value is not finite was still charted: kept without its value (a latest weight
      // so is unreadable, D1; an older one must not stand in for it).
      const readablePart = withoutNonFinite(resource, numberField);
      if (readablePart) kept.push(readablePart);
      continue;
    }
    kept.push(resource);
  }
  const otherPatient = items.filter((x) => x.reason === 'other-patient').length;
  const afterNow = items.filter((x) => x.reason === 'after-now').length;
  return {
    resources: kept,
    setAside: {
      otherPatient,
      ...(afterNow > 0 ? { afterNow } : {}),
      unreadable: items.length - otherPatient - afterNow,
      items,
    },
  };
}

/**
 * The time a resource's clinical content refers to, by type: when it was observed, given, started or
 * recorded (the first of the fields that is charted). Orders and Consents are judged by their status.
 */
const CLINICAL_TIME: Readonly<Record<string, readonly string[]>> = {
  Observation: ['effectiveDateTime', 'effectiveInstant', 'effectivePeriod.start', 'issued'],
  DiagnosticReport: ['effectiveDateTime', 'effectivePeriod.start', 'issued'],
  MedicationAdministration: ['effectiveDateTime', 'effectivePeriod.start'],
  Condition: ['onsetDateTime', 'recordedDate'],
  AdverseEvent: ['date', 'detected', 'recordedDate'],
  AllergyIntolerance: ['onsetDateTime', 'recordedDate'],
  Encounter: ['period.start'],
};

function datedAfter(resource: FhirResource, nowMs: number): boolean {
  const record = resource as unknown as Record<string, unknown>;
  for (const path of CLINICAL_TIME[resource.resourceType] ?? []) {
    const [head, tail] = path.split('.') as [string, string | undefined];
    const holder = record[head];
    const value = tail === undefined ? holder : (holder as Record<string, unknown> | undefined)?.[tail];
    if (typeof value !== 'string') continue;
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    return Number.isFinite(ms) && ms > nowMs;
  }
  return false;
}
