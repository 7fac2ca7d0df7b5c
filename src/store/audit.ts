/**
 * One audit row per hook call, so a hospital can answer "what did the service recommend, when,
 * on what data". Holds identifiers and numbers only: never tokens, never the FHIR data itself.
 */

export type AuditOutcome = 'ok' | 'degraded' | 'error';

export interface AuditRow {
  /** When the call was answered (ISO 8601). */
  at: string;
  hookInstance: string;
  serviceId: string;
  hook: string;
  patientId: string;
  /** Protocol rule ids that fired (docs/clinical-specification.md). */
  ruleIds: string[];
  action: string | null;
  currentRate: number | null;
  recommendedRate: number | null;
  draftRate: number | null;
  protocolVersion: string;
  durationMs: number;
  cardCount: number;
  outcome: AuditOutcome;
  /** Prefetch key → how it was obtained (prefetch | null | fetched | …). */
  fhirSources?: Record<string, string>;
  /** Card uuids sent, to join feedback (which names cards only) back to this call. */
  cardIds?: string[];
  /**
   * Resources set aside before evaluation (docs/clinical-specification.md §2): another patient's, unreadable,
   * dated after now (afterNow, when any). Only the counts: the effectiveness report sums them by reason.
   */
  setAside?: { otherPatient: number; unreadable: number; afterNow?: number };
  /** Each card sent: its uuid, protocol rule id and indicator (for the effectiveness report). */
  cards?: AuditCard[];
  /** Why the call was degraded or failed (e.g. deadline, prefetch-failed); absent when ok. */
  degradedCause?: string;
  /** The request id (X-Request-Id, accepted or generated), to join the audit row to log lines. */
  requestId?: string;
}

export interface AuditCard {
  uuid: string;
  ruleId: string;
  indicator: string;
}

export interface StoredAuditRow extends AuditRow {
  id: number;
}

export interface AuditFilter {
  patientId?: string;
  hookInstance?: string;
  serviceId?: string;
  requestId?: string;
  /** Rows whose cardIds include this card uuid. */
  cardId?: string;
  limit?: number;
}
