/**
 * ClinicalFacts: what the CQL layer (src/cql) reads out of a patient's FHIR record and hands to the
 * pure decision core (src/protocol). CQL answers "what is charted" (value-set membership, status
 * filters, latest-of, active conditions); TypeScript applies every protocol number (windows,
 * thresholds, rate arithmetic). So facts carry raw charted values with their units and times, never
 * a judgement that needs a parameter.
 *
 * All times are ISO 8601 strings with an offset (as charted; the core parses them).
 */

/** A code as charted, for display in cards ("G43.719 Chronic migraine …"). */
export interface CodedFact {
  /** Logical id of the resource the fact came from (for traceability in cards/audit). */
  resourceId: string;
  resourceType: string;
  system: string | null;
  code: string | null;
  display: string;
  /** onset / effective / recorded time when charted. */
  time: string | null;
}

/** A rate exactly as charted on an administration or order. Units are UCUM codes when coded, else the unit text. */
export type ChartedRate =
  | { kind: 'quantity'; value: number; unit: string | null }
  | {
      kind: 'ratio';
      numeratorValue: number;
      numeratorUnit: string | null;
      denominatorValue: number;
      denominatorUnit: string | null;
    };

export interface MedicationFact {
  /** How ketamine was recognised: a code in the Ketamine value set, or only by text naming ketamine. */
  recognizedBy: 'code' | 'text';
  display: string;
  /** Strength in mg/mL from Medication.ingredient.strength or the order, when charted. */
  concentrationMgPerMl: number | null;
  /**
   * A strength charted on the Medication that cannot be used, as charted ("100 mg / 0 mL"): not a mass per
   * volume of the unit tables, zero or negative, or not a finite number. A charted mL/h rate is then
   * unreadable: the default concentration stands in only when no strength is charted (§1). Absent or null:
   * none charted, or `concentrationMgPerMl` holds it.
   */
  strengthUnreadable?: string | null;
  /**
   * The resource names a Medication the record does not hold (the prefetch or the server did not return it):
   * recognised as ketamine by the reference's display text only, its strength unknown (`strengthUnreadable`).
   */
  notInRecord?: boolean;
}

/** One ketamine MedicationAdministration (any status; the core filters statuses). */
export interface AdministrationFact {
  id: string;
  status: string;
  /** effectivePeriod.start, or effectiveDateTime. */
  start: string | null;
  /** effectivePeriod.end when charted. */
  end: string | null;
  /** dosage.rateQuantity or dosage.rateRatio; null when neither is charted. */
  rate: ChartedRate | null;
  /** The MedicationRequest id the administration fulfils (`request`), when charted. */
  requestId: string | null;
  medication: MedicationFact;
}

/** One ketamine MedicationRequest in the record (active / on-hold / draft). */
export interface OrderFact {
  id: string;
  status: string;
  intent: string;
  authoredOn: string | null;
  rate: ChartedRate | null;
  medication: MedicationFact;
}

/** A pain-score Observation (code in the pain value set, status final/amended/corrected). */
export interface PainFact {
  id: string;
  time: string;
  /** The code of the score's coding in the pain-score ValueSet. */
  code: string;
  /** Is that coding a visual analogue score (ValueSet pain-score-vas: it may be charted in mm)? */
  vas: boolean;
  /** valueQuantity.value or valueInteger; null when the value is not a number (the core says so). */
  value: number | null;
  /** UCUM code/unit of the value (`{score}`, `mm`, …); null for valueInteger. */
  unit: string | null;
}

export interface WeightFact {
  id: string;
  time: string;
  /** Null when the latest weight was charted without a readable value (unreadable: D1, §2). */
  value: number | null;
  /** UCUM `kg`, `g` or `[lb_av]`; the core converts, an unknown unit is reported. */
  unit: string | null;
}

export type VitalKind = 'sbp' | 'dbp' | 'hr' | 'rr' | 'spo2';

/** The latest charted value of one vital sign (BP components of a 85354-9 panel count). */
export interface VitalFact {
  kind: VitalKind;
  id: string;
  time: string;
  value: number;
  unit: string | null;
}

export interface PregnancyTestFact {
  id: string;
  time: string;
  code: string;
  /** From valueCodeableConcept (SNOMED Positive/Negative/Equivocal) or interpretation (POS/NEG/IND). */
  qualitative: 'positive' | 'negative' | 'equivocal' | null;
  /** From valueQuantity (19080-1), IU/L or mIU/mL (same number). */
  quantitative: { value: number; unit: string | null } | null;
}

export interface EkgFact {
  id: string;
  resourceType: 'Observation' | 'DiagnosticReport';
  time: string;
}

export interface EncounterFact {
  id: string;
  status: string;
  /** Encounter.class.code, as charted. */
  classCode: string | null;
  /** Judged by the CQL only: the class code is in the inpatient-encounter-class ValueSet. */
  inpatient: boolean;
  start: string | null;
  end: string | null;
}

export type CautionCategory = 'cirrhosis' | 'raised-icp' | 'glaucoma' | 'substance-use' | 'ischemic-heart-disease';

export interface AdverseEffectFact extends CodedFact {
  /** How it was recognised: a psychotomimetic code, or an AdverseEvent whose suspect is ketamine. */
  via: 'psychotomimetic-code' | 'ketamine-suspect';
}

export interface ClinicalFacts {
  patient: {
    id: string;
    birthDate: string | null;
    /** Age in whole years at evaluation time (CQL AgeInYearsAt); null without a birth date. */
    ageYears: number | null;
    /** Patient.gender as charted ('female' | 'male' | 'other' | 'unknown'), null when absent. */
    gender: string | null;
  };
  /** Active (or recurrence/relapse) chronic-migraine Conditions. */
  chronicMigraine: CodedFact[];
  /** All encounters in the record; the core picks the hook context's encounter. */
  encounters: EncounterFact[];
  /** Latest weight, whatever its age (the core judges staleness). */
  weight: WeightFact | null;
  /** Latest final EKG (Observation or DiagnosticReport). */
  ekg: EkgFact | null;
  /** Latest pregnancy test with a readable result. */
  pregnancyTest: PregnancyTestFact | null;
  /** Active pregnancy Conditions. */
  pregnancyConditions: CodedFact[];
  /** Active psychosis / schizophrenia Conditions. */
  psychosis: CodedFact[];
  /** Active AllergyIntolerance to ketamine. */
  ketamineAllergies: CodedFact[];
  /** Active conditions that are cautions (listed on a start card, never blocking). */
  cautions: Array<CodedFact & { category: CautionCategory }>;
  /** Psychotomimetic adverse effects (Observation, Condition, AdverseEvent), any time; the core filters by infusion. */
  adverseEffects: AdverseEffectFact[];
  /** Latest value of each vital sign kind, whatever its age (the core judges age and thresholds). */
  vitals: VitalFact[];
  /** All pain scores, oldest first. */
  painScores: PainFact[];
  /** All ketamine administrations, oldest start first. */
  administrations: AdministrationFact[];
  /**
   * Every ketamine MedicationRequest in the evaluated bundle, any status: the record's orders and, on
   * order hooks, the hook's draftOrders (the service adds them to the bundle; it tells them apart by id).
   */
  orders: OrderFact[];
  /** An active treatment Consent exists. */
  consent: { id: string; time: string | null } | null;
}
