/**
 * The shape of a hand-written expectation table: what docs/clinical-specification.md says the recommendation must be
 * at each pain assessment of an example patient. These tables are written by reading the protocol
 * and the chart timeline (src/scripts/make-examples.mjs), never computed by the code under test.
 */
import type { Action, ContraindicationCode, MissingCode, Phase, RuleId } from '../../../src/protocol/recommendation';

/** Further facts asserted on a row, when given. */
interface RowExtras {
  /** T8/T4/T5: more than maxHoursBetweenChanges since the last change (T8 rows default to false). */
  overdue?: boolean;
  /** T8: the new rate exceeds softMaxRate (T8 rows default to false). */
  aboveSoftMax?: boolean;
  /** S2 / D1 / T2: exactly these missing items (codes, any order). */
  missing?: MissingCode[];
  /** S1: exactly these contraindications (codes, any order). */
  contraindications?: ContraindicationCode[];
}

/**
 * One pain assessment: the time as an offset 'h:mm' from the expectation's `start`, the pain value
 * as charted (a VAS in mm as its mm value), then what the protocol recommends at that moment.
 * `phase` null: not asserted. Rates in mg/kg/h.
 */
export type Row = [
  at: string,
  chartedPain: number,
  ruleId: RuleId,
  action: Action,
  phase: Phase | null,
  currentRate: number,
  recommendedRate: number | null,
  extras?: RowExtras,
];

export interface Expectation {
  /** File in fhir-resources/examples. */
  file: string;
  patientId: string;
  /** The hook context's encounter. */
  encounterId: string;
  /** Offsets of the rows are from this time: the infusion start, or the scenario's reference time. */
  start: string;
  /** Case series only: Table 1 of the paper. */
  reported?: {
    /** Infusion rate at which pain ≤ 3 was sustained for 8 h (mg/kg/h). */
    rateAtTarget: number;
    /** Hours from the infusion start until pain ≤ 3 had been maintained for 8 h. */
    hoursToTarget: number;
  };
  rows: Row[];
}
