/**
 * From the values the entry library's defines return (cql-execution tuples, lists, DateTime/Date
 * objects, numbers) to ClinicalFacts (src/protocol/facts.ts): plain JSON with ISO times. No protocol
 * number is applied here; a charted strength is converted to mg/mL by the unit tables of the decision core
 * (src/protocol/rates.ts, the one place units are converted).
 */
import type {
  AdministrationFact,
  AdverseEffectFact,
  CautionCategory,
  ChartedRate,
  ClinicalFacts,
  CodedFact,
  EkgFact,
  EncounterFact,
  MedicationFact,
  OrderFact,
  PainFact,
  PregnancyTestFact,
  VitalFact,
  VitalKind,
  WeightFact,
} from '../protocol/facts';
import { strengthToMgPerMl } from '../protocol/rates';

/** The defines every entry library exposes, read into ClinicalFacts. */
export const FACT_DEFINES = [
  'Patient Facts',
  'Chronic Migraine',
  'Encounters',
  'Latest Weight',
  'Latest EKG',
  'Latest Pregnancy Test',
  'Pregnancy Conditions',
  'Psychosis',
  'Ketamine Allergies',
  'Cautions',
  'Adverse Effects',
  'Latest Vitals',
  'Pain Scores',
  'Ketamine Administrations',
  'Ketamine Orders',
  'Active Treatment Consent',
] as const;

type FactDefine = (typeof FACT_DEFINES)[number];
export type DefineResults = Partial<Record<FactDefine, unknown>>;

type Row = Record<string, unknown>;

const CAUTIONS: readonly CautionCategory[] = [
  'cirrhosis',
  'raised-icp',
  'glaucoma',
  'substance-use',
  'ischemic-heart-disease',
];
const VITALS: readonly VitalKind[] = ['sbp', 'dbp', 'hr', 'rr', 'spo2'];

const rows = (value: unknown): Row[] =>
  Array.isArray(value) ? value.filter((v): v is Row => v != null && typeof v === 'object') : [];
const row = (value: unknown): Row | null =>
  value != null && typeof value === 'object' && !Array.isArray(value) ? (value as Row) : null;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** A CQL DateTime or Date (or an ISO string) as an ISO 8601 string, as precise as charted. */
function isoOf(value: unknown): string | null {
  if (value == null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { toString?: unknown }).toString === 'function') {
    const text = String(value);
    return text === '[object Object]' ? null : text;
  }
  return null;
}

function codedFact(r: Row | null): CodedFact | null {
  if (!r) return null;
  const resourceType = str(r['resourceType']) ?? 'Resource';
  const code = str(r['code']);
  return {
    resourceId: str(r['resourceId']) ?? '',
    resourceType,
    system: str(r['system']),
    code,
    display: str(r['display']) ?? code ?? resourceType,
    time: isoOf(r['time']),
  };
}

const codedFacts = (value: unknown): CodedFact[] =>
  rows(value)
    .map(codedFact)
    .filter((f): f is CodedFact => f !== null);

function chartedRate(value: unknown): ChartedRate | null {
  const r = row(value);
  if (!r) return null;
  const quantity = row(r['quantity']);
  const quantityValue = num(quantity?.['value']);
  if (quantity && quantityValue !== null)
    return { kind: 'quantity', value: quantityValue, unit: str(quantity['unit']) };
  const ratio = row(r['ratio']);
  const numerator = row(ratio?.['numerator']);
  const denominator = row(ratio?.['denominator']);
  const numeratorValue = num(numerator?.['value']);
  const denominatorValue = num(denominator?.['value']);
  if (numeratorValue !== null && denominatorValue !== null) {
    return {
      kind: 'ratio',
      numeratorValue,
      numeratorUnit: str(numerator?.['unit']),
      denominatorValue,
      denominatorUnit: str(denominator?.['unit']),
    };
  }
  return null;
}

/**
 * A charted strength (ratio) in mg/mL (src/protocol/rates.ts). `unreadable`: a strength is charted and is not
 * a positive finite mass per volume (as charted, for the card); both null when no strength is charted.
 */
function strength(value: unknown): { mgPerMl: number | null; unreadable: string | null } {
  const ratio = row(value);
  if (!ratio) return { mgPerMl: null, unreadable: null };
  const numerator = row(ratio['numerator']);
  const denominator = row(ratio['denominator']);
  const nValue = num(numerator?.['value']);
  const dValue = num(denominator?.['value']);
  const nUnit = str(numerator?.['unit']);
  const dUnit = str(denominator?.['unit']);
  const mgPerMl =
    nValue === null || dValue === null || !nUnit || !dUnit ? null : strengthToMgPerMl(nValue, nUnit, dValue, dUnit);
  if (mgPerMl !== null) return { mgPerMl, unreadable: null };
  const part = (v: unknown, unit: string | null) =>
    `${typeof v === 'number' ? String(v) : 'no value'}${unit ? ` ${unit}` : ''}`;
  return {
    mgPerMl: null,
    unreadable: `${part(numerator?.['value'], nUnit)} / ${part(denominator?.['value'], dUnit)}`,
  };
}

/** The strength of a Medication the record does not hold, as the card names it. */
const NOT_IN_RECORD_STRENGTH = 'on a Medication that is not in the record';

function medicationFact(value: unknown): MedicationFact {
  const r = row(value) ?? {};
  const bag = strength(r['strength']);
  const notInRecord = r['notInRecord'] === true;
  // A Medication the record does not hold: its strength may be charted there, so it is unknown, never none.
  const unreadable = notInRecord ? NOT_IN_RECORD_STRENGTH : bag.unreadable;
  return {
    recognizedBy: r['recognizedBy'] === 'code' ? 'code' : 'text',
    display: str(r['display']) ?? 'ketamine',
    concentrationMgPerMl: bag.mgPerMl,
    ...(unreadable !== null ? { strengthUnreadable: unreadable } : {}),
    ...(notInRecord ? { notInRecord } : {}),
  };
}

function administration(r: Row): AdministrationFact {
  return {
    id: str(r['id']) ?? '',
    status: str(r['status']) ?? 'unknown',
    start: isoOf(r['start']),
    end: isoOf(r['end']),
    rate: chartedRate(r['rate']),
    requestId: str(r['requestId']),
    medication: medicationFact(r['medication']),
  };
}

function order(r: Row): OrderFact {
  return {
    id: str(r['id']) ?? '',
    status: str(r['status']) ?? 'unknown',
    intent: str(r['intent']) ?? 'unknown',
    authoredOn: isoOf(r['authoredOn']),
    rate: chartedRate(r['rate']),
    medication: medicationFact(r['medication']),
  };
}

function pain(r: Row): PainFact | null {
  const time = isoOf(r['time']);
  if (!time) return null;
  return {
    id: str(r['id']) ?? '',
    time,
    code: str(r['code']) ?? '',
    vas: r['vas'] === true,
    value: num(r['value']),
    unit: str(r['unit']),
  };
}

function weight(value: unknown): WeightFact | null {
  const r = row(value);
  const time = isoOf(r?.['time']);
  if (!r || !time) return null;
  return { id: str(r['id']) ?? '', time, value: num(r['value']), unit: str(r['unit']) };
}

function vital(r: Row): VitalFact | null {
  const kind = VITALS.find((k) => k === r['kind']);
  const time = isoOf(r['time']);
  const v = num(r['value']);
  if (!kind || !time || v === null) return null;
  return { kind, id: str(r['id']) ?? '', time, value: v, unit: str(r['unit']) };
}

function pregnancyTest(value: unknown): PregnancyTestFact | null {
  const r = row(value);
  const time = isoOf(r?.['time']);
  if (!r || !time) return null;
  const qualitative =
    r['qualitative'] === 'positive' || r['qualitative'] === 'negative' || r['qualitative'] === 'equivocal'
      ? r['qualitative']
      : null;
  const q = row(r['quantitative']);
  const qValue = num(q?.['value']);
  return {
    id: str(r['id']) ?? '',
    time,
    code: str(r['code']) ?? '',
    qualitative,
    quantitative: q && qValue !== null ? { value: qValue, unit: str(q['unit']) } : null,
  };
}

function ekg(value: unknown): EkgFact | null {
  const r = row(value);
  const time = isoOf(r?.['time']);
  if (!r || !time) return null;
  return {
    id: str(r['id']) ?? '',
    resourceType: r['resourceType'] === 'DiagnosticReport' ? 'DiagnosticReport' : 'Observation',
    time,
  };
}

function encounter(r: Row): EncounterFact {
  return {
    id: str(r['id']) ?? '',
    status: str(r['status']) ?? 'unknown',
    classCode: str(r['classCode']),
    inpatient: r['inpatient'] === true,
    start: isoOf(r['start']),
    end: isoOf(r['end']),
  };
}

/** Sorted by the instant of `time` (unreadable times first), stably; each time is parsed once. */
function sortedByTime<T>(items: T[], time: (x: T) => string | null): T[] {
  const keyed = items.map((item) => ({ item, ms: Date.parse(time(item) ?? '') }));
  keyed.sort((a, b) => {
    if (Number.isNaN(a.ms) || Number.isNaN(b.ms)) return Number.isNaN(a.ms) ? (Number.isNaN(b.ms) ? 0 : -1) : 1;
    return a.ms - b.ms;
  });
  return keyed.map((k) => k.item);
}

/** ClinicalFacts from the entry library's results (every field filled; lists sorted as facts.ts says). */
export function toClinicalFacts(results: DefineResults, patientId: string): ClinicalFacts {
  const patient = row(results['Patient Facts']) ?? {};
  const ageYears = num(patient['ageYears']);
  const consent = row(results['Active Treatment Consent']);

  const cautions = rows(results['Cautions']).flatMap((r) => {
    const category = CAUTIONS.find((c) => c === r['category']);
    const fact = codedFact(row(r['fact']));
    return category && fact ? [{ ...fact, category }] : [];
  });
  const adverseEffects: AdverseEffectFact[] = rows(results['Adverse Effects']).flatMap((r) => {
    const fact = codedFact(row(r['fact']));
    const via = r['via'] === 'ketamine-suspect' ? 'ketamine-suspect' : 'psychotomimetic-code';
    return fact ? [{ ...fact, via }] : [];
  });

  return {
    patient: {
      id: str(patient['id']) ?? patientId,
      birthDate: isoOf(patient['birthDate']),
      ageYears,
      gender: str(patient['gender']),
    },
    chronicMigraine: codedFacts(results['Chronic Migraine']),
    encounters: rows(results['Encounters']).map(encounter),
    weight: weight(results['Latest Weight']),
    ekg: ekg(results['Latest EKG']),
    pregnancyTest: pregnancyTest(results['Latest Pregnancy Test']),
    pregnancyConditions: codedFacts(results['Pregnancy Conditions']),
    psychosis: codedFacts(results['Psychosis']),
    ketamineAllergies: codedFacts(results['Ketamine Allergies']),
    cautions,
    adverseEffects,
    vitals: rows(results['Latest Vitals'])
      .map(vital)
      .filter((v): v is VitalFact => v !== null),
    // Sorted here (oldest first) by the parsed instant: exact across time zones and far cheaper than in CQL.
    painScores: sortedByTime(
      rows(results['Pain Scores'])
        .map(pain)
        .filter((p): p is PainFact => p !== null),
      (p) => p.time,
    ),
    administrations: sortedByTime(rows(results['Ketamine Administrations']).map(administration), (a) => a.start),
    orders: rows(results['Ketamine Orders']).map(order),
    consent: consent ? { id: str(consent['id']) ?? '', time: isoOf(consent['time']) } : null,
  };
}
