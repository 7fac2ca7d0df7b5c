import { case1 } from './case1';
import { case2 } from './case2';
import { case3 } from './case3';
import { case4 } from './case4';
import { case5 } from './case5';
import { case6 } from './case6';
import type { Expectation } from './types';

export { BOUNDARY_EXPECTATIONS } from './boundary';
export type { Expectation, Row } from './types';

/** The six patients of the case series (Lauritsen et al. 2016, Table 1), in table order. */
export const CASE_SERIES_EXPECTATIONS: readonly Expectation[] = [case1, case2, case3, case4, case5, case6];
