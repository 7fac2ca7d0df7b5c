/**
 * Small builders for ClinicalFacts, so the rule tables stay readable. The parameters are the defaults
 * of docs/clinical-specification.md §1 written out by hand (the tests do not depend on edits to the parameter file).
 */
import type { ProtocolParameters } from '../../src/config/parameters';
import type {
  AdministrationFact,
  AdverseEffectFact,
  CautionCategory,
  ChartedRate,
  ClinicalFacts,
  CodedFact,
  EncounterFact,
  MedicationFact,
  OrderFact,
  PainFact,
  VitalKind,
} from '../../src/protocol/facts';
import type { DecisionContext } from '../../src/protocol/decide';

export const params: ProtocolParameters = Object.freeze({
  protocolVersion: '1.1.0',
  startRate: 0.1,
  escalationStep: 0.1,
  minHoursBetweenChanges: 3,
  maxHoursBetweenChanges: 4,
  targetPain: 3,
  sustainedHours: 8,
  minScoresForSustained: 2,
  taperStep: 0.2,
  softMaxRate: 0.5,
  hardMaxRate: 1.0,
  painMaxAgeHours: 4,
  weightMaxAgeDays: 7,
  pregnancyTestMaxAgeDays: 7,
  ekgMaxAgeDays: 7,
  vitalsMaxAgeHours: 2,
  sbpHigh: 180,
  sbpLow: 90,
  dbpHigh: 110,
  hrHigh: 120,
  hrLow: 50,
  rrHigh: 30,
  rrLow: 10,
  spo2Low: 92,
  minAgeYears: 18,
  lookbackDays: 7,
  minPlausibleWeight: 20,
  maxPlausibleWeight: 400,
  maxPlausibleRate: 10,
  defaultConcentration: 1,
  hcgNegativeBelow: 5,
  hcgPositiveAtOrAbove: 25,
  painScaleMax: 10,
  vasMmPerPoint: 10,
  rateRounding: 0.01,
  doseRounding: 0.1,
  volumeRounding: 0.1,
  rateTolerance: 0.005,
  gapToleranceMinutes: 15,
});

/** The evaluation time of every test. */
export const NOW = new Date('2026-11-24T12:00:00.000Z');
const HOUR = 3_600_000;
/** ISO time `hours` before NOW (negative = after). Fractions allowed: h(2.99). */
export const h = (hours: number): string => new Date(NOW.getTime() - Math.round(hours * HOUR)).toISOString();
/** ISO time `days` before NOW. */
export const d = (days: number): string => h(days * 24);
/** ISO time `minutes` before NOW. */
export const m = (minutes: number): string => new Date(NOW.getTime() - Math.round(minutes * 60_000)).toISOString();

export const patientView: DecisionContext = { hook: 'patient-view', encounterId: 'enc-1', draftOrderIds: [] };
export const orderSelect = (...draftOrderIds: string[]): DecisionContext => ({
  hook: 'order-select',
  encounterId: 'enc-1',
  draftOrderIds,
});
export const orderSign = (...draftOrderIds: string[]): DecisionContext => ({
  hook: 'order-sign',
  encounterId: 'enc-1',
  draftOrderIds,
});

export const ketamine = (over: Partial<MedicationFact> = {}): MedicationFact => ({
  recognizedBy: 'code',
  display: 'ketamine 1 mg/mL injection',
  concentrationMgPerMl: null,
  ...over,
});

export const mgkgh = (value: number): ChartedRate => ({ kind: 'quantity', value, unit: 'mg/kg/h' });
export const qty = (value: number, unit: string | null): ChartedRate => ({ kind: 'quantity', value, unit });
export const ratio = (
  numeratorValue: number,
  numeratorUnit: string | null,
  denominatorValue: number,
  denominatorUnit: string | null,
): ChartedRate => ({
  kind: 'ratio',
  numeratorValue,
  numeratorUnit,
  denominatorValue,
  denominatorUnit,
});

const coded = (
  resourceType: string,
  id: string,
  display: string,
  time: string | null,
  code: string | null = null,
): CodedFact => ({
  resourceId: id,
  resourceType,
  system: null,
  code,
  display,
  time,
});

let counter = 0;
const nextId = (prefix: string): string => `${prefix}-${++counter}`;

/**
 * A patient who may start: adult woman with chronic migraine on an inpatient ward, weight 70 kg,
 * EKG and negative pregnancy test yesterday, pain 8/10 an hour ago, normal vitals 30 min ago.
 */
export class Patient {
  readonly f: ClinicalFacts;

  constructor() {
    this.f = {
      patient: { id: 'pat-1', birthDate: '1990-01-01', ageYears: 36, gender: 'female' },
      chronicMigraine: [coded('Condition', 'cm-1', 'Chronic intractable migraine without aura', d(100), 'G43.719')],
      encounters: [{ id: 'enc-1', status: 'in-progress', classCode: 'IMP', inpatient: true, start: d(1), end: null }],
      weight: { id: 'wt-1', time: d(1), value: 70, unit: 'kg' },
      ekg: { id: 'ekg-1', resourceType: 'Observation', time: d(1) },
      pregnancyTest: { id: 'hcg-1', time: d(1), code: '2106-3', qualitative: 'negative', quantitative: null },
      pregnancyConditions: [],
      psychosis: [],
      ketamineAllergies: [],
      cautions: [],
      adverseEffects: [],
      vitals: [
        { kind: 'sbp', id: 'v-sbp', time: m(30), value: 120, unit: 'mm[Hg]' },
        { kind: 'dbp', id: 'v-dbp', time: m(30), value: 75, unit: 'mm[Hg]' },
        { kind: 'hr', id: 'v-hr', time: m(30), value: 75, unit: '/min' },
        { kind: 'rr', id: 'v-rr', time: m(30), value: 14, unit: '/min' },
        { kind: 'spo2', id: 'v-spo2', time: m(30), value: 98, unit: '%' },
      ],
      painScores: [{ id: 'pain-base', time: h(1), code: '72514-3', vas: false, value: 8, unit: '{score}' }],
      administrations: [],
      orders: [],
      consent: { id: 'consent-1', time: d(1) },
    };
  }

  build(): ClinicalFacts {
    const f = this.f;
    f.painScores.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    f.administrations.sort((a, b) => Date.parse(a.start ?? '') - Date.parse(b.start ?? ''));
    return structuredClone(f);
  }

  with(fn: (f: ClinicalFacts) => void): this {
    fn(this.f);
    return this;
  }

  // Demographics and diagnoses
  age(years: number | null): this {
    this.f.patient.ageYears = years;
    return this;
  }
  gender(g: string | null): this {
    this.f.patient.gender = g;
    return this;
  }
  male(): this {
    return this.gender('male');
  }
  noMigraine(): this {
    this.f.chronicMigraine = [];
    return this;
  }
  encounter(e: Partial<EncounterFact>): this {
    this.f.encounters = [
      { id: 'enc-1', status: 'in-progress', classCode: 'IMP', inpatient: true, start: d(1), end: null, ...e },
    ];
    return this;
  }
  noEncounter(): this {
    this.f.encounters = [];
    return this;
  }

  // Prerequisites
  weight(value: number | null, time = d(1), unit: string | null = 'kg'): this {
    this.f.weight = { id: 'wt-1', time, value, unit };
    return this;
  }
  noWeight(): this {
    this.f.weight = null;
    return this;
  }
  ekg(time: string): this {
    this.f.ekg = { id: 'ekg-1', resourceType: 'DiagnosticReport', time };
    return this;
  }
  noEkg(): this {
    this.f.ekg = null;
    return this;
  }
  pregnancyTest(result: 'positive' | 'negative' | null, time = d(1)): this {
    this.f.pregnancyTest = { id: 'hcg-1', time, code: '2106-3', qualitative: result, quantitative: null };
    return this;
  }
  hcg(value: number, time = d(1), unit: string | null = '[IU]/L'): this {
    this.f.pregnancyTest = { id: 'hcg-1', time, code: '19080-1', qualitative: null, quantitative: { value, unit } };
    return this;
  }
  noPregnancyTest(): this {
    this.f.pregnancyTest = null;
    return this;
  }
  consent(present: boolean): this {
    this.f.consent = present ? { id: 'consent-1', time: d(1) } : null;
    return this;
  }

  // Contraindications and cautions
  pregnant(): this {
    this.f.pregnancyConditions.push(coded('Condition', nextId('preg'), 'Pregnant', d(10), '77386006'));
    return this;
  }
  psychosis(): this {
    this.f.psychosis.push(coded('Condition', nextId('psy'), 'Schizophrenia', d(300), 'F20.9'));
    return this;
  }
  ketamineAllergy(): this {
    this.f.ketamineAllergies.push(coded('AllergyIntolerance', nextId('allergy'), 'Ketamine allergy', d(300)));
    return this;
  }
  caution(category: CautionCategory, display: string): this {
    this.f.cautions.push({ ...coded('Condition', nextId('caution'), display, d(300)), category });
    return this;
  }

  // Observations
  /** Replace all pain scores. Each entry: [score, time] or a full partial PainFact. */
  pains(...scores: Array<[number | null, string] | (Partial<PainFact> & { time: string })>): this {
    this.f.painScores = [];
    return this.pain(...scores);
  }
  pain(...scores: Array<[number | null, string] | (Partial<PainFact> & { time: string })>): this {
    for (const s of scores) {
      if (Array.isArray(s))
        this.f.painScores.push({
          id: nextId('pain'),
          time: s[1],
          code: '72514-3',
          vas: false,
          value: s[0],
          unit: '{score}',
        });
      else
        this.f.painScores.push({ id: nextId('pain'), code: '72514-3', vas: false, value: null, unit: '{score}', ...s });
    }
    return this;
  }
  vital(kind: VitalKind, value: number, time = m(30), unit?: string | null): this {
    const units: Record<VitalKind, string> = { sbp: 'mm[Hg]', dbp: 'mm[Hg]', hr: '/min', rr: '/min', spo2: '%' };
    this.f.vitals = this.f.vitals.filter((v) => v.kind !== kind);
    this.f.vitals.push({ kind, id: `v-${kind}`, time, value, unit: unit === undefined ? units[kind] : unit });
    return this;
  }
  noVitals(): this {
    this.f.vitals = [];
    return this;
  }

  // Ketamine
  /**
   * A chain of rate changes: [rate mg/kg/h, start]; each administration is completed at the next one's
   * start, the last is in-progress and open (unless `end` is given).
   */
  infusion(
    steps: Array<[number, string]>,
    opts: { end?: string; rate?: (r: number) => ChartedRate; medication?: Partial<MedicationFact> } = {},
  ): this {
    steps.forEach(([rate, start], i) => {
      const next = steps[i + 1];
      const end = next ? next[1] : (opts.end ?? null);
      this.admin({
        start,
        end,
        status: end === null ? 'in-progress' : 'completed',
        rate: opts.rate ? opts.rate(rate) : mgkgh(rate),
        medication: ketamine(opts.medication),
      });
    });
    return this;
  }
  admin(a: Partial<AdministrationFact> & { start: string | null }): this {
    this.f.administrations.push({
      id: nextId('admin'),
      status: 'in-progress',
      end: null,
      rate: mgkgh(params.startRate),
      requestId: 'order-active',
      medication: ketamine(),
      ...a,
    });
    return this;
  }
  effect(time: string | null, over: Partial<AdverseEffectFact> = {}): this {
    this.f.adverseEffects.push({
      ...coded('Observation', nextId('effect'), 'Hallucinations', time, '7011001'),
      via: 'psychotomimetic-code',
      ...over,
    });
    return this;
  }
  order(o: Partial<OrderFact> & { id: string }): this {
    this.f.orders.push({
      status: 'active',
      intent: 'order',
      authoredOn: d(1),
      rate: mgkgh(params.startRate),
      medication: ketamine(),
      ...o,
    });
    return this;
  }
}

export const patient = (): Patient => new Patient();
