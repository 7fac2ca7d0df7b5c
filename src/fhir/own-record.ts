/**
 * The record is the patient's (docs/clinical-specification.md §2, v1.1): before any clinical reading,
 * the gathered resources are checked for what no decision may rest on, and those are set aside:
 *  - a resource whose subject/patient names another patient (an EHR or FHIR server that ignored a
 *    search parameter sends such data), or another Patient resource;
 *  - a resource with a date that does not parse as a FHIR date/dateTime/instant;
 *  - a resource holding a number that is not finite (JSON's 1e400 reads as Infinity);
 *  - a resource with a field the service reads in the wrong JSON shape (a list that is not a list, an
 *    object that is not an object: FIELD_SHAPES);
 *  - a null or malformed bundle entry, or a Bundle whose entry or link is not a list (counted from the
 *    prefetch the EHR sent, and by src/fhir/gather.ts in what it fetched);
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

/**
 * The JSON shape of the fields the service reads (FHIR R4 complex types), by resource type, parents first:
 * `path[]` is a list of objects (0..* in FHIR), `path` an object. A path runs through lists: `component.code`
 * is the code of every component. A field of another shape cannot be read (the engine would read nothing,
 * or something else, without a word): the resource is set aside and named. Contained resources are checked
 * by their own type. Every resource's `subject` and `patient` are objects (COMMON_SHAPES).
 */
const COMMON_SHAPES: readonly string[] = ['subject', 'patient'];
const CODE: readonly string[] = ['code', 'code.coding[]'];
const RATIO = (path: string): string[] => [path, `${path}.numerator`, `${path}.denominator`];
const MEDICATION: readonly string[] = [
  'contained[]',
  'medicationCodeableConcept',
  'medicationCodeableConcept.coding[]',
  'medicationReference',
];
const FIELD_SHAPES: Readonly<Record<string, readonly string[]>> = {
  Observation: [
    ...CODE,
    'category[]',
    'category.coding[]',
    'effectivePeriod',
    'valueQuantity',
    'valueCodeableConcept',
    'valueCodeableConcept.coding[]',
    'interpretation[]',
    'interpretation.coding[]',
    'component[]',
    'component.code',
    'component.code.coding[]',
    'component.valueQuantity',
    'component.valueCodeableConcept',
    'component.valueCodeableConcept.coding[]',
    'component.interpretation[]',
  ],
  DiagnosticReport: [...CODE, 'category[]', 'effectivePeriod'],
  AdverseEvent: ['event', 'event.coding[]', 'category[]', 'suspectEntity[]', 'suspectEntity.instance'],
  MedicationAdministration: [
    ...MEDICATION,
    'effectivePeriod',
    'request',
    'dosage',
    'dosage.rateQuantity',
    ...RATIO('dosage.rateRatio'),
  ],
  MedicationRequest: [
    ...MEDICATION,
    'dosageInstruction[]',
    'dosageInstruction.doseAndRate[]',
    'dosageInstruction.doseAndRate.rateQuantity',
    ...RATIO('dosageInstruction.doseAndRate.rateRatio'),
  ],
  Medication: [
    ...CODE,
    'ingredient[]',
    'ingredient.itemCodeableConcept',
    'ingredient.itemCodeableConcept.coding[]',
    ...RATIO('ingredient.strength'),
  ],
  Condition: [
    ...CODE,
    'category[]',
    'clinicalStatus',
    'clinicalStatus.coding[]',
    'verificationStatus',
    'verificationStatus.coding[]',
    'onsetPeriod',
  ],
  AllergyIntolerance: [
    ...CODE,
    'clinicalStatus',
    'clinicalStatus.coding[]',
    'verificationStatus',
    'verificationStatus.coding[]',
  ],
  Encounter: ['class', 'period'],
  Consent: ['scope', 'scope.coding[]', 'category[]'],
};

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

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One entry of FIELD_SHAPES, read once: its path (as named on the card), its steps, and whether it is a list. */
interface Shape {
  path: string;
  steps: readonly string[];
  list: boolean;
}
const shapesOf = (specs: readonly string[]): Shape[] =>
  specs.map((spec) => {
    const path = spec.replace(/\[\]$/, '');
    return { path, steps: path.split('.'), list: spec.endsWith('[]') };
  });
const SHAPES_BY_TYPE = new Map<string, Shape[]>(
  Object.entries(FIELD_SHAPES).map(([type, specs]) => [type, shapesOf([...COMMON_SHAPES, ...specs])]),
);
const COMMON = shapesOf(COMMON_SHAPES);

/** The values at a path, through lists (every item of a list on the way). */
function valuesAt(resource: Record<string, unknown>, steps: readonly string[]): unknown[] {
  let found: unknown[] = [resource];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const holder of found)
      for (const item of Array.isArray(holder) ? holder : [holder])
        if (isObject(item) && item[step] !== undefined) next.push(item[step]);
    found = next;
  }
  return found;
}

/** The path of the first field the service reads whose JSON shape is not its FHIR type (FIELD_SHAPES), or null. */
export function malformedField(resource: Record<string, unknown>, prefix = ''): string | null {
  const type = resource['resourceType'];
  for (const { path, steps, list } of (typeof type === 'string' ? SHAPES_BY_TYPE.get(type) : undefined) ?? COMMON) {
    for (const value of valuesAt(resource, steps))
      if (list ? !Array.isArray(value) || !value.every(isObject) : !isObject(value)) return prefix + path;
  }
  const contained = resource['contained'];
  if (prefix === '' && Array.isArray(contained))
    for (const inner of contained as unknown[]) {
      const found = isObject(inner) ? malformedField(inner, 'contained.') : null;
      if (found) return found;
    }
  return null;
}

/**
 * Null or malformed entries of one Bundle (each is set aside and counted); an entry or link that is not a
 * list counts once: the Bundle's entries, or its further pages, cannot be read.
 */
export function malformedBundleEntries(bundle: unknown): number {
  if (!isObject(bundle) || bundle['resourceType'] !== 'Bundle') return 0;
  const { entry: entries, link } = bundle;
  let count = link !== undefined && !Array.isArray(link) ? 1 : 0;
  if (entries === undefined) return count;
  if (!Array.isArray(entries)) return count + 1;
  for (const entry of entries as unknown[]) {
    // An entry without a resource is malformed too (a searchset entry carries one): gather skips it.
    const resource = isObject(entry) ? entry['resource'] : undefined;
    if (!isObject(resource) || typeof resource['resourceType'] !== 'string') count += 1;
  }
  return count;
}

/** Null or malformed entries in the prefetch bundles the EHR sent (each is set aside and counted). */
export function malformedPrefetchEntries(prefetch: Record<string, unknown> | undefined): number {
  let count = 0;
  for (const value of Object.values(prefetch ?? {})) count += malformedBundleEntries(value);
  return count;
}

/** A field that cannot be read, and why. */
interface Unreadable {
  reason: 'unreadable-date' | 'malformed' | 'non-finite-number';
  field: string;
}

/** The first field of a resource that cannot be read: a date, then a field's shape, then a number. */
function unreadableField(resource: Record<string, unknown>): Unreadable | null {
  const date = unreadableDate(resource);
  if (date) return { reason: 'unreadable-date', field: date };
  return shapeOrNumber(resource);
}

function shapeOrNumber(resource: Record<string, unknown>): Unreadable | null {
  const shape = malformedField(resource);
  if (shape) return { reason: 'malformed', field: shape };
  const number = nonFiniteNumber(resource, '', 0);
  return number ? { reason: 'non-finite-number', field: number } : null;
}

/**
 * This patient's own Patient resource is never set aside (without it there is no record to judge, 412):
 * a field of it that cannot be read (a birth date that does not parse, a number that is not finite, a field
 * of the wrong shape) is dropped from a copy instead, and counted.
 */
function readablePatient(patient: FhirResource, items: SetAsideItem[]): FhirResource {
  let copy: Record<string, unknown> = patient as unknown as Record<string, unknown>;
  for (let i = 0; i < Object.keys(patient).length; i++) {
    const unreadable = unreadableField(copy);
    if (!unreadable) break;
    items.push({ reason: unreadable.reason, resourceType: 'Patient', field: unreadable.field });
    const { [unreadable.field.split('.')[0] as string]: _dropped, ...rest } = copy;
    copy = rest;
  }
  return copy as unknown as FhirResource;
}

/** An in-progress administration without its unreadable start (effective[x] dropped) when it has no end; else null. */
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
  return rest as FhirResource;
}

/** An administration without its charted rate (or without its dosage, when that is not an object). */
function withoutRate(administration: FhirResource): FhirResource {
  const { dosage, ...rest } = administration as FhirResource & { dosage?: unknown };
  if (!isObject(dosage)) return rest as FhirResource;
  const { rateQuantity: _quantity, rateRatio: _ratio, ...readable } = dosage;
  return { ...rest, dosage: readable } as FhirResource;
}

/** An observation whose quantity keeps what it can (its unit) but loses its value. */
function withoutQuantityValue(observation: FhirResource): FhirResource {
  const quantity = (observation as { valueQuantity?: unknown }).valueQuantity;
  const { value: _value, ...rest } = isObject(quantity) ? quantity : {};
  return { ...observation, valueQuantity: rest } as FhirResource;
}

/**
 * What is kept of a resource one of whose fields cannot be read, when the rest still says something; else
 * null. An administration still ran: without its unreadable start (it still runs, D1), rate or request (its
 * rate is unreadable, D1 when current), never dropped (dropping a running one would read as "course
 * completed", X1). An observation whose quantity cannot be read was still charted: kept with a quantity
 * without a value (a latest weight so is unreadable, D1; an older one must not stand in for it, §2).
 */
function readablePart(resource: FhirResource, { reason, field }: Unreadable): FhirResource | null {
  if (resource.resourceType === 'MedicationAdministration') {
    if (reason === 'unreadable-date') return withoutStart(resource, field);
    if (field === 'dosage' || field.startsWith('dosage.rateQuantity') || field.startsWith('dosage.rateRatio'))
      return withoutRate(resource);
    if (reason === 'malformed' && field === 'request') {
      const { request: _request, ...rest } = resource as FhirResource & { request?: unknown };
      return rest as FhirResource;
    }
  }
  if (resource.resourceType === 'Observation' && ['valueQuantity', 'valueQuantity.value'].includes(field))
    return withoutQuantityValue(resource);
  return null;
}

/** Most unreadable parts one resource may lose and still be kept (each found and named in turn). */
const MAX_PARTS_DROPPED = 4;

/**
 * One resource as it is kept: itself when every field it holds reads; without its unreadable parts when
 * those are all that is wrong (readablePart); else null, set aside. Each unreadable field is counted.
 */
function readable(
  resource: FhirResource,
  items: SetAsideItem[],
  nowMs: number | null,
  dropped = 0,
): FhirResource | null {
  const record = resource as unknown as Record<string, unknown>;
  const dateField = unreadableDate(record);
  if (dateField === null && nowMs !== null && datedAfter(resource, nowMs)) {
    items.push({ reason: 'after-now', resourceType: resource.resourceType });
    return null;
  }
  const unreadable: Unreadable | null =
    dateField !== null ? { reason: 'unreadable-date', field: dateField } : shapeOrNumber(record);
  if (unreadable === null) return resource;
  items.push({ reason: unreadable.reason, resourceType: resource.resourceType, field: unreadable.field });
  const rest = dropped < MAX_PARTS_DROPPED ? readablePart(resource, unreadable) : null;
  return rest ? readable(rest, items, nowMs, dropped + 1) : null;
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
    const own =
      resource.resourceType === 'Patient'
        ? readablePatient(resource, items)
        : readable(resource, items, now?.getTime() ?? null);
    if (own) kept.push(own);
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
