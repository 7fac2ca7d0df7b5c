/** The pure decision core: facts in, recommendation out (docs/clinical-specification.md §2–§4, §6). */
export type * from './facts';
export type * from './recommendation';
export { decide, type DecisionContext } from './decide';
export { checkDraftOrder, type DraftOrder } from './orders';
export {
  convertRate,
  describeChartedRate,
  mgPerHourAt,
  mlPerHourAt,
  parseRateUnit,
  parseRatioUnits,
  pickConcentration,
  rateAbove,
  rateArithmetic,
  roundRate,
  sameRate,
  weightToKg,
  type RateBasis,
  type RateConversion,
  type RateUnit,
  type WeightConversion,
} from './rates';
export { buildInfusion, segmentAt, RUNNING_STATUSES, type InfusionState, type TimelineSegment } from './infusion';
export { findSustained, latestPain, normalisePain, recentPain, type SustainedResult, type TimedPain } from './pain';
export {
  classifyPregnancyTest,
  effectsDuringInfusion,
  findContraindications,
  judgeVitals,
  vitalLimits,
  type PregnancyResult,
  type TimedEffect,
} from './safety';
export * from './units';
