/**
 * Recommendation: what the pure decision core (decide / checkDraftOrder) returns. It is structured
 * data, not text: src/cards turns it into card text, suggestions and the machine-readable extension.
 * Every number in it is in mg/kg/h (rates), kg, hours or ISO times, already rounded as docs/clinical-specification.md §1 says.
 */
import type { CautionCategory, VitalKind } from './facts';

export type RuleId =
  | 'P0'
  | 'S1'
  | 'S2'
  | 'S3'
  | 'X1'
  | 'A1'
  | 'A2'
  | 'A3'
  | 'D1'
  | 'T1'
  | 'T2'
  | 'T3'
  | 'T4'
  | 'T5'
  | 'T6'
  | 'T7'
  | 'V1'
  | 'T8';

export type OrderRuleId = 'O0' | 'O1' | 'O2' | 'O3' | 'O4' | 'O5' | 'O6';

/**
 * What names a finding on a draft: an order rule, or S3 when the draft is a new start that is a re-challenge
 * (§8: the start recommendation's warning, listed after the order rules).
 */
export type OrderFindingId = OrderRuleId | 'S3';

export type Action =
  | 'start'
  | 'increase'
  | 'hold'
  | 'taper'
  | 'decrease'
  | 'stop'
  | 'needs-data'
  | 'contraindicated'
  | 'completed'
  | 'none';

export type Phase = 'not-started' | 'titration' | 'taper' | 'stopped';
export type Indicator = 'info' | 'warning' | 'critical';

/** Something the rule needed and could not find (S2, D1, T2) or could not read. */
export type MissingCode =
  | 'weight-missing'
  | 'weight-stale'
  | 'weight-unreadable'
  | 'ekg-missing'
  | 'ekg-stale'
  | 'pregnancy-test-missing'
  | 'pregnancy-test-stale'
  | 'baseline-pain-missing'
  | 'pain-after-change-missing'
  | 'pain-stale'
  | 'rate-unreadable'
  /** v1.1: no blood pressure and heart rate within vitalsMaxAgeHours (S2, V1); `detail` names which. */
  | 'vitals-missing';

export interface MissingItem {
  code: MissingCode;
  /** Time of the stale item / the last change, when there is one. */
  since?: string | null;
  /** What was charted and could not be used (e.g. the unknown unit). */
  detail?: string;
}

export type ContraindicationCode =
  | 'pregnancy-test-positive'
  | 'pregnancy-test-equivocal'
  | 'pregnancy-condition'
  | 'psychosis'
  | 'ketamine-allergy'
  | 'under-min-age'
  | 'vital-breach';

/** A contraindication to a start. A vital-sign breach carries the reading; the cards put it in words. */
export type Contraindication =
  | { code: Exclude<ContraindicationCode, 'vital-breach'>; display: string; time: string | null }
  | { code: 'vital-breach'; vital: VitalReading; time: string };

/**
 * A vital sign the core could not judge: the core says what, the cards put it in words (the names of the
 * vitals are wording, kept in src/cards/text.ts only).
 */
export type VitalNote =
  | { vitalNote: 'no-time'; kind: VitalKind }
  | { vitalNote: 'after-now'; kind: VitalKind; time: string }
  | { vitalNote: 'unit'; kind: VitalKind; value: number; unit: string; expectedUnit: string; time: string }
  | {
      vitalNote: 'too-old';
      maxAgeHours: number;
      vitals: Array<{ kind: VitalKind; value: number; unit: string | null; time: string }>;
    };

/** A note of the card: a sentence of the core, or a vital-sign note. */
export type Note = string | VitalNote;

/** A judged vital sign (latest of its kind within vitalsMaxAgeHours). */
export interface VitalReading {
  kind: VitalKind;
  value: number;
  unit: string;
  time: string;
  /** Which threshold it breaches, if any, with the limit (e.g. { bound: 'high', limit: 180 }). */
  breach: { bound: 'high' | 'low'; limit: number } | null;
}

export interface PainReading {
  id: string;
  time: string;
  /** On the 0–10 scale (a VAS in mm already divided). */
  score: number;
  /** As charted, when it differed (e.g. "72 mm"). */
  charted?: string;
}

export interface Segment {
  /** mg/kg/h, rounded. */
  rate: number;
  start: string;
  /** null = open (running). */
  end: string | null;
  /** Ids of the MedicationAdministrations merged into this segment. */
  administrationIds: string[];
}

interface InfusionSummary {
  segments: Segment[];
  /** Start of the first segment in the lookback window. */
  startedAt: string | null;
  highestRate: number | null;
  /** When the sustained target was first reached (taper phase begins) and at what rate. */
  targetReachedAt: string | null;
  rateAtTarget: number | null;
  /** End of the last segment when nothing is running. */
  endedAt: string | null;
  /**
   * Start of the current (or, when nothing runs, the last) course: the segments since the last time
   * nothing was running (for longer than gapToleranceMinutes). The sustained run and the phase are
   * judged within it. Additive.
   */
  courseStartedAt?: string | null;
}

export interface SustainedRun {
  /** First and last score of the qualifying run (≤ targetPain, ≥ minScoresForSustained scores). */
  from: string;
  to: string;
  scores: number;
  hours: number;
  /** Reached the sustainedHours requirement. */
  reached: boolean;
  /**
   * When the run will have lasted sustainedHours (from + sustainedHours): the taper may start once a
   * score at or after this time is still ≤ targetPain. Optional (additive).
   */
  taperMayStartAt?: string | null;
}

/**
 * Where the concentration (mg/mL) used for an mL/h rate came from (additive): the administration's
 * Medication strength, the order the administration references, the active ketamine order, or the
 * defaultConcentration parameter.
 */
export type ConcentrationOrigin = 'medication' | 'order' | 'active-order' | 'default';

/** How a charted rate was read as mg/kg/h, so a card can show it ("7 mL/h × 0.5 mg/mL ÷ 70 kg = 0.05 mg/kg/h"). Additive. */
export interface RateReading {
  /** As charted, e.g. "7 mL/h", "42 mg / 2 h". */
  charted: string;
  basis: 'mg/kg/h' | 'mg/h' | 'mL/h';
  /** The charted amount per hour in the basis unit (mg/kg/h, mg/h or mL/h), unrounded. */
  amountPerHour: number;
  /** The concentration used (mL/h only). */
  concentrationMgPerMl: number | null;
  concentrationFrom: ConcentrationOrigin | null;
  /** The weight used (mg/h and mL/h only). */
  weightKg: number | null;
  /** The result in mg/kg/h, rounded. */
  rate: number;
}

/** The arithmetic behind a rate suggestion, so a clinician can check it. */
export interface RateArithmetic {
  fromRate: number;
  toRate: number;
  /** escalationStep / taperStep applied (signed: +0.1, −0.2); null for start. */
  step: number | null;
  weightKg: number | null;
  mgPerHour: number | null;
  concentrationMgPerMl: number | null;
  /** 'charted' when from the Medication/order, 'default' when the defaultConcentration parameter was used. */
  concentrationSource: 'charted' | 'default' | null;
  mlPerHour: number | null;
  /** Where the concentration came from (additive; set when mL/h is computed). */
  concentrationFrom?: ConcentrationOrigin;
  /** A decrease that reached 0 or below becomes a stop. */
  becameStop?: boolean;
}

export interface Recommendation {
  ruleId: RuleId;
  action: Action;
  phase: Phase;
  indicator: Indicator;
  /** mg/kg/h; 0 when not running; null when it cannot be read. */
  currentRate: number | null;
  /** See docs/clinical-specification.md §6: new rate for start/increase/taper/decrease, current for hold, 0 for stop, null otherwise. */
  recommendedRate: number | null;
  /** When the next protocol review is due (last change + minHoursBetweenChanges), or null. */
  nextReviewAt: string | null;
  /** Set when the step is overdue (more than maxHoursBetweenChanges since the last change). */
  overdue: boolean;
  /** Last change: the start of the current segment. */
  lastChangeAt: string | null;
  /** True when the new rate exceeds softMaxRate (T8 warning: attending review). */
  aboveSoftMax: boolean;
  maxToleratedRate: number | null;
  /**
   * True when a psychotomimetic effect was charted while the running rate could not be read: the max
   * tolerated rate is unknown, so no increase is suggested (T7). Additive.
   */
  maxToleratedRateUnknown?: boolean;
  /**
   * Which maximum holds or lowers the rate: T7 'hard-max' (the step would pass hardMaxRate),
   * 'max-tolerated' (the step would pass the max tolerated rate), 'above-max-tolerated' (running above it,
   * tolerated since: held, never cut), 'tolerance-unknown'; A3 'above-hard-max'; A1/A2 'above-hard-max' when
   * one step down would still be above hardMaxRate, so the decrease goes to hardMaxRate instead (v1.1).
   */
  maxRateReason?: 'hard-max' | 'max-tolerated' | 'above-max-tolerated' | 'tolerance-unknown' | 'above-hard-max';
  /**
   * D1 only, when the running rate cannot be read: the A1/A2 conditions that also hold (an adverse effect
   * since the current rate started, a vital-sign breach); they make D1 critical and the card names them (v1.1).
   * Absent when none holds. Additive.
   */
  safetyFindings?: Array<'A1' | 'A2'>;
  /** How the running rate was read from the chart (mg/h, mL/h…), when it was readable. Additive. */
  currentRateReading?: RateReading | null;
  /** The active ketamine order's strength (mg/mL) when charted: reads a draft's mL/h without its own. Additive. */
  activeOrderConcentrationMgPerMl?: number | null;
  /** The active ketamine order's strength as charted, when it cannot be used (a draft's mL/h is then unreadable). Additive. */
  activeOrderStrengthUnreadable?: string | null;
  arithmetic: RateArithmetic | null;
  missing: MissingItem[];
  contraindications: Contraindication[];
  cautions: Array<{ category: CautionCategory; display: string }>;
  /** Prerequisites for a start (S rules), each with what was found. */
  prerequisites: {
    weight: { valueKg: number; time: string; fresh: boolean } | null;
    ekg: { time: string; fresh: boolean } | null;
    pregnancyTest: { result: 'positive' | 'negative' | 'equivocal'; time: string; fresh: boolean } | null;
    pregnancyTestRequired: boolean;
    baselinePain: PainReading | null;
    consent: { time: string | null } | null;
  };
  infusion: InfusionSummary;
  /** Latest pain scores (newest last), at most a handful for display. */
  recentPain: PainReading[];
  sustained: SustainedRun | null;
  vitals: VitalReading[];
  /** The adverse effect that drove A1 (or that set the max tolerated rate). */
  adverseEffect: AdverseEffectView | null;
  /**
   * §8 (v1.1): a new course would be a re-challenge: the max tolerated rate lies below startRate (an
   * adverse effect at the start rate within lookbackDays) or is unknown. Set on S3 (whose indicator is
   * then warning) and X1, with every adverse effect that counts within lookbackDays, oldest first. Additive.
   */
  rechallenge?: { maxToleratedRate: number | null; effects: AdverseEffectView[] } | null;
  /** The active ketamine order, for priorPrescription / stop suggestions. */
  activeOrderId: string | null;
  /** Dosing weight used for arithmetic (kg), when fresh. */
  weightKg: number | null;
  /** Things read but not used, said in the card (unrecognised code, ignored pain scale, unknown unit…). */
  notes: Note[];
  /** What was set aside before evaluation (another patient's resources, unreadable entries). */
  setAside: SetAsideSummary;
  protocolVersion: string;
}

/** An adverse effect as the recommendation names it (its time, as charted, and the rate it is attributed to). */
export interface AdverseEffectView {
  time: string;
  display: string;
  atRate: number | null;
  /** Coded in the psychotomimetic value set; otherwise an adverse effect attributed to ketamine (v1.1). */
  psychotomimetic: boolean;
}

/** Resources set aside before evaluation (v1.1: the record is the patient's; readable values). */
export interface SetAsideItem {
  /** 'malformed': a field the service reads is not in its FHIR JSON shape (a list, an object). */
  reason: 'other-patient' | 'unreadable-date' | 'non-finite-number' | 'malformed' | 'malformed-entry' | 'after-now';
  /** The resource type, when there was one. */
  resourceType: string | null;
  /** Which field could not be read (unreadable-date, non-finite-number, malformed: its path, never its content). */
  field?: string;
}

export interface SetAsideSummary {
  /** Resources belonging to another patient. */
  otherPatient: number;
  /** Resources dated after the evaluation time (ignored, v1.1). */
  afterNow?: number;
  /** Null or malformed bundle entries, unreadable dates, non-finite numbers. */
  unreadable: number;
  items: SetAsideItem[];
}

/** Why a draft's rate could not be read (O0): no rate, a unit not in the tables, mg/h or mL/h without a weight, not a valid number, above maxPlausibleRate. */
type UnreadableRateCause =
  'no-rate' | 'unknown-unit' | 'no-weight' | 'invalid-value' | 'implausible' | 'unreadable-strength' | 'rounds-to-zero';

/** Result of checking one draft ketamine order against the recommendation (docs/clinical-specification.md §4). */
export interface OrderCheck {
  /** null = consistent with the protocol: no card. */
  ruleId: OrderFindingId | null;
  indicator: Indicator | null;
  /** The draft MedicationRequest id (as in draftOrders). */
  draftId: string;
  /** Draft rate converted to mg/kg/h; null when unreadable. */
  draftRate: number | null;
  /** The draft rate as charted, e.g. "21 mg/h". */
  draftCharted: string | null;
  /** How the draft rate was read (weight, concentration), when readable. Additive. */
  draftReading?: RateReading | null;
  /**
   * O0: the draft's rate is unreadable, or the running rate is, so the draft cannot be compared; S3: the
   * new start is a re-challenge (§8). Additive.
   */
  reason?: OrderFinding['reason'];
  /**
   * O0 for the draft's own rate: why it cannot be read (a sentence), and the bag strength as charted when
   * that is what cannot be read. Additive.
   */
  unreadable?: { detail: string; strength: string | null };
  /** O0 for the draft's own rate: why it could not be read, as a cause the card words. Additive. */
  draftUnreadable?: UnreadableRateCause;
  /** The rate the suggestion sets the draft to (mg/kg/h); null when no rate suggestion. */
  suggestedRate: number | null;
  suggestion: 'delete' | 'set-rate' | null;
  arithmetic: RateArithmetic | null;
  /** Every finding on this draft, most severe first (v1.1); the first names the card. Empty when none. */
  findings?: OrderFinding[];
  notes: string[];
}

/** One order rule that applies to a draft. */
export interface OrderFinding {
  ruleId: OrderFindingId;
  indicator: Indicator;
  suggestedRate: number | null;
  suggestion: 'delete' | 'set-rate' | null;
  reason?: 'draft-rate-unreadable' | 'current-rate-unreadable' | 're-challenge';
}
