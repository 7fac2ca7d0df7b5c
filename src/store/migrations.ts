/**
 * SQLite schema migrations, applied in order on open; PRAGMA user_version records how many have run.
 * Append only: never edit a migration that has shipped. The PostgreSQL schema (migrations-pg.ts) holds
 * the same tables and columns; its comments document each column.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE feedback (
    id                      INTEGER PRIMARY KEY,
    service_id              TEXT NOT NULL,
    card                    TEXT NOT NULL,
    outcome                 TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    outcome_timestamp       TEXT NOT NULL,
    outcome_at              TEXT NOT NULL,
    accepted_suggestions    TEXT NOT NULL DEFAULT '[]',
    override_reason_system  TEXT,
    override_reason_code    TEXT,
    override_reason_display TEXT,
    override_comment        TEXT,
    received_at             TEXT NOT NULL,
    UNIQUE (card, outcome, outcome_at)
  );
  CREATE INDEX feedback_service ON feedback (service_id, outcome_at);

  CREATE TABLE audit (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    hook_instance    TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    hook             TEXT NOT NULL,
    patient_id       TEXT NOT NULL,
    rule_ids         TEXT NOT NULL,
    action           TEXT,
    current_rate     REAL,
    recommended_rate REAL,
    draft_rate       REAL,
    protocol_version TEXT NOT NULL,
    duration_ms      REAL NOT NULL,
    card_count       INTEGER NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN ('ok', 'degraded', 'error')),
    fhir_sources     TEXT,
    card_ids         TEXT NOT NULL DEFAULT '[]'
  );
  CREATE INDEX audit_patient ON audit (patient_id, at);
  CREATE INDEX audit_hook_instance ON audit (hook_instance);
  `,
  // 2: request id, degraded cause and per-card (uuid, rule id, indicator) on audit rows; the shared jti
  //    replay cache; indexes for the effectiveness report (by service and time, by card, by request id).
  `
  ALTER TABLE audit ADD COLUMN request_id TEXT;
  ALTER TABLE audit ADD COLUMN degraded_cause TEXT;
  ALTER TABLE audit ADD COLUMN cards TEXT NOT NULL DEFAULT '[]';
  CREATE INDEX audit_service_at ON audit (service_id, at);
  CREATE INDEX audit_at ON audit (at);
  CREATE INDEX audit_request ON audit (request_id);
  CREATE INDEX feedback_card ON feedback (card);

  CREATE TABLE jti_seen (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX jti_seen_expiry ON jti_seen (expires_at);
  `,
];
