/**
 * The CDS Hooks 2.0 contract of this service, in one place: the hooks it serves, the request and the
 * response as the EHR sees them (https://cds-hooks.hl7.org/2.0/), and their limits. The JSON Schemas
 * next to this file (schemas/request.schema.json, schemas/response.schema.json) are the checked form of
 * the same contract; the limits below are read from them, so each limit has one copy.
 *
 * The lowest layer of the code (README, "How it is built"): it imports nothing of the project, and
 * validation, fhir, cards, service and cli import their CDS Hooks types from here.
 */
import type { Bundle, Coding, FhirResource } from 'fhir/r4';
import responseSchema from './schemas/response.schema.json';

// ----- hooks ----------------------------------------------------------------------------------------

/** The hooks the service answers, one service per hook (cds-hooks/services/<id>.json). */
export const HOOKS = ['patient-view', 'order-select', 'order-sign'] as const;
export type HookName = (typeof HOOKS)[number];

// ----- request --------------------------------------------------------------------------------------

/** One service of the discovery document, as stored in cds-hooks/services/<id>.json. */
export interface ServiceDefinition {
  id: string;
  hook: HookName;
  title: string;
  description: string;
  /** Prefetch key → FHIR query template with {{context.x}} / {{userPractitionerId}}… tokens. */
  prefetch: Record<string, string>;
  usageRequirements?: string;
}

export interface FhirAuthorization {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  subject: string;
  patient?: string;
}

export interface CdsContext {
  userId?: string;
  patientId: string;
  encounterId?: string;
  selections?: string[];
  draftOrders?: Bundle;
  [key: string]: unknown;
}

export interface CdsRequest {
  hook: HookName;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  context: CdsContext;
  /** Key → resource (usually a searchset Bundle), or null meaning "no data". */
  prefetch?: Record<string, FhirResource | null>;
  [key: string]: unknown;
}

// ----- response -------------------------------------------------------------------------------------
// Optional fields are omitted, never null/""/[]/{} (src/validation/response.ts enforces it).

export type CardIndicator = 'info' | 'warning' | 'critical';
type SelectionBehavior = 'at-most-one' | 'any';
type ActionType = 'create' | 'update' | 'delete';

/** Card.source: who the advice comes from. `url`/`icon` are absolute URLs. */
interface Source {
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

interface Link {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  /** Only with type `smart`. */
  appContext?: string;
  autolaunchable?: boolean;
}

/** Override reasons are Codings that carry system, code and display. */
export type OverrideReason = Coding & { system: string; code: string; display: string };

/** A card; `Extension` is the service's own `card.extension` (src/cards/types.ts). */
export interface Card<Extension extends object = Record<string, unknown>> {
  uuid?: string;
  /** Fewer than 140 characters (SUMMARY_MAX_LENGTH). */
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
  extension?: Extension;
}

export interface CdsResponse<C extends Card<object> = Card> {
  cards: C[];
  /** Present only when non-empty. */
  systemActions?: Action[];
}

// ----- limits ---------------------------------------------------------------------------------------

/** The CDS Hooks summary limit (< 140 characters), read from the response schema so there is one copy. */
export const SUMMARY_MAX_LENGTH: number = responseSchema.$defs.card.properties.summary.maxLength;
