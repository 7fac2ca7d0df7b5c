/**
 * The one chart builder: FHIR R4 resources as an EHR charts them (no PHI: invented patients). Used by
 * the example patients' generator (src/scripts/make-examples.mjs → fhir-resources/examples), the
 * benchmark's record (src/bench/fixtures.ts) and the tests (small hand-built records, golden draft
 * orders). A chart is either a timeline (`chartBundle`: what a nurse and a pump would have charted,
 * turned into a transaction Bundle) or a few resources built one by one (`observation`, `administration`…).
 *
 * It holds codes as literals on purpose: it is the EHR's side, test data (the service's own code reads
 * its codes from fhir-resources/ValueSet only). It computes no protocol decision.
 */
import { createHash } from 'node:crypto';
import type { Bundle, CodeableConcept, FhirResource, Medication, MedicationRequest } from 'fhir/r4';

/** Code systems as the tests and the examples write them. */
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

/** RxNorm ingredient code of ketamine. */
const KETAMINE_RXNORM = '6130';

// ---------------------------------------------------------------------------------------------------
// Resources one by one
// ---------------------------------------------------------------------------------------------------

export const concept = (system: string, code: string, display?: string, text?: string): CodeableConcept => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
  ...(text ? { text } : {}),
});

/** A collection Bundle of the resources (what the evaluator reads). */
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

/** A UCUM quantity: { value, unit, system, code } (`unit` defaults to the code). */
const ucumQuantity = (value: number, code: string, unit = code) => ({ value, unit, system: UCUM, code });

/** An Observation value: `{ valueQuantity }` in UCUM. */
export const quantity = (value: number, code: string) => ({ valueQuantity: ucumQuantity(value, code) });

export const mgPerKgPerHour = (value: number) => ucumQuantity(value, 'mg/kg/h');

/** Ketamine by its RxNorm ingredient code. */
export const KETAMINE = concept(SYSTEMS.rxnorm, KETAMINE_RXNORM, 'ketamine');

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

/** A ketamine bag: the drug with its strength (`mg` in `ml`), as a Medication. */
export function ketamineBag(bag: { id: string; text: string; mg: number; ml: number; status?: 'active' }): Medication {
  return {
    resourceType: 'Medication',
    id: bag.id,
    code: { ...concept(RXNORM, KETAMINE_RXNORM, 'ketamine'), text: bag.text },
    ...(bag.status ? { status: bag.status } : {}),
    ingredient: [
      {
        itemCodeableConcept: concept(RXNORM, KETAMINE_RXNORM, 'ketamine'),
        isActive: true,
        strength: { numerator: ucumQuantity(bag.mg, 'mg'), denominator: ucumQuantity(bag.ml, 'mL') },
      },
    ],
  };
}

export interface DraftInput {
  id: string;
  patientId: string;
  encounterId: string;
  authoredOn: string;
  /** null: the EHR sent the order with a free-text rate only. */
  rate: { value: number; unit: 'mg/kg/h' | 'mg/h' | 'mL/h' } | null;
  requester?: string;
  /** The active ketamine order this draft changes (a rate change while running). */
  priorOrderId?: string;
  /** Epic-style: the drug as a Medication sent beside the draft in draftOrders. */
  medication?: { id: string; display: string };
  text?: string;
}

const ORDERED = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/dose-rate-type', code: 'ordered', display: 'Ordered' }],
};

/** A draft ketamine infusion order, as an EHR holds it before it is signed. */
export function draftOrder(input: DraftInput): MedicationRequest {
  const rateText = input.rate ? `${input.rate.value} ${input.rate.unit}` : 'rate per protocol';
  return {
    resourceType: 'MedicationRequest',
    id: input.id,
    status: 'draft',
    intent: 'order',
    ...(input.medication
      ? {
          medicationReference: {
            reference: `Medication/${input.medication.id}`,
            display: input.medication.display,
          },
        }
      : { medicationCodeableConcept: concept(RXNORM, KETAMINE_RXNORM, 'ketamine', 'Ketamine continuous IV infusion') }),
    subject: { reference: `Patient/${input.patientId}` },
    encounter: { reference: `Encounter/${input.encounterId}` },
    authoredOn: input.authoredOn,
    ...(input.requester ? { requester: { reference: input.requester } } : {}),
    ...(input.priorOrderId ? { priorPrescription: { reference: `MedicationRequest/${input.priorOrderId}` } } : {}),
    dosageInstruction: [
      {
        text: input.text ?? `Ketamine continuous IV infusion at ${rateText}`,
        route: IV_ROUTE,
        ...(input.rate
          ? { doseAndRate: [{ type: ORDERED, rateQuantity: ucumQuantity(input.rate.value, input.rate.unit) }] }
          : {}),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// A chart timeline → a transaction Bundle (the example patients, the benchmark's patient)
// ---------------------------------------------------------------------------------------------------

interface Vitals {
  sbp: number;
  dbp: number;
  hr: number;
  rr: number;
  spo2: number;
}

/**
 * A patient's chart as a timeline: offsets 'h:mm' (or '-h:mm') from `start` (the infusion start for infused
 * patients), in UTC, and what was charted then (weight, ekg, pregnancy-test, consent, order, rate, stop,
 * pain, vitals, hallucination-observation, adverse-event).
 */
export interface ChartSpec {
  key: string;
  mrn: string;
  admission: string;
  start: string;
  encounterClass?: string;
  encounterReason?: string;
  patient: { family: string; given: string; gender: 'male' | 'female'; birthDate: string };
  conditions: Array<{ key: string; code: CodeableConcept; onsetAge?: number; recordedDate?: string }>;
  chart: {
    unit: string;
    medication?: { text: string; mg: number; ml: number; contained?: boolean; id?: string };
  };
  painCode: string;
  painUnit?: string;
  bp: 'panel' | 'separate';
  timeline: ReadonlyArray<readonly unknown[]>;
}

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const MRN_SYSTEM = 'https://ketamine-cds.example.org/fhir/sid/example-mrn';

/** Every example resource is marked as test data. */
const META = {
  tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HTEST', display: 'test health data' }],
};

// ---------------------------------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------------------------------

const KETAMINE_INFUSION = concept(RXNORM, KETAMINE_RXNORM, 'ketamine', 'Ketamine IV infusion');
const IV_ROUTE = { coding: [{ system: SNOMED, code: '47625008', display: 'Intravenous route' }] };

export const MIGRAINE = {
  coding: [
    {
      system: ICD10CM,
      code: 'G43.719',
      display: 'Chronic migraine without aura, intractable, without status migrainosus',
    },
    { system: SNOMED, code: '124171000119105', display: 'Chronic intractable migraine without aura' },
  ],
  text: 'Refractory chronic migraine without aura',
};
export const COMORBIDITY = {
  depression: { coding: [{ system: ICD10CM, code: 'F32.A', display: 'Depression, unspecified' }], text: 'Depression' },
  panic: {
    coding: [{ system: ICD10CM, code: 'F41.0', display: 'Panic disorder [episodic paroxysmal anxiety]' }],
    text: 'Panic attacks',
  },
  backPain: {
    coding: [{ system: ICD10CM, code: 'M54.9', display: 'Dorsalgia, unspecified' }],
    text: 'Chronic back pain',
  },
  neckPain: { coding: [{ system: ICD10CM, code: 'M54.2', display: 'Cervicalgia' }], text: 'Chronic neck pain' },
  crps: {
    coding: [{ system: ICD10CM, code: 'G90.50', display: 'Complex regional pain syndrome I, unspecified' }],
    text: 'Complex regional pain syndrome',
  },
  borderline: {
    coding: [{ system: ICD10CM, code: 'F60.3', display: 'Borderline personality disorder' }],
    text: 'Borderline personality disorder',
  },
};

/** The 0–10 numeric pain score (LOINC), as a timeline's `painCode`. */
export const PAIN_NUMERIC = '72514-3';

const PAIN_CODES: Record<string, string> = {
  '72514-3': 'Pain severity - 0-10 verbal numeric rating [Score] - Reported',
  '38214-3': 'Pain severity [Score] Visual analog score',
};

// ---------------------------------------------------------------------------------------------------
// Helpers (structure only)
// ---------------------------------------------------------------------------------------------------

/** 'h:mm' or '-h:mm' → milliseconds. */
export function offsetMs(text: string): number {
  const m = /^(-?)(\d+):([0-5]\d)$/.exec(text);
  if (!m) throw new Error(`bad offset "${text}" (expected h:mm)`);
  const ms = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  return m[1] === '-' ? -ms : ms;
}

/** Milliseconds → 'h:mm' or '-h:mm' (whole minutes), the offsets a timeline is written in. */
export function offsetText(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes * 60_000 !== Math.abs(ms)) throw new Error(`offset ${ms} ms is not whole minutes`);
  return `${ms < 0 ? '-' : ''}${Math.floor(minutes / 60)}:${pad(minutes % 60)}`;
}

export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A stable urn:uuid for a resource (name-based, SHA-1, RFC 4122 version 5 layout). */
function fullUrlOf(type: string, id: string): string {
  const h = createHash('sha1').update(`ketamine-cds-examples:${type}/${id}`).digest('hex');
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16).padStart(2, '0');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

const category = (code: string, display: string) => [{ coding: [{ system: OBS_CATEGORY, code, display }] }];
const loinc = (code: string, display: string): CodeableConcept => concept(LOINC, code, display, display);
const pad = (n: number): string => String(n).padStart(2, '0');

/** Normal vital signs, varied deterministically by the assessment number. */
function normalVitals(i: number): Vitals {
  return {
    sbp: 118 + ((i * 7) % 15),
    dbp: 70 + ((i * 5) % 11),
    hr: 70 + ((i * 11) % 17),
    rr: 14 + (i % 4),
    spo2: 97 + (i % 3),
  };
}

/** A charted pump rate: UCUM mg/kg/h, mg/h or mL/h. */
const rateQuantity = (value: number, unit: string) => ucumQuantity(value, unit);

// ---------------------------------------------------------------------------------------------------
// Bundle builder
// ---------------------------------------------------------------------------------------------------

export function chartBundle(spec: ChartSpec): Bundle {
  const t0 = Date.parse(spec.start);
  const at = (off: string): string => iso(t0 + offsetMs(off));
  const rid = (suffix: string): string => `${spec.key}-${suffix}`;
  const patientRef = { reference: `Patient/${rid('patient')}` };
  const encounterId = rid('encounter');
  const encounterRef = { reference: `Encounter/${encounterId}` };
  const counters: Record<string, number> = {};
  const next = (kind: string): string => {
    counters[kind] = (counters[kind] ?? 0) + 1;
    return rid(`${kind}-${pad(counters[kind])}`);
  };
  const resources: any[] = [];
  const add = (r: any): any => {
    const resource = { resourceType: r.resourceType, id: r.id, meta: META, ...r };
    resources.push(resource);
    return resource;
  };

  // Patient
  add({
    resourceType: 'Patient',
    id: rid('patient'),
    identifier: [{ system: MRN_SYSTEM, value: spec.mrn }],
    active: true,
    name: [{ use: 'official', family: spec.patient.family, given: [spec.patient.given] }],
    gender: spec.patient.gender,
    birthDate: spec.patient.birthDate,
  });

  // Encounter
  const encounterClass = spec.encounterClass ?? 'IMP';
  add({
    resourceType: 'Encounter',
    id: encounterId,
    status: 'in-progress',
    class: {
      system: ACT_CODE,
      code: encounterClass,
      display:
        encounterClass === 'IMP' ? 'inpatient encounter' : encounterClass === 'AMB' ? 'ambulatory' : encounterClass,
    },
    subject: patientRef,
    period: { start: spec.admission },
    reasonCode: [{ text: spec.encounterReason ?? 'Refractory chronic migraine: inpatient IV ketamine protocol' }],
  });

  // Conditions (on the problem list before admission)
  const recorded = spec.admission.slice(0, 10);
  for (const c of spec.conditions) {
    add({
      resourceType: 'Condition',
      id: rid(`condition-${c.key}`),
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      verificationStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
      },
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/condition-category',
              code: 'problem-list-item',
              display: 'Problem List Item',
            },
          ],
        },
      ],
      code: c.code,
      subject: patientRef,
      ...(c.onsetAge !== undefined ? { onsetAge: ucumQuantity(c.onsetAge, 'a', 'years') } : {}),
      recordedDate: c.recordedDate ?? recorded,
    });
  }

  // Medication (mL/h charts: the bag, with its strength)
  const chart = spec.chart;
  let medication: Record<string, unknown>;
  let contained: unknown[] | undefined;
  if (chart.medication) {
    const m = chart.medication;
    const med = ketamineBag({
      id: m.contained ? (m.id ?? rid('medication')) : rid('medication'),
      text: m.text,
      mg: m.mg,
      ml: m.ml,
      status: 'active',
    });
    if (m.contained) {
      contained = [med];
      medication = { medicationReference: { reference: `#${m.id}`, display: m.text } };
    } else {
      add(med);
      medication = { medicationReference: { reference: `Medication/${med.id}`, display: m.text } };
    }
  } else {
    medication = { medicationCodeableConcept: KETAMINE_INFUSION };
  }
  const orderId = rid('order');

  // Timeline
  let open: any = null; // the running MedicationAdministration
  let assessment = 0;
  const vitalsAt = (time: string, v: Vitals): void => {
    if (spec.bp === 'separate') {
      add(vitalObs(next('sbp'), time, loinc('8480-6', 'Systolic blood pressure'), ucumQuantity(v.sbp, 'mm[Hg]')));
      add(vitalObs(next('dbp'), time, loinc('8462-4', 'Diastolic blood pressure'), ucumQuantity(v.dbp, 'mm[Hg]')));
    } else {
      add({
        resourceType: 'Observation',
        id: next('bp'),
        status: 'final',
        category: category('vital-signs', 'Vital Signs'),
        code: loinc('85354-9', 'Blood pressure panel with all children optional'),
        subject: patientRef,
        encounter: encounterRef,
        effectiveDateTime: time,
        component: [
          { code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: ucumQuantity(v.sbp, 'mm[Hg]') },
          { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: ucumQuantity(v.dbp, 'mm[Hg]') },
        ],
      });
    }
    add(vitalObs(next('hr'), time, loinc('8867-4', 'Heart rate'), ucumQuantity(v.hr, '/min', 'beats/minute')));
    add(vitalObs(next('rr'), time, loinc('9279-1', 'Respiratory rate'), ucumQuantity(v.rr, '/min', 'breaths/minute')));
    add(
      vitalObs(
        next('spo2'),
        time,
        loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'),
        ucumQuantity(v.spo2, '%'),
      ),
    );
  };
  function vitalObs(id: string, time: string, code: CodeableConcept, valueQuantity: unknown) {
    return {
      resourceType: 'Observation',
      id,
      status: 'final',
      category: category('vital-signs', 'Vital Signs'),
      code,
      subject: patientRef,
      encounter: encounterRef,
      effectiveDateTime: time,
      valueQuantity,
    };
  }
  const closeOpen = (time: string): void => {
    if (!open) throw new Error(`${spec.key}: rate change/stop at ${time} with nothing running`);
    open.status = 'completed';
    open.effectivePeriod.end = time;
    open = null;
  };

  for (const [off, kind, value, opts = {}] of spec.timeline as Array<[string, string, any, any?]>) {
    const time = at(off);
    switch (kind) {
      case 'weight':
        add({
          resourceType: 'Observation',
          id: rid('weight'),
          status: 'final',
          category: category('vital-signs', 'Vital Signs'),
          code: loinc('29463-7', 'Body weight'),
          subject: patientRef,
          ...(opts.outsideEncounter ? {} : { encounter: encounterRef }),
          effectiveDateTime: time,
          valueQuantity: ucumQuantity(value, 'kg'),
        });
        break;
      case 'ekg':
        if (value === 'DiagnosticReport') {
          add({
            resourceType: 'DiagnosticReport',
            id: rid('ekg'),
            status: 'final',
            category: [
              {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/v2-0074',
                    code: 'EC',
                    display: 'Electrocardiac (e.g., EKG, EEC, Holter)',
                  },
                ],
              },
            ],
            code: loinc('11524-6', 'EKG study'),
            subject: patientRef,
            effectiveDateTime: time,
            issued: time,
            conclusion: opts.conclusion ?? 'Normal sinus rhythm. Normal intervals (QTc 412 ms).',
          });
        } else {
          add({
            resourceType: 'Observation',
            id: rid('ekg'),
            status: 'final',
            category: category('procedure', 'Procedure'),
            code: loinc('11524-6', 'EKG study'),
            subject: patientRef,
            encounter: encounterRef,
            effectiveDateTime: time,
            valueString: opts.conclusion ?? 'Normal sinus rhythm, QTc 418 ms',
          });
        }
        break;
      case 'pregnancy-test': {
        const positive = value === 'positive';
        add({
          resourceType: 'Observation',
          id: rid('pregnancy-test'),
          status: 'final',
          category: category('laboratory', 'Laboratory'),
          code: loinc('2106-3', 'Choriogonadotropin (pregnancy test) [Presence] in Urine'),
          subject: patientRef,
          encounter: encounterRef,
          effectiveDateTime: time,
          valueCodeableConcept: {
            coding: [
              positive
                ? { system: SNOMED, code: '10828004', display: 'Positive' }
                : { system: SNOMED, code: '260385009', display: 'Negative' },
            ],
          },
        });
        break;
      }
      case 'consent':
        add({
          resourceType: 'Consent',
          id: rid('consent'),
          status: 'active',
          scope: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment', display: 'Treatment' },
            ],
          },
          category: [{ coding: [{ system: LOINC, code: '59284-0', display: 'Patient Consent' }] }],
          patient: patientRef,
          dateTime: time,
          policyRule: { coding: [{ system: ACT_CODE, code: 'OPTIN', display: 'opt-in' }] },
          sourceAttachment: {
            contentType: 'application/pdf',
            title: 'Written informed consent: inpatient IV ketamine infusion (risks and side effects explained)',
          },
        });
        break;
      case 'order':
        add({
          resourceType: 'MedicationRequest',
          id: orderId,
          status: 'active',
          intent: 'order',
          ...(contained ? { contained } : {}),
          ...medication,
          subject: patientRef,
          encounter: encounterRef,
          authoredOn: time,
          dosageInstruction: [
            {
              text: 'Ketamine continuous IV infusion per protocol: start 0.1 mg/kg/h; increase by 0.1 mg/kg/h every 3-4 h as tolerated until pain <= 3/10 for 8 h; then decrease by 0.2 mg/kg/h every 3-4 h to off.',
              route: IV_ROUTE,
              doseAndRate: [
                {
                  type: {
                    coding: [
                      {
                        system: 'http://terminology.hl7.org/CodeSystem/dose-rate-type',
                        code: 'ordered',
                        display: 'Ordered',
                      },
                    ],
                  },
                  rateQuantity: rateQuantity(value, chart.unit),
                },
              ],
            },
          ],
        });
        break;
      case 'rate': {
        if (open) closeOpen(time);
        open = add({
          resourceType: 'MedicationAdministration',
          id: next('admin'),
          status: 'in-progress',
          ...(contained ? { contained } : {}),
          ...medication,
          subject: patientRef,
          context: encounterRef,
          effectivePeriod: { start: time },
          request: { reference: `MedicationRequest/${orderId}` },
          dosage: { text: `${value} ${chart.unit}`, route: IV_ROUTE, rateQuantity: rateQuantity(value, chart.unit) },
        });
        break;
      }
      case 'stop':
        closeOpen(time);
        break;
      case 'pain': {
        assessment += 1;
        const code = opts.code ?? spec.painCode;
        const unit = opts.unit ?? spec.painUnit ?? '{score}';
        add({
          resourceType: 'Observation',
          id: next('pain'),
          status: 'final',
          category: category('survey', 'Survey'),
          code: loinc(code, PAIN_CODES[code] ?? ''),
          subject: patientRef,
          encounter: encounterRef,
          effectiveDateTime: time,
          ...(opts.valueInteger
            ? { valueInteger: value }
            : { valueQuantity: ucumQuantity(value, unit, unit === 'mm' ? 'mm' : 'score') }),
        });
        if (opts.vitals !== false) vitalsAt(time, normalVitals(assessment));
        break;
      }
      case 'vitals':
        vitalsAt(time, { ...normalVitals(0), ...value });
        break;
      case 'hallucination-observation':
        add({
          resourceType: 'Observation',
          id: rid('hallucination'),
          status: 'final',
          category: category('exam', 'Exam'),
          code: { coding: [{ system: SNOMED, code: '7011001', display: 'Hallucinations' }], text: 'Hallucination' },
          subject: patientRef,
          encounter: encounterRef,
          effectiveDateTime: time,
          note: [{ text: value }],
        });
        break;
      case 'adverse-event': {
        const suspect = opts.suspectCurrentAdministration
          ? [{ instance: { reference: `MedicationAdministration/${open?.id ?? 'none'}` } }]
          : undefined;
        if (opts.suspectCurrentAdministration && !open)
          throw new Error(`${spec.key}: adverse event at ${time} with nothing running`);
        add({
          resourceType: 'AdverseEvent',
          id: rid(`adverse-event-${pad((counters.ae = (counters.ae ?? 0) + 1))}`),
          actuality: 'actual',
          event: { coding: [{ system: SNOMED, code: value.code, display: value.display }], text: value.text },
          subject: patientRef,
          encounter: encounterRef,
          date: time,
          recordedDate: time,
          seriousness: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/adverse-event-seriousness',
                code: 'non-serious',
                display: 'Non-serious',
              },
            ],
          },
          severity: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/adverse-event-severity', code: 'mild', display: 'Mild' },
            ],
          },
          ...(suspect ? { suspectEntity: suspect } : {}),
        });
        break;
      }
      default:
        throw new Error(`${spec.key}: unknown timeline event "${kind}"`);
    }
  }

  // Bundle: Patient, Encounter, Conditions, Medication first; then the chart in time order.
  const timeOf = (r: any): string =>
    r.effectiveDateTime ?? r.effectivePeriod?.start ?? r.authoredOn ?? r.dateTime ?? r.date ?? r.issued ?? '';
  const fixed = resources.filter(
    (r: any) => timeOf(r) === '' || r.resourceType === 'Encounter' || r.resourceType === 'Condition',
  );
  const timed = resources.filter((r: any) => !fixed.includes(r)).map((r, i) => ({ r, i }));
  timed.sort((a: { r: any; i: number }, b: { r: any; i: number }) =>
    timeOf(a.r) < timeOf(b.r) ? -1 : timeOf(a.r) > timeOf(b.r) ? 1 : a.i - b.i,
  );
  const ordered = [...fixed, ...timed.map((x: { r: any }) => x.r)];
  return {
    resourceType: 'Bundle',
    id: `${spec.key}-bundle`,
    meta: META,
    type: 'transaction',
    entry: ordered.map((resource: any) => ({
      fullUrl: fullUrlOf(resource.resourceType, resource.id),
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    })),
  };
}
