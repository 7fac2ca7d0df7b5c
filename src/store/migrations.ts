/**
 * Schema migrations, applied in order on open; PRAGMA user_version records how many have run.
 * Append only: never edit a migration that has shipped.
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
];
