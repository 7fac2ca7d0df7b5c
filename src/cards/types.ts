/**
 * The cards this service sends: CDS Hooks 2.0 cards (src/contract/cds-hooks.ts) carrying the
 * machine-readable `ketamine-protocol` extension of docs/clinical-specification.md §6.
 */
import type { Card as CdsHooksCard, CdsResponse as CdsHooksResponse } from '../contract/cds-hooks';
import type { Action as ProtocolAction, OrderRuleId, Phase, RuleId } from '../protocol/recommendation';

/** docs/clinical-specification.md §6: read by the EHR, the demo page and tests without parsing text. */
export interface KetamineProtocolExtension {
  /** The protocol rule (patient-view) or the order rule (order hooks). */
  ruleId: RuleId | OrderRuleId;
  action: ProtocolAction;
  phase: Phase;
  currentRate: number | null;
  recommendedRate: number | null;
  unit: 'mg/kg/h';
  /** The draft order's rate in mg/kg/h on order hooks; null on patient-view (or when unreadable). */
  draftRate: number | null;
  nextReviewAt: string | null;
  /** The max tolerated rate (mg/kg/h) set by an adverse effect in the look-back; null when none. */
  maxToleratedRate: number | null;
  protocolVersion: string;
}

interface CardExtension {
  'ketamine-protocol': KetamineProtocolExtension;
  [key: string]: unknown;
}

/** A card of this service. */
export type Card = CdsHooksCard<CardExtension>;

/** The response of one hook call. */
export type CdsResponse = CdsHooksResponse<Card>;
