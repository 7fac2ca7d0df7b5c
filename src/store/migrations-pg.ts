/**
 * PostgreSQL schema migrations (DATABASE_URL). Applied at startup by postgres.ts inside one transaction
 * that first takes a transaction-level advisory lock, so instances starting together apply each version
 * exactly once (the others wait, then find nothing to do). `schema_migrations` records the versions.
 * Append only: never edit a migration that has shipped.
 *
 * The tables, for anyone querying them (e.g. an effectiveness report joining feedback to audit by card):
 *
 * feedback — one row per CDS Hooks feedback item (CH-F3), committed before the EHR gets its 200.
 *   id                       row id (insertion order)
 *   service_id               the CDS service the feedback was posted to
 *   card                     card.uuid the clinician acted on (joins audit.card_ids / audit.cards[].uuid)
 *   outcome                  'accepted' | 'overridden'
 *   outcome_timestamp        as sent by the EHR (RFC 3339)
 *   outcome_at               the same instant in UTC ISO 8601 (idempotency key with card and outcome)
 *   accepted_suggestions     JSON array of accepted suggestion uuids
 *   override_reason_*        the coded override reason (system, code, display), when given
 *   override_comment         the clinician's free-text comment, when given
 *   received_at              when the service received it
 *
 * audit — one row per hook call; identifiers and numbers only, never the FHIR data or tokens.
 *   at                       when the call was answered
 *   request_id               X-Request-Id of the call (also on its log lines)
 *   hook_instance            the EHR's hookInstance
 *   service_id, hook         which service / hook
 *   patient_id               context.patientId (the only patient identifier kept)
 *   rule_ids                 protocol rule ids that fired (docs/clinical-specification.md), text[]
 *   action                   the recommended action; current_rate / recommended_rate / draft_rate in mg/kg/h
 *   protocol_version         protocol-parameters.json version that produced the cards
 *   duration_ms, card_count  how long the call took, how many cards it returned
 *   outcome                  'ok' | 'degraded' | 'error'; degraded_cause says why (deadline, …) when not ok
 *   fhir_sources             prefetch key → how it was obtained (prefetch | null | fetched | …)
 *   card_ids                 uuids of the cards returned, text[] (GIN-indexed)
 *   cards                    [{ uuid, ruleId, indicator }] per card returned
 *   set_aside_*              resources set aside before evaluation, by reason (other_patient, unreadable,
 *                            after_now); null when nothing was set aside or before migration 2
 *
 * audit_card, report_unit, report_cards_daily, report_calls_daily — the effectiveness report's tables
 *   (migration 2), kept by the store with the rows they summarise: described in src/report/queries.ts.
 *
 * jti_seen — the JWT replay cache shared by every instance: sha-256 of `iss \0 jti` → expiry (epoch ms);
 *   rows past their expiry are swept and may be reused.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE feedback (
    id                      BIGSERIAL PRIMARY KEY,
    service_id              TEXT NOT NULL,
    card                    TEXT NOT NULL,
    outcome                 TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    outcome_timestamp       TEXT NOT NULL,
    outcome_at              TEXT NOT NULL,
    accepted_suggestions    JSONB NOT NULL DEFAULT '[]',
    override_reason_system  TEXT,
    override_reason_code    TEXT,
    override_reason_display TEXT,
    override_comment        TEXT,
    received_at             TIMESTAMPTZ NOT NULL,
    UNIQUE (card, outcome, outcome_at)
  );
  CREATE INDEX feedback_service ON feedback (service_id, outcome_at);
  CREATE INDEX feedback_card ON feedback (card);

  CREATE TABLE audit (
    id               BIGSERIAL PRIMARY KEY,
    at               TIMESTAMPTZ NOT NULL,
    request_id       TEXT,
    hook_instance    TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    hook             TEXT NOT NULL,
    patient_id       TEXT NOT NULL,
    rule_ids         TEXT[] NOT NULL,
    action           TEXT,
    current_rate     DOUBLE PRECISION,
    recommended_rate DOUBLE PRECISION,
    draft_rate       DOUBLE PRECISION,
    protocol_version TEXT NOT NULL,
    duration_ms      DOUBLE PRECISION NOT NULL,
    card_count       INTEGER NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN ('ok', 'degraded', 'error')),
    degraded_cause   TEXT,
    fhir_sources     JSONB,
    card_ids         TEXT[] NOT NULL DEFAULT '{}',
    cards            JSONB NOT NULL DEFAULT '[]'
  );
  CREATE INDEX audit_patient ON audit (patient_id, at);
  CREATE INDEX audit_hook_instance ON audit (hook_instance);
  CREATE INDEX audit_service_at ON audit (service_id, at);
  CREATE INDEX audit_at ON audit (at);
  CREATE INDEX audit_request ON audit (request_id);
  CREATE INDEX audit_card_ids ON audit USING GIN (card_ids);
  CREATE INDEX audit_rule_ids ON audit USING GIN (rule_ids);

  CREATE TABLE jti_seen (
    key        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX jti_seen_expiry ON jti_seen (expires_at);
  `,
  // 2: the effectiveness report (src/report/queries.ts describes the tables): each audit row's set-aside
  //    counts; one row per card shown; one row per distinct (service, hook instance, rule id, indicator)
  //    with its counted feedback; daily totals of cards and calls. Cards already audited are copied here and
  //    settled when the store opens.
  `
  ALTER TABLE audit ADD COLUMN set_aside_other_patient INTEGER;
  ALTER TABLE audit ADD COLUMN set_aside_unreadable INTEGER;
  ALTER TABLE audit ADD COLUMN set_aside_after_now INTEGER;

  CREATE TABLE audit_card (
    id               BIGSERIAL PRIMARY KEY,
    at               TIMESTAMPTZ NOT NULL,
    day              TEXT NOT NULL,
    week             TEXT NOT NULL,
    protocol_version TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    hook             TEXT NOT NULL,
    hook_instance    TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    indicator        TEXT NOT NULL,
    card             TEXT NOT NULL,
    unit_id          BIGINT
  );
  CREATE INDEX audit_card_card ON audit_card (card);
  CREATE INDEX audit_card_unit ON audit_card (unit_id);
  CREATE INDEX audit_card_at ON audit_card (at, protocol_version);

  CREATE TABLE report_unit (
    id                  BIGSERIAL PRIMARY KEY,
    service_id          TEXT NOT NULL,
    hook_instance       TEXT NOT NULL,
    rule_id             TEXT NOT NULL,
    indicator           TEXT NOT NULL,
    at                  TIMESTAMPTZ NOT NULL,
    day                 TEXT NOT NULL,
    week                TEXT NOT NULL,
    protocol_version    TEXT NOT NULL,
    hook                TEXT NOT NULL,
    feedback_id         BIGINT,
    outcome             TEXT,
    reason_system       TEXT,
    reason_code         TEXT,
    seconds_to_feedback DOUBLE PRECISION,
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
  );

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
  );

  INSERT INTO audit_card (at, day, week, protocol_version, service_id, hook, hook_instance, rule_id, indicator, card)
  SELECT a.at, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
    to_char(date_trunc('week', a.at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'), a.protocol_version, a.service_id, a.hook,
    a.hook_instance, c.value ->> 'ruleId', c.value ->> 'indicator', c.value ->> 'uuid'
  FROM audit a, jsonb_array_elements(a.cards) WITH ORDINALITY AS c(value, n)
  WHERE c.value ->> 'uuid' IS NOT NULL AND c.value ->> 'ruleId' IS NOT NULL
  ORDER BY a.id, c.n;

  INSERT INTO report_calls_daily
  SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), to_char(date_trunc('week', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'),
    hook, protocol_version, outcome, CASE WHEN outcome = 'ok' THEN '' ELSE COALESCE(degraded_cause, '') END,
    COUNT(*), COUNT(*) FILTER (WHERE card_count > 0), 0, 0, 0
  FROM audit
  GROUP BY 1, 2, hook, protocol_version, outcome, 6;
  `,
];
