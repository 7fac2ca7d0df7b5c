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
  // 3: the effectiveness report (src/report/queries.ts describes the tables): each audit row's set-aside
  //    counts; one row per card shown; one row per distinct (service, hook instance, rule id, indicator)
  //    with its counted feedback; daily totals of cards and calls. Cards already audited are copied here and
  //    settled when the store opens.
  `
  ALTER TABLE audit ADD COLUMN set_aside_other_patient INTEGER;
  ALTER TABLE audit ADD COLUMN set_aside_unreadable INTEGER;
  ALTER TABLE audit ADD COLUMN set_aside_after_now INTEGER;

  CREATE TABLE audit_card (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    day              TEXT NOT NULL,
    week             TEXT NOT NULL,
    protocol_version TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    hook             TEXT NOT NULL,
    hook_instance    TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    indicator        TEXT NOT NULL,
    card             TEXT NOT NULL,
    unit_id          INTEGER
  );
  CREATE INDEX audit_card_card ON audit_card (card);
  CREATE INDEX audit_card_unit ON audit_card (unit_id);
  CREATE INDEX audit_card_at ON audit_card (at, protocol_version);

  CREATE TABLE report_unit (
    id                  INTEGER PRIMARY KEY,
    service_id          TEXT NOT NULL,
    hook_instance       TEXT NOT NULL,
    rule_id             TEXT NOT NULL,
    indicator           TEXT NOT NULL,
    at                  TEXT NOT NULL,
    day                 TEXT NOT NULL,
    week                TEXT NOT NULL,
    protocol_version    TEXT NOT NULL,
    hook                TEXT NOT NULL,
    feedback_id         INTEGER,
    outcome             TEXT,
    reason_system       TEXT,
    reason_code         TEXT,
    seconds_to_feedback REAL,
    state               INTEGER NOT NULL DEFAULT 2,
    UNIQUE (service_id, hook_instance, rule_id, indicator)
  );
  CREATE INDEX report_unit_unsettled ON report_unit (state) WHERE state > 0;
  CREATE INDEX report_unit_feedback ON report_unit (rule_id, indicator, day, protocol_version, seconds_to_feedback)
    WHERE outcome IS NOT NULL;

  CREATE TABLE report_cards_daily (
    day              TEXT NOT NULL,
    week             TEXT NOT NULL,
    hook             TEXT NOT NULL,
    protocol_version TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    indicator        TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    reason_system    TEXT NOT NULL,
    reason_code      TEXT NOT NULL,
    units            INTEGER NOT NULL,
    PRIMARY KEY (day, hook, protocol_version, rule_id, indicator, outcome, reason_system, reason_code)
  ) WITHOUT ROWID;

  CREATE TABLE report_calls_daily (
    day                     TEXT NOT NULL,
    week                    TEXT NOT NULL,
    hook                    TEXT NOT NULL,
    protocol_version        TEXT NOT NULL,
    outcome                 TEXT NOT NULL,
    cause                   TEXT NOT NULL,
    calls                   INTEGER NOT NULL,
    calls_with_cards        INTEGER NOT NULL,
    set_aside_other_patient INTEGER NOT NULL,
    set_aside_unreadable    INTEGER NOT NULL,
    set_aside_after_now     INTEGER NOT NULL,
    PRIMARY KEY (day, hook, protocol_version, outcome, cause)
  ) WITHOUT ROWID;

  INSERT INTO audit_card (at, day, week, protocol_version, service_id, hook, hook_instance, rule_id, indicator, card)
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', a.at), date(a.at), date(a.at, 'weekday 0', '-6 days'), a.protocol_version,
    a.service_id, a.hook, a.hook_instance, json_extract(c.value, '$.ruleId'), json_extract(c.value, '$.indicator'),
    json_extract(c.value, '$.uuid')
  FROM audit a, json_each(a.cards) c
  WHERE json_extract(c.value, '$.uuid') IS NOT NULL AND json_extract(c.value, '$.ruleId') IS NOT NULL
  ORDER BY a.id, c.key;

  INSERT INTO report_calls_daily
  SELECT date(at), date(at, 'weekday 0', '-6 days'), hook, protocol_version, outcome,
    CASE WHEN outcome = 'ok' THEN '' ELSE COALESCE(degraded_cause, '') END,
    COUNT(*), SUM(card_count > 0), 0, 0, 0
  FROM audit WHERE true
  GROUP BY date(at), hook, protocol_version, outcome, CASE WHEN outcome = 'ok' THEN '' ELSE COALESCE(degraded_cause, '') END;
  `,
];
