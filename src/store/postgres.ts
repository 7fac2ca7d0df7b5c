/**
 * The shared store for several instances: PostgreSQL through a pg Pool with connection, statement and
 * idle-in-transaction timeouts, so an outage fails calls quickly instead of hanging them. Migrations
 * (migrations-pg.ts) run at open under an advisory lock. Feedback commits before recordFeedback resolves;
 * audit rows are written in batches (one multi-row INSERT per batch) off the request path.
 */
import { userInfo } from 'node:os';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { AuditFilter, AuditRow, StoredAuditRow } from './audit';
import { createAuditQueue } from './audit-queue';
import type { FeedbackOutcome } from './feedback';
import { PG_MIGRATIONS } from './migrations-pg';
import {
  AUDIT_CARD_COLUMNS,
  asReportRows,
  auditCardValues,
  CALLS_COLUMNS,
  CALLS_UPSERT,
  callsDeltas,
  cardList,
  numbered,
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

export interface PostgresStoreOptions extends StoreOptions {
  /** Schema holding the tables (created if missing); default 'public'. Tests use one per run. */
  schema?: string;
  /** Pool size per instance. */
  maxConnections?: number;
  connectionTimeoutMs?: number;
  statementTimeoutMs?: number;
}

const PG_DEFAULTS = {
  maxConnections: 10,
  connectionTimeoutMs: 3_000,
  statementTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 10_000,
  /** Migrations may wait for another instance's migration (the advisory lock). */
  migrationTimeoutMs: 60_000,
} as const;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

interface FeedbackRecord {
  id: string;
  service_id: string;
  card: string;
  outcome: FeedbackOutcome;
  outcome_timestamp: string;
  outcome_at: string;
  accepted_suggestions: string[];
  override_reason_system: string | null;
  override_reason_code: string | null;
  override_reason_display: string | null;
  override_comment: string | null;
  received_at: Date;
}

interface AuditRecord {
  id: string;
  at: Date;
  request_id: string | null;
  hook_instance: string;
  service_id: string;
  hook: string;
  patient_id: string;
  rule_ids: string[];
  action: string | null;
  current_rate: number | null;
  recommended_rate: number | null;
  draft_rate: number | null;
  protocol_version: string;
  duration_ms: number;
  card_count: number;
  outcome: AuditRow['outcome'];
  degraded_cause: string | null;
  fhir_sources: Record<string, string> | null;
  card_ids: string[];
  cards: NonNullable<AuditRow['cards']>;
  set_aside_other_patient: number | null;
  set_aside_unreadable: number | null;
  set_aside_after_now: number | null;
}

const AUDIT_COLUMNS = [
  'at',
  'request_id',
  'hook_instance',
  'service_id',
  'hook',
  'patient_id',
  'rule_ids',
  'action',
  'current_rate',
  'recommended_rate',
  'draft_rate',
  'protocol_version',
  'duration_ms',
  'card_count',
  'outcome',
  'degraded_cause',
  'fhir_sources',
  'card_ids',
  'cards',
  'set_aside_other_patient',
  'set_aside_unreadable',
  'set_aside_after_now',
] as const;

const SETTLE_AUDIT = settleAudit('postgres').map(numbered);
const SETTLE_FEEDBACK = settleFeedback('postgres').map(numbered);
const REPORT = reportStatements('postgres');

/** `INSERT INTO table (columns) VALUES ($1, …), (…) [suffix]` with the values flattened. */
function multiRowInsert(table: string, columns: readonly string[], rows: unknown[][], suffix = '') {
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = row.map((_, i) => `$${values.length + i + 1}`);
    values.push(...row);
    return `(${placeholders.join(', ')})`;
  });
  return { text: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ${suffix}`, values };
}

/** Connects, migrates (under the advisory lock) and returns the store; rejects when the database cannot be used. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => undefined);
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  const statementTimeoutMs = options.statementTimeoutMs ?? PG_DEFAULTS.statementTimeoutMs;
  const config: PoolConfig = {
    connectionString: withDefaultUser(url),
    max: options.maxConnections ?? PG_DEFAULTS.maxConnections,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? PG_DEFAULTS.connectionTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1_000,
    idle_in_transaction_session_timeout: PG_DEFAULTS.idleInTransactionTimeoutMs,
    application_name: 'ketamine-cds',
    options: `-c search_path=${schema}`,
  };
  const pool = new Pool(config);
  // An idle connection dropped by the server (restart, outage) is reported here; unhandled it would
  // crash the process. The pool replaces it on the next query.
  pool.on('error', (err) => onError('ping', err));

  try {
    await migrate(pool, schema);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }

  // Report tables are written under one transaction-level advisory lock per schema, taken after the rows
  // they summarise: instances settle one at a time, so a card and its feedback written at once by two
  // instances are always matched, and the daily buckets are never updated in two orders at once.
  const reportLock = (client: PoolClient) =>
    client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ketamine-cds report ${schema}`]);

  const writeAudit = (rows: AuditRow[]) =>
    transaction(pool, async (client) => {
      const audit = multiRowInsert('audit', AUDIT_COLUMNS, rows.map(auditValues));
      await client.query(audit.text, audit.values);
      await reportLock(client);
      const cards = rows.flatMap(auditCardValues);
      if (cards.length > 0) {
        const insert = multiRowInsert('audit_card', AUDIT_CARD_COLUMNS, cards);
        await client.query(insert.text, insert.values);
      }
      const calls = multiRowInsert('report_calls_daily', CALLS_COLUMNS, callsDeltas(rows), CALLS_UPSERT);
      await client.query(calls.text, calls.values);
      if (cards.length > 0) for (const statement of SETTLE_AUDIT) await client.query(statement);
    });

  // Cards copied by the migration (audited before the report existed) are settled now.
  try {
    await transaction(pool, async (client) => {
      await client.query(`SET LOCAL statement_timeout = ${PG_DEFAULTS.migrationTimeoutMs}`);
      await reportLock(client);
      for (const statement of SETTLE_AUDIT) await client.query(statement);
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const queue = createAuditQueue({
    write: writeAudit,
    onError: (err, rows) => onError('audit', err, rows),
    ...(options.auditFlushEveryMs !== undefined ? { flushEveryMs: options.auditFlushEveryMs } : {}),
    ...(options.auditMaxBatch !== undefined ? { maxBatch: options.auditMaxBatch } : {}),
  });

  let claims = 0;
  let closed = false;
  return {
    kind: 'postgres',

    async recordFeedback(serviceId, items) {
      const receivedAt = now().toISOString();
      return transaction(pool, async (client) => {
        let stored = 0;
        for (const item of items) {
          const reason = item.overrideReason?.reason;
          const result = await client.query(
            `INSERT INTO feedback (service_id, card, outcome, outcome_timestamp, outcome_at, accepted_suggestions,
               override_reason_system, override_reason_code, override_reason_display, override_comment, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (card, outcome, outcome_at) DO NOTHING`,
            [
              serviceId,
              item.card,
              item.outcome,
              item.outcomeTimestamp,
              instant(item.outcomeTimestamp),
              JSON.stringify((item.acceptedSuggestions ?? []).map((s) => s.id)),
              reason?.system ?? null,
              reason?.code ?? null,
              reason?.display ?? null,
              item.overrideReason?.userComment ?? null,
              receivedAt,
            ],
          );
          stored += result.rowCount ?? 0;
        }
        if (stored > 0) {
          await reportLock(client);
          const [mark, ...rest] = SETTLE_FEEDBACK;
          await client.query(mark as string, [
            cardList(
              'postgres',
              items.map((item) => item.card),
            ),
          ]);
          for (const statement of rest) await client.query(statement);
        }
        return { stored, duplicates: items.length - stored };
      });
    },

    recordAudit: (row) => queue.push(row),
    flush: () => queue.flush(),

    async claimJti(key, untilMs) {
      const at = now().getTime();
      if (++claims % JTI_SWEEP_EVERY_CLAIMS === 0) {
        pool.query('DELETE FROM jti_seen WHERE expires_at <= $1', [at]).catch((err: unknown) => onError('jti', err));
      }
      const result = await pool.query(
        `INSERT INTO jti_seen (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE jti_seen.expires_at <= $3`,
        [jtiDigest(key), Math.ceil(untilMs), at],
      );
      return result.rowCount === 1 ? 'fresh' : 'replayed';
    },

    async listFeedback(filter = {}) {
      const { rows } = await pool.query<FeedbackRecord>(
        `SELECT * FROM feedback
         WHERE ($1::text IS NULL OR service_id = $1) AND ($2::text IS NULL OR card = $2)
           AND ($3::text IS NULL OR outcome = $3)
         ORDER BY id LIMIT $4`,
        [filter.serviceId ?? null, filter.card ?? null, filter.outcome ?? null, filter.limit ?? DEFAULT_LIST_LIMIT],
      );
      return rows.map(toStoredFeedback);
    },

    async listAudit(filter: AuditFilter = {}) {
      const { rows } = await pool.query<AuditRecord>(
        `SELECT * FROM audit
         WHERE ($1::text IS NULL OR patient_id = $1) AND ($2::text IS NULL OR hook_instance = $2)
           AND ($3::text IS NULL OR service_id = $3) AND ($4::text IS NULL OR request_id = $4)
           AND ($5::text IS NULL OR card_ids @> ARRAY[$5::text])
         ORDER BY id LIMIT $6`,
        [
          filter.patientId ?? null,
          filter.hookInstance ?? null,
          filter.serviceId ?? null,
          filter.requestId ?? null,
          filter.cardId ?? null,
          filter.limit ?? DEFAULT_LIST_LIMIT,
        ],
      );
      return rows.map(toStoredAudit);
    },

    async reportRows(query) {
      const params = reportParams(query);
      return transaction(pool, async (client) => {
        // one snapshot for the four reads: the numbers of one report always add up
        await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const read = async (name: keyof typeof REPORT) =>
          (await client.query(numbered(REPORT[name]), params[name])).rows as Record<string, unknown>[];
        return asReportRows({
          cards: await read('cards'),
          calls: await read('calls'),
          medians: await read('medians'),
          versions: await read('versions'),
        });
      });
    },

    async ping() {
      await pool.query('SELECT 1');
    },

    async close() {
      if (closed) return;
      closed = true;
      await queue.close();
      await pool.end();
    },
  };
}

/** As libpq does: without a user in the URL or PGUSER/USER, the operating-system user (USER may be unset). */
export function withDefaultUser(url: string): string {
  const parsed = new URL(url);
  if (parsed.username || process.env.PGUSER || process.env.USER) return url;
  try {
    parsed.username = userInfo().username;
    return parsed.href;
  } catch {
    return url;
  }
}

async function transaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A connection lost mid-transaction fails the running query; the client's own 'error' event (emitted
  // between queries) must not crash the process.
  const lost = () => {
    broken = true;
  };
  client.on('error', lost);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.removeListener('error', lost);
    client.release(broken);
  }
}

/** Applies the missing migrations in one transaction holding an advisory lock (one migrator at a time). */
async function migrate(pool: Pool, schema: string): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query(`SET LOCAL statement_timeout = ${PG_DEFAULTS.migrationTimeoutMs}`);
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ketamine-cds migrations ${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         version    INTEGER PRIMARY KEY,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT coalesce(max(version), 0)::int AS version FROM ${schema}.schema_migrations`,
    );
    const version = rows[0]?.version ?? 0;
    if (version > PG_MIGRATIONS.length) {
      throw new Error(`store schema version ${version} is newer than this code knows (${PG_MIGRATIONS.length})`);
    }
    for (let v = version; v < PG_MIGRATIONS.length; v++) {
      await client.query(PG_MIGRATIONS[v] as string);
      await client.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ($1)`, [v + 1]);
    }
  });
}

function auditValues(row: AuditRow): unknown[] {
  return [
    row.at,
    row.requestId ?? null,
    row.hookInstance,
    row.serviceId,
    row.hook,
    row.patientId,
    row.ruleIds,
    row.action,
    row.currentRate,
    row.recommendedRate,
    row.draftRate,
    row.protocolVersion,
    row.durationMs,
    row.cardCount,
    row.outcome,
    row.degradedCause ?? null,
    row.fhirSources ? JSON.stringify(row.fhirSources) : null,
    row.cardIds ?? [],
    JSON.stringify(row.cards ?? []),
    ...setAsideValues(row),
  ];
}

function toStoredFeedback(r: FeedbackRecord): StoredFeedback {
  return {
    id: Number(r.id),
    serviceId: r.service_id,
    card: r.card,
    outcome: r.outcome,
    outcomeTimestamp: r.outcome_timestamp,
    outcomeAt: r.outcome_at,
    acceptedSuggestionIds: r.accepted_suggestions,
    overrideReasonSystem: r.override_reason_system,
    overrideReasonCode: r.override_reason_code,
    overrideReasonDisplay: r.override_reason_display,
    overrideComment: r.override_comment,
    receivedAt: r.received_at.toISOString(),
  };
}

function toStoredAudit(r: AuditRecord): StoredAuditRow {
  const row: StoredAuditRow = {
    id: Number(r.id),
    at: r.at.toISOString(),
    hookInstance: r.hook_instance,
    serviceId: r.service_id,
    hook: r.hook,
    patientId: r.patient_id,
    ruleIds: r.rule_ids,
    action: r.action,
    currentRate: r.current_rate,
    recommendedRate: r.recommended_rate,
    draftRate: r.draft_rate,
    protocolVersion: r.protocol_version,
    durationMs: r.duration_ms,
    cardCount: r.card_count,
    outcome: r.outcome,
    cardIds: r.card_ids,
    cards: r.cards,
  };
  if (r.fhir_sources !== null) row.fhirSources = r.fhir_sources;
  if (r.degraded_cause !== null) row.degradedCause = r.degraded_cause;
  if (r.request_id !== null) row.requestId = r.request_id;
  if (r.set_aside_other_patient !== null && r.set_aside_unreadable !== null) {
    row.setAside = { otherPatient: r.set_aside_other_patient, unreadable: r.set_aside_unreadable };
    if (r.set_aside_after_now) row.setAside.afterNow = r.set_aside_after_now;
  }
  return row;
}
