/**
 * The embedded store: one SQLite file (better-sqlite3, WAL, synchronous FULL), migrated on open, every
 * statement prepared once. Feedback commits before recordFeedback resolves; audit rows are written in
 * batches by the audit queue (one transaction per batch). Several processes on one host may share the
 * file (busy timeout); several hosts need PostgreSQL (postgres.ts).
 */
import osModule from 'node:os';
import Database from 'better-sqlite3';
import type { AuditCard, AuditFilter, AuditRow, StoredAuditRow } from './audit';
import { createAuditQueue } from './audit-queue';
import type { FeedbackOutcome } from './feedback';
import { MIGRATIONS } from './migrations';
import {
  AUDIT_CARD_COLUMNS,
  asReportRows,
  auditCardValues,
  callsDeltas,
  cardList,
  INSERT_CALLS,
  reportParams,
  reportStatements,
  setAsideValues,
  settleAudit,
  settleFeedback,
} from '../report/queries';
import {
  DEFAULT_LIST_LIMIT,
  instant,
  jtiDigest,
  JTI_SWEEP_EVERY_CLAIMS,
  type Store,
  type StoredFeedback,
  type StoreOptions,
} from './store';

/** How long a writer waits for a lock held by another connection before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * better-sqlite3 12 on Node 24 can abort the whole process (`Assertion failed: (env) != nullptr` in
 * Statement::~Statement) when a prepared statement is garbage-collected (WiseLibs/better-sqlite3#1515,
 * fixed by 13.x, which no longer runs on Node 20). So no statement of this module is ever collected: the
 * connections and their statements are kept referenced for the life of the process (a few objects per
 * store opened; closing a store still finalizes them in SQLite). The list hangs on a core module object,
 * which is one per process even where test runners give each file its own globals.
 */
const KEEP_ALIVE = Symbol.for('ketamine-cds.sqlite.keep-alive');
const keepAlive: unknown[] = ((osModule as unknown as Record<symbol, unknown[]>)[KEEP_ALIVE] ??= []);

/** Keeps better-sqlite3 objects (connections, statements) referenced for the life of the process (see above). */
export function keepForProcessLifetime(...objects: unknown[]): void {
  keepAlive.push(...objects);
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
  request_id: string | null;
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
  degraded_cause: string | null;
  fhir_sources: string | null;
  card_ids: string;
  cards: string;
  set_aside_other_patient: number | null;
  set_aside_unreadable: number | null;
  set_aside_after_now: number | null;
}

/** Open (creating and migrating if needed) the store at `file`, a path or ':memory:'. */
export function openSqliteStore(file: string, options: StoreOptions = {}): Store {
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => undefined);
  const db = new Database(file);
  keepAlive.push(db);
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
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
    INSERT INTO audit (at, request_id, hook_instance, service_id, hook, patient_id, rule_ids, action, current_rate,
      recommended_rate, draft_rate, protocol_version, duration_ms, card_count, outcome, degraded_cause,
      fhir_sources, card_ids, cards, set_aside_other_patient, set_aside_unreadable, set_aside_after_now)
    VALUES (@at, @requestId, @hookInstance, @serviceId, @hook, @patientId, @ruleIds, @action, @currentRate,
      @recommendedRate, @draftRate, @protocolVersion, @durationMs, @cardCount, @outcome, @degradedCause,
      @fhirSources, @cardIds, @cards, @setAsideOtherPatient, @setAsideUnreadable, @setAsideAfterNow)`);
  const insertCard = db.prepare(
    `INSERT INTO audit_card (${AUDIT_CARD_COLUMNS.join(', ')}) VALUES (${AUDIT_CARD_COLUMNS.map(() => '?').join(', ')})`,
  );
  const upsertCalls = db.prepare(INSERT_CALLS);
  const settleAfterAudit = settleAudit('sqlite').map((sql) => db.prepare(sql));
  const settleAfterFeedback = settleFeedback('sqlite').map((sql) => db.prepare(sql));
  const sql = reportStatements('sqlite');
  const report = {
    cards: db.prepare(sql.cards),
    calls: db.prepare(sql.calls),
    medians: db.prepare(sql.medians),
    versions: db.prepare(sql.versions),
  };
  const selectAudit = db.prepare<Record<string, unknown>, AuditRecord>(`
    SELECT * FROM audit
    WHERE (@patientId IS NULL OR patient_id = @patientId)
      AND (@hookInstance IS NULL OR hook_instance = @hookInstance)
      AND (@serviceId IS NULL OR service_id = @serviceId)
      AND (@requestId IS NULL OR request_id = @requestId)
      AND (@cardId IS NULL OR EXISTS (SELECT 1 FROM json_each(audit.card_ids) WHERE value = @cardId))
    ORDER BY id LIMIT @limit`);
  const claim = db.prepare(`
    INSERT INTO jti_seen (key, expires_at) VALUES (@key, @until)
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE jti_seen.expires_at <= @now`);
  const sweep = db.prepare('DELETE FROM jti_seen WHERE expires_at <= ?');
  const ping = db.prepare('SELECT 1');
  keepAlive.push(insertFeedback, selectFeedback, insertAudit, selectAudit, claim, sweep, ping, insertCard, upsertCalls);
  keepAlive.push(...settleAfterAudit, ...settleAfterFeedback, ...Object.values(report));
  /** Cards audited but not yet in the report (copied by a migration): settled now. */
  const settleCards = db.transaction(() => {
    for (const statement of settleAfterAudit) statement.run();
  });
  settleCards();

  const recordBatch = db.transaction((serviceId: string, items: Parameters<Store['recordFeedback']>[1]) => {
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
    if (stored > 0) {
      const [mark, ...rest] = settleAfterFeedback;
      mark?.run(
        cardList(
          'sqlite',
          items.map((item) => item.card),
        ),
      );
      for (const statement of rest) statement.run();
    }
    return { stored, duplicates: items.length - stored };
  });

  const writeAudit = db.transaction((rows: AuditRow[]) => {
    let cards = 0;
    for (const row of rows) {
      insertAudit.run(auditParams(row));
      for (const values of auditCardValues(row)) {
        insertCard.run(values);
        cards++;
      }
    }
    for (const values of callsDeltas(rows)) upsertCalls.run(values);
    if (cards > 0) for (const statement of settleAfterAudit) statement.run();
  });
  const queue = createAuditQueue({
    write: (rows) => {
      if (!db.open) throw new Error('The database connection is not open');
      writeAudit(rows);
    },
    onError: (err, rows) => onError('audit', err, rows),
    ...(options.auditFlushEveryMs !== undefined ? { flushEveryMs: options.auditFlushEveryMs } : {}),
    ...(options.auditMaxBatch !== undefined ? { maxBatch: options.auditMaxBatch } : {}),
  });

  let claims = 0;
  return {
    kind: 'sqlite',
    recordFeedback: async (serviceId, items) => recordBatch(serviceId, items),
    recordAudit: (row) => queue.push(row),
    flush: () => queue.flush(),

    async claimJti(key, untilMs) {
      const at = now().getTime();
      if (++claims % JTI_SWEEP_EVERY_CLAIMS === 0) sweep.run(at);
      return claim.run({ key: jtiDigest(key), until: untilMs, now: at }).changes === 1 ? 'fresh' : 'replayed';
    },

    async listFeedback(filter = {}) {
      return selectFeedback
        .all({
          serviceId: filter.serviceId ?? null,
          card: filter.card ?? null,
          outcome: filter.outcome ?? null,
          limit: filter.limit ?? DEFAULT_LIST_LIMIT,
        })
        .map(toStoredFeedback);
    },

    async listAudit(filter: AuditFilter = {}) {
      return selectAudit
        .all({
          patientId: filter.patientId ?? null,
          hookInstance: filter.hookInstance ?? null,
          serviceId: filter.serviceId ?? null,
          requestId: filter.requestId ?? null,
          cardId: filter.cardId ?? null,
          limit: filter.limit ?? DEFAULT_LIST_LIMIT,
        })
        .map(toStoredAudit);
    },

    async reportRows(query) {
      const params = reportParams(query);
      const read = db.transaction(() => ({
        cards: report.cards.all(params.cards) as Record<string, unknown>[],
        calls: report.calls.all(params.calls) as Record<string, unknown>[],
        medians: report.medians.all(params.medians) as Record<string, unknown>[],
        versions: report.versions.all(params.versions) as Record<string, unknown>[],
      }));
      return asReportRows(read());
    },

    async ping() {
      ping.get();
    },

    async close() {
      await queue.close();
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const readVersion = db.prepare('PRAGMA user_version').pluck();
  keepAlive.push(readVersion);
  const version = readVersion.get() as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`store schema version ${version} is newer than this code knows (${MIGRATIONS.length})`);
  }
  db.transaction(() => {
    MIGRATIONS.slice(version).forEach((sql) => db.exec(sql));
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
  })();
}

function auditParams(row: AuditRow): Record<string, unknown> {
  const [setAsideOtherPatient, setAsideUnreadable, setAsideAfterNow] = setAsideValues(row);
  return {
    at: row.at,
    requestId: row.requestId ?? null,
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
    degradedCause: row.degradedCause ?? null,
    fhirSources: row.fhirSources ? JSON.stringify(row.fhirSources) : null,
    cardIds: JSON.stringify(row.cardIds ?? []),
    cards: JSON.stringify(row.cards ?? []),
    setAsideOtherPatient,
    setAsideUnreadable,
    setAsideAfterNow,
  };
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
    cards: JSON.parse(r.cards) as AuditCard[],
  };
  if (r.fhir_sources !== null) row.fhirSources = JSON.parse(r.fhir_sources) as Record<string, string>;
  if (r.degraded_cause !== null) row.degradedCause = r.degraded_cause;
  if (r.request_id !== null) row.requestId = r.request_id;
  if (r.set_aside_other_patient !== null && r.set_aside_unreadable !== null) {
    row.setAside = { otherPatient: r.set_aside_other_patient, unreadable: r.set_aside_unreadable };
    if (r.set_aside_after_now) row.setAside.afterNow = r.set_aside_after_now;
  }
  return row;
}
