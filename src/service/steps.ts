/**
 * The real modules behind each step of the flow (tests swap any of them for a fake).
 */
import { buildCards } from '../cards/build';
import { windowRecord } from '../cql/window';
import { gather } from '../fhir/gather';
import { checkDraftOrder, decide } from '../protocol';
import { assertConformant } from '../validation/response';
import type { Steps } from './deps';

export const STEPS: Steps = { gather, window: windowRecord, decide, checkDraftOrder, buildCards, assertConformant };
