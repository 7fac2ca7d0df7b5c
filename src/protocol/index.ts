/** The pure decision core: facts in, recommendation out (docs/clinical-specification.md §2–§4, §6). */
export type * from './facts';
export type * from './recommendation';
export { decide } from './decide';
export { checkDraftOrder } from './orders';
export { convertRate } from './rates';
export { buildInfusion } from './infusion';
export { normalisePain } from './pain';
export { judgeVitals } from './safety';
export * from './units';
