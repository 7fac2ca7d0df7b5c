/**
 * CDS Hooks 2.0 request side and the service definition, shared by validation, prefetch and the flow.
 */
import type { Bundle, FhirResource } from 'fhir/r4';

export type HookName = 'patient-view' | 'order-select' | 'order-sign';

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

/** How each prefetch key was obtained (for logs/audit; never the data itself). */
export type PrefetchSource = 'prefetch' | 'null' | 'fetched' | 'outcome-refetched';

/** The patient's record as gathered for one call: every resource from prefetch or the FHIR server. */
export interface GatheredRecord {
  resources: FhirResource[];
  sources: Record<string, PrefetchSource>;
}
