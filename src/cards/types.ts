/**
 * CDS Hooks 2.0 response types (https://cds-hooks.hl7.org/2.0/#cds-service-response), plus the
 * machine-readable `ketamine-protocol` card extension of docs/clinical-specification.md §6.
 *
 * Optional fields are omitted, never null/""/[]/{} (src/validation/response.ts enforces it).
 */
import type { Coding, FhirResource } from 'fhir/r4';
import type { Action as ProtocolAction, OrderRuleId, Phase, RuleId } from '../protocol/recommendation';

export type CardIndicator = 'info' | 'warning' | 'critical';
export type SelectionBehavior = 'at-most-one' | 'any';
export type ActionType = 'create' | 'update' | 'delete';

/** Card.source: who the advice comes from. `url`/`icon` are absolute URLs. */
export interface Source {
  label: string;
  url?: string;
  icon?: string;
  topic?: Coding;
}

/**
 * Suggestion action. `create`/`update` carry a whole FHIR resource; `delete` carries
 * `resourceId` as a relative reference (`MedicationRequest/123`).
 */
export interface Action {
  type: ActionType;
  description: string;
  resource?: FhirResource;
  resourceId?: string;
}

export interface Suggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: Action[];
}

export interface Link {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  /** Only with type `smart`. */
  appContext?: string;
  autolaunchable?: boolean;
}

/** Override reasons are Codings that carry system, code and display. */
export type OverrideReason = Coding & { system: string; code: string; display: string };

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

export interface CardExtension {
  'ketamine-protocol': KetamineProtocolExtension;
  [key: string]: unknown;
}

export interface Card {
  uuid?: string;
  /** < 140 characters. */
  summary: string;
  /** GitHub-flavored Markdown. */
  detail?: string;
  indicator: CardIndicator;
  source: Source;
  suggestions?: Suggestion[];
  /** Required when there are suggestions. */
  selectionBehavior?: SelectionBehavior;
  overrideReasons?: OverrideReason[];
  links?: Link[];
  extension?: CardExtension;
}

export interface CdsResponse {
  cards: Card[];
  /** Present only when non-empty. */
  systemActions?: Action[];
}
