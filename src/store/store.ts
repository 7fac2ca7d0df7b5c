/**
 * Durable feedback and audit (CH-F3): one SQLite file (better-sqlite3, WAL, synchronous FULL),
 * migrated on open, every statement prepared once. Feedback is idempotent on
 * (card, outcome, outcomeTimestamp as an instant): a repeat is counted as a duplicate, the first wins.
 */
import Database from 'better-sqlite3';
import type { AuditFilter, AuditRow, StoredAuditRow } from './audit';
import type { FeedbackItem, FeedbackOutcome } from './feedback';
import { MIGRATIONS } from './migrations';

/** How long a writer waits for a lock held by another connection before failing. */
const BUSY_TIMEOUT_MS = 5_000;
/** Default row cap of the list queries (ops/tests; not a paging API). */
export const DEFAULT_LIST_LIMIT = 1_000;

export interface StoredFeedback {
  id: number;
  serviceId: string;
  card: string;
  outcome: FeedbackOutcome;
  /** As sent by the EHR. */
  outcomeTimestamp: string;
  /** The same instant, normalised to UTC (the idempotency key uses it). */
  outcomeAt: string;
  acceptedSuggestionIds: string[];
  overrideReasonSystem: string | null;
  overrideReasonCode: string | null;
  overrideReasonDisplay: string | null;
  overrideComment: string | null;
  receivedAt: string;
}

export interface FeedbackFilter {
  serviceId?: string;
  card?: string;
  outcome?: FeedbackOutcome;
  limit?: number;
}

export interface Store {
  recordFeedback(serviceId: string, items: FeedbackItem[]): { stored: number; duplicates: number };
  recordAudit(row: AuditRow): void;
  listFeedback(filter?: FeedbackFilter): StoredFeedback[];
  listAudit(filter?: AuditFilter): StoredAuditRow[];
  close(): void;
}

export interface StoreOptions {
  /** Clock for receivedAt (tests pin it). */
  now?: () => Date;
}

interface FeedbackRecord {
  id: number;
  service_id: string;
  card: string;
  outcome: FeedbackOutcome;
  outcome_timestamp: string;
  outcome_at: string;
  accepted_suggestions: string;
  override_reason_system: string | null;
  override_reason_code: string | null;
  override_reason_display: string | null;
  override_comment: string | null;
  received_at: string;
}

interface AuditRecord {
  id: number;
  at: string;
  hook_instance: string;
  service_id: string;
  hook: string;
  patient_id: string;
  rule_ids: string;
  action: string | null;
  current_rate: number | null;
  recommended_rate: number | null;
  draft_rate: number | null;
  protocol_version: string;
  duration_ms: number;
  card_count: number;
  outcome: AuditRow['outcome'];
  fhir_sources: string | null;
  card_ids: string;
}

/** Open (creating and migrating if needed) the store at `file`, a path or ':memory:'. */
export function openStore(file: string, options: StoreOptions = {}): Store {
  const now = options.now ?? (() => new Date());
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }

  const insertFeedback = db.prepare(`
    INSERT INTO feedback (service_id, card, outcome, outcome_timestamp, outcome_at, accepted_suggestions,
      override_reason_system, override_reason_code, override_reason_display, override_comment, received_at)
    VALUES (@serviceId, @card, @outcome, @outcomeTimestamp, @outcomeAt, @acceptedSuggestions,
      @reasonSystem, @reasonCode, @reasonDisplay, @comment, @receivedAt)
    ON CONFLICT (card, outcome, outcome_at) DO NOTHING`);
  const selectFeedback = db.prepare<Record<string, unknown>, FeedbackRecord>(`
    SELECT * FROM feedback
    WHERE (@serviceId IS NULL OR service_id = @serviceId)
      AND (@card IS NULL OR card = @card)
      AND (@outcome IS NULL OR outcome = @outcome)
    ORDER BY id LIMIT @limit`);
  const insertAudit = db.prepare(`
    INSERT INTO audit (at, hook_instance, service_id, hook, patient_id, rule_ids, action, current_rate,
      recommended_rate, draft_rate, protocol_version, duration_ms, card_count, outcome, fhir_sources, card_ids)
    VALUES (@at, @hookInstance, @serviceId, @hook, @patientId, @ruleIds, @action, @currentRate,
      @recommendedRate, @draftRate, @protocolVersion, @durationMs, @cardCount, @outcome, @fhirSources, @cardIds)`);
  const selectAudit = db.prepare<Record<string, unknown>, AuditRecord>(`
    SELECT * FROM audit
    WHERE (@patientId IS NULL OR patient_id = @patientId)
      AND (@hookInstance IS NULL OR hook_instance = @hookInstance)
      AND (@serviceId IS NULL OR service_id = @serviceId)
      AND (@cardId IS NULL OR EXISTS (SELECT 1 FROM json_each(audit.card_ids) WHERE value = @cardId))
    ORDER BY id LIMIT @limit`);

  const recordBatch = db.transaction((serviceId: string, items: FeedbackItem[]) => {
    const receivedAt = now().toISOString();
    let stored = 0;
    for (const item of items) {
      const reason = item.overrideReason?.reason;
      const result = insertFeedback.run({
        serviceId,
        card: item.card,
        outcome: item.outcome,
        outcomeTimestamp: item.outcomeTimestamp,
        outcomeAt: instant(item.outcomeTimestamp),
        acceptedSuggestions: JSON.stringify((item.acceptedSuggestions ?? []).map((s) => s.id)),
        reasonSystem: reason?.system ?? null,
        reasonCode: reason?.code ?? null,
        reasonDisplay: reason?.display ?? null,
        comment: item.overrideReason?.userComment ?? null,
        receivedAt,
      });
      stored += result.changes;
    }
    return { stored, duplicates: items.length - stored };
  });

  return {
    recordFeedback: (serviceId, items) => recordBatch(serviceId, items),

    recordAudit(row) {
      insertAudit.run({
        at: row.at,
        hookInstance: row.hookInstance,
        serviceId: row.serviceId,
        hook: row.hook,
        patientId: row.patientId,
        ruleIds: JSON.stringify(row.ruleIds),
        action: row.action,
        currentRate: row.currentRate,
        recommendedRate: row.recommendedRate,
        draftRate: row.draftRate,
        protocolVersion: row.protocolVersion,
        durationMs: row.durationMs,
        cardCount: row.cardCount,
        outcome: row.outcome,
        fhirSources: row.fhirSources ? JSON.stringify(row.fhirSources) : null,
        cardIds: JSON.stringify(row.cardIds ?? []),
      });
    },

    listFeedback(filter = {}) {
      return selectFeedback
        .all({
          serviceId: filter.serviceId ?? null,
          card: filter.card ?? null,
          outcome: filter.outcome ?? null,
          limit: filter.limit ?? DEFAULT_LIST_LIMIT,
        })
        .map(toStoredFeedback);
    },

    listAudit(filter = {}) {
      return selectAudit
        .all({
          patientId: filter.patientId ?? null,
          hookInstance: filter.hookInstance ?? null,
          serviceId: filter.serviceId ?? null,
          cardId: filter.cardId ?? null,
          limit: filter.limit ?? DEFAULT_LIST_LIMIT,
        })
        .map(toStoredAudit);
    },

    close() {
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`store schema version ${version} is newer than this code knows (${MIGRATIONS.length})`);
  }
  db.transaction(() => {
    MIGRATIONS.slice(version).forEach((sql) => db.exec(sql));
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

/** The RFC 3339 timestamp as a UTC instant, so "…+02:00" and the same moment in "Z" are one key. */
function instant(timestamp: string): string {
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? timestamp : new Date(ms).toISOString();
}

function toStoredFeedback(r: FeedbackRecord): StoredFeedback {
  return {
    id: r.id,
    serviceId: r.service_id,
    card: r.card,
    outcome: r.outcome,
    outcomeTimestamp: r.outcome_timestamp,
    outcomeAt: r.outcome_at,
    acceptedSuggestionIds: JSON.parse(r.accepted_suggestions) as string[],
    overrideReasonSystem: r.override_reason_system,
    overrideReasonCode: r.override_reason_code,
    overrideReasonDisplay: r.override_reason_display,
    overrideComment: r.override_comment,
    receivedAt: r.received_at,
  };
}

function toStoredAudit(r: AuditRecord): StoredAuditRow {
  const row: StoredAuditRow = {
    id: r.id,
    at: r.at,
    hookInstance: r.hook_instance,
    serviceId: r.service_id,
    hook: r.hook,
    patientId: r.patient_id,
    ruleIds: JSON.parse(r.rule_ids) as string[],
    action: r.action,
    currentRate: r.current_rate,
    recommendedRate: r.recommended_rate,
    draftRate: r.draft_rate,
    protocolVersion: r.protocol_version,
    durationMs: r.duration_ms,
    cardCount: r.card_count,
    outcome: r.outcome,
    cardIds: JSON.parse(r.card_ids) as string[],
  };
  if (r.fhir_sources !== null) row.fhirSources = JSON.parse(r.fhir_sources) as Record<string, string>;
  return row;
}
