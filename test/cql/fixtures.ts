/** Small hand-built FHIR R4 records for the CQL tests (no PHI: invented patients). */
import type { Bundle, CodeableConcept, FhirResource } from 'fhir/r4';

export const SYSTEMS = {
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  sct: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  icd: 'http://hl7.org/fhir/sid/icd-10-cm',
  ucum: 'http://unitsofmeasure.org',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  clinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  verification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
} as const;

export const concept = (system: string, code: string, display?: string, text?: string): CodeableConcept => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
  ...(text ? { text } : {}),
});

export function bundle(...resources: FhirResource[]): Bundle {
  return { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) };
}

export const patient = (id = 'p1', extra: Record<string, unknown> = {}): FhirResource =>
  ({ resourceType: 'Patient', id, birthDate: '1980-05-10', gender: 'female', ...extra }) as FhirResource;

export const condition = (
  id: string,
  code: CodeableConcept,
  opts: { clinical?: string; verification?: string; onset?: string } = {},
): FhirResource =>
  ({
    resourceType: 'Condition',
    id,
    clinicalStatus: { coding: [{ system: SYSTEMS.clinical, code: opts.clinical ?? 'active' }] },
    ...(opts.verification
      ? { verificationStatus: { coding: [{ system: SYSTEMS.verification, code: opts.verification }] } }
      : {}),
    code,
    subject: { reference: 'Patient/p1' },
    ...(opts.onset ? { onsetDateTime: opts.onset } : {}),
  }) as FhirResource;

export const observation = (
  id: string,
  code: CodeableConcept,
  time: string,
  value: Record<string, unknown>,
  status = 'final',
): FhirResource =>
  ({
    resourceType: 'Observation',
    id,
    status,
    code,
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: time,
    ...value,
  }) as FhirResource;

export const quantity = (value: number, code: string) => ({
  valueQuantity: { value, unit: code, system: SYSTEMS.ucum, code },
});

export const KETAMINE = concept(SYSTEMS.rxnorm, '6130', 'ketamine');

export const administration = (
  id: string,
  start: string,
  rate: Record<string, unknown> | null,
  opts: {
    status?: string;
    end?: string;
    medication?: Record<string, unknown>;
    request?: string;
    contained?: unknown[];
  } = {},
): FhirResource =>
  ({
    resourceType: 'MedicationAdministration',
    id,
    status: opts.status ?? 'in-progress',
    ...(opts.contained ? { contained: opts.contained } : {}),
    ...(opts.medication ?? { medicationCodeableConcept: KETAMINE }),
    subject: { reference: 'Patient/p1' },
    effectivePeriod: { start, ...(opts.end ? { end: opts.end } : {}) },
    ...(opts.request ? { request: { reference: opts.request } } : {}),
    dosage: rate ? { rateQuantity: rate } : {},
  }) as FhirResource;

export const mgPerKgPerHour = (value: number) => ({ value, unit: 'mg/kg/h', system: SYSTEMS.ucum, code: 'mg/kg/h' });
