/**
 * The effectiveness report from a known set of hook calls and feedback (test/support/report-fixture.ts),
 * on both stores: every number of the report exactly; the version and period filters; a store reopened
 * (nothing counted twice); and a store that upgrades with calls and feedback written before the report
 * existed (the migration copies and settles them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { buildReport } from '../../src/report/aggregate';
import type { ReportQuery } from '../../src/report/types';
import { instant } from '../../src/store/store';
import { openPostgresStore, openSqliteStore, type AuditRow, type FeedbackItem, type Store } from '../../src/store';
import { MIGRATIONS } from '../../src/store/migrations';
import { PG_MIGRATIONS } from '../../src/store/migrations-pg';
import { keepForProcessLifetime } from '../../src/store/sqlite';
import { withDefaultUser } from '../../src/store/postgres';
import { ALL_CALLS, ALL_FEEDBACK, EXPECTED_REPORT, feedReportFixture, REPORT_PERIOD } from '../support/report-fixture';
import { BACKENDS, dropSchema, TEST_DATABASE_URL, uniqueSchema, type StoreBackend } from '../support/stores';

const PERIOD: ReportQuery = { ...REPORT_PERIOD, version: null };

async function report(store: Store, query: ReportQuery = PERIOD) {
  return buildReport(await store.reportRows(query), query);
}

describe.each(BACKENDS)('the effectiveness report on the %s store', (_label, makeBackend) => {
  let backend: StoreBackend;
  let store: Store;
  beforeEach(async () => {
    backend = makeBackend();
    store = await backend.open();
    await feedReportFixture(store);
  });
  afterEach(() => backend.cleanup());

  it('when the known calls and feedback are reported for March 1–15, every number is the one worked out by hand', async () => {
    expect(await report(store)).toEqual(EXPECTED_REPORT);
  });

  it('when protocol 1.1.0 is asked for, only its calls and cards count, and both versions stay listed to choose from', async () => {
    const r = await report(store, { ...PERIOD, version: '1.1.0' });
    expect(r.protocolVersion).toBe('1.1.0');
    expect(r.totals).toEqual({
      calls: 13,
      callsWithCards: 10,
      degradedCalls: 2,
      failedCalls: 1,
      cardsShown: 9,
      accepted: 3,
      overridden: 5,
      noFeedback: 1,
      acceptanceRate: { rate: 0.375, low95: 0.1368, high95: 0.6943 },
      // 30, 120, 120, 180, 240, 300, 600, 1800 (HI14's 300 s is 1.0.0)
      medianSecondsToFeedback: 210,
    });
    // S3 without HI14 (accepted under 1.0.0): HI1 accepted, HI2 and HI9 overridden, HI3 none; 120, 600, 1800 s
    expect(r.rules.find((x) => x.ruleId === 'S3')).toMatchObject({
      cardsShown: 4,
      accepted: 1,
      overridden: 2,
      noFeedback: 1,
      acceptanceRate: { rate: 0.3333, low95: 0.0615, high95: 0.7923 },
      medianSecondsToFeedback: 600,
    });
    expect(r.versions.map((v) => v.protocolVersion)).toEqual(['1.1.0']);
    expect(r.availableVersions).toEqual(['1.0.0', '1.1.0']);
  });

  it('when the period ends on Sunday March 8, only the first week counts', async () => {
    const r = await report(store, { from: '2026-03-01', to: '2026-03-08', version: null });
    expect(r.weekly.map((w) => [w.weekStart, w.calls, w.cardsShown, w.accepted, w.overridden, w.noFeedback])).toEqual([
      ['2026-03-02', 9, 7, 3, 3, 1],
    ]);
    expect(r.totals).toMatchObject({ calls: 9, cardsShown: 7, accepted: 3, overridden: 3, noFeedback: 1 });
    expect(r.setAside).toEqual({ otherPatient: 2, unreadable: 1, afterNow: 1 });
  });

  it('when no period is given, every call counts (the February one too)', async () => {
    const r = await report(store, { from: null, to: null, version: null });
    expect(r.totals).toMatchObject({ calls: 15, cardsShown: 11, accepted: 5 });
    expect(r.weekly[0]?.weekStart).toBe('2026-02-16');
    expect(r.weekly).toHaveLength(4); // 02-16, 02-23 (no calls, shown at zero), 03-02, 03-09
    expect(r.weekly[1]).toMatchObject({ weekStart: '2026-02-23', calls: 0, cardsShown: 0, acceptanceRate: null });
  });

  it('when the store is opened again, the report is the same (nothing is counted twice)', async () => {
    await store.close();
    store = await backend.open();
    expect(await report(store)).toEqual(EXPECTED_REPORT);
  });

  it('when an audit row is read back, its set-aside counts are there (an afterNow of 0 is left out)', async () => {
    const c8 = await store.listAudit({ hookInstance: 'a0000000-0000-4000-8000-000000000008' });
    expect(c8.map((row) => row.setAside)).toEqual([{ otherPatient: 2, unreadable: 1, afterNow: 1 }]);
    const c12 = await store.listAudit({ hookInstance: 'a0000000-0000-4000-8000-000000000012' });
    expect(c12.map((row) => row.setAside)).toEqual([{ otherPatient: 0, unreadable: 3 }]);
    const c1 = await store.listAudit({ hookInstance: 'a0000000-0000-4000-8000-000000000001' });
    expect(c1[0]?.setAside).toBeUndefined();
  });
});

// ----- upgrading a store written before the report ------------------------------------------------

/** The audit columns both old schemas have, in order, and one row's values. */
const OLD_AUDIT_COLUMNS = [
  'at',
  'request_id',
  'hook_instance',
  'service_id',
  'hook',
  'patient_id',
  'rule_ids',
  'protocol_version',
  'duration_ms',
  'card_count',
  'outcome',
  'degraded_cause',
  'card_ids',
  'cards',
];
const oldAudit = (row: AuditRow, postgres: boolean): unknown[] => [
  row.at,
  row.requestId ?? null,
  row.hookInstance,
  row.serviceId,
  row.hook,
  row.patientId,
  postgres ? row.ruleIds : JSON.stringify(row.ruleIds),
  row.protocolVersion,
  row.durationMs,
  row.cardCount,
  row.outcome,
  row.degradedCause ?? null,
  postgres ? (row.cardIds ?? []) : JSON.stringify(row.cardIds ?? []),
  JSON.stringify(row.cards ?? []),
];
const OLD_FEEDBACK_COLUMNS = [
  'service_id',
  'card',
  'outcome',
  'outcome_timestamp',
  'outcome_at',
  'accepted_suggestions',
  'override_reason_system',
  'override_reason_code',
  'override_comment',
  'received_at',
];
const oldFeedback = (serviceId: string, item: FeedbackItem): unknown[] => [
  serviceId,
  item.card,
  item.outcome,
  item.outcomeTimestamp,
  instant(item.outcomeTimestamp),
  JSON.stringify((item.acceptedSuggestions ?? []).map((s) => s.id)),
  item.overrideReason?.reason?.system ?? null,
  item.overrideReason?.reason?.code ?? null,
  item.overrideReason?.userComment ?? null,
  '2026-03-20T00:00:00.000Z',
];
const placeholders = (n: number, postgres: boolean) =>
  Array.from({ length: n }, (_, i) => (postgres ? `$${i + 1}` : '?')).join(', ');

/** Before the report the set-aside counts were not kept: the upgraded report has none. */
const UPGRADED_REPORT = { ...EXPECTED_REPORT, setAside: { otherPatient: 0, unreadable: 0, afterNow: 0 } };

describe('a store written before the report existed', () => {
  it('when the SQLite file is opened by this version, the migration copies the cards and calls, and the report is exact', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ketamine-report-upgrade-'));
    const file = path.join(dir, 'old.sqlite');
    try {
      const db = new Database(file);
      keepForProcessLifetime(db);
      db.exec(MIGRATIONS[0] as string);
      db.exec(MIGRATIONS[1] as string);
      db.exec('PRAGMA user_version = 2');
      const insertAudit = db.prepare(
        `INSERT INTO audit (${OLD_AUDIT_COLUMNS.join(', ')}) VALUES (${placeholders(OLD_AUDIT_COLUMNS.length, false)})`,
      );
      const insertFeedback = db.prepare(
        `INSERT OR IGNORE INTO feedback (${OLD_FEEDBACK_COLUMNS.join(', ')})
         VALUES (${placeholders(OLD_FEEDBACK_COLUMNS.length, false)})`,
      );
      keepForProcessLifetime(insertAudit, insertFeedback);
      for (const row of ALL_CALLS) insertAudit.run(oldAudit(row, false));
      for (const [serviceId, items] of ALL_FEEDBACK)
        for (const item of items) insertFeedback.run(oldFeedback(serviceId, item));
      db.close();

      const store = openSqliteStore(file);
      try {
        expect(await report(store)).toEqual(UPGRADED_REPORT);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the PostgreSQL schema is opened by this version, the migration copies the cards and calls, and the report is exact', async () => {
    const schema = uniqueSchema('upgrade');
    const client = new Client({ connectionString: withDefaultUser(TEST_DATABASE_URL) });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET search_path TO ${schema}`);
      await client.query(PG_MIGRATIONS[0] as string);
      await client.query(
        `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
         INSERT INTO schema_migrations (version) VALUES (1)`,
      );
      for (const row of ALL_CALLS)
        await client.query(
          `INSERT INTO audit (${OLD_AUDIT_COLUMNS.join(', ')}) VALUES (${placeholders(OLD_AUDIT_COLUMNS.length, true)})`,
          oldAudit(row, true),
        );
      for (const [serviceId, items] of ALL_FEEDBACK)
        for (const item of items)
          await client.query(
            `INSERT INTO feedback (${OLD_FEEDBACK_COLUMNS.join(', ')})
             VALUES (${placeholders(OLD_FEEDBACK_COLUMNS.length, true)}) ON CONFLICT DO NOTHING`,
            oldFeedback(serviceId, item),
          );
      await client.end();

      const store = await openPostgresStore(TEST_DATABASE_URL, { schema });
      try {
        expect(await report(store)).toEqual(UPGRADED_REPORT);
      } finally {
        await store.close();
      }
    } finally {
      await client.end().catch(() => undefined);
      await dropSchema(schema);
    }
  });
});
