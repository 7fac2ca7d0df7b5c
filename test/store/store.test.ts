/**
 * One behaviour suite for both stores (SQLite and the real PostgreSQL server), then what is particular
 * to each (the SQLite file; PostgreSQL migrations under concurrency and a database outage).
 */
import {
  openPostgresStore,
  validateFeedback,
  type AuditRow,
  type FeedbackItem,
  type Store,
  type StoreOperation,
} from '../../src/store';
import { MIGRATIONS } from '../../src/store/migrations';
import { PG_MIGRATIONS } from '../../src/store/migrations-pg';
import {
  BACKENDS,
  dropSchema,
  postgresBackend,
  rawSqlite,
  sql,
  sqliteBackend,
  TEST_DATABASE_URL,
  uniqueSchema,
  type StoreBackend,
} from '../support/stores';
import { startTcpProxy } from '../support/tcp-proxy';

const SERVICE = 'ketamine-order-select';
const CARD_A = '1f6f3d8e-2f4b-4c5e-9a8b-0c1d2e3f4a5b';
const CARD_B = '2a7e4c9f-3b5c-4d6e-8f9a-1b2c3d4e5f6a';
const SUGGESTION = '7b7c2a91-6d0e-4f1a-8b3c-5d6e7f8a9b0c';
const RECEIVED = new Date('2024-05-01T10:16:00.000Z');

const acceptedA: FeedbackItem = {
  card: CARD_A,
  outcome: 'accepted',
  acceptedSuggestions: [{ id: SUGGESTION }],
  outcomeTimestamp: '2024-05-01T10:15:00Z',
};
const overriddenB: FeedbackItem = {
  card: CARD_B,
  outcome: 'overridden',
  overrideReason: {
    reason: { system: 'http://example.org/override-reasons', code: 'patient-declined', display: 'Patient declined' },
    userComment: 'Stays at current rate',
  },
  outcomeTimestamp: '2024-05-01T12:20:00+02:00',
};

const audit = (patch: Partial<AuditRow> = {}): AuditRow => ({
  at: '2024-05-01T10:14:59.500Z',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  serviceId: SERVICE,
  hook: 'order-select',
  patientId: 'pat-1',
  ruleIds: ['E1', 'S2'],
  action: 'escalate',
  currentRate: 0.2,
  recommendedRate: 0.3,
  draftRate: 0.3,
  protocolVersion: '1.0.0',
  durationMs: 42.5,
  cardCount: 1,
  outcome: 'ok',
  fhirSources: { painScores: 'prefetch', weight: 'fetched' },
  cardIds: [CARD_A],
  cards: [{ uuid: CARD_A, ruleId: 'E1', indicator: 'warning' }],
  requestId: 'req-1',
  ...patch,
});

const TOKEN_LIFETIME_MS = 300_000;

describe.each(BACKENDS)('the %s store', (_label, makeBackend) => {
  let backend: StoreBackend;
  let errors: Array<{ operation: StoreOperation; rows: number | undefined }>;
  let nowMs: number;
  beforeEach(() => {
    backend = makeBackend();
    errors = [];
    nowMs = RECEIVED.getTime();
  });
  afterEach(() => backend.cleanup());

  const open = (): Promise<Store> =>
    backend.open({
      now: () => new Date(nowMs),
      onError: (operation, _err, rows) => errors.push({ operation, rows }),
      auditFlushEveryMs: 60_000, // only flush() or a full batch writes in these tests
      auditMaxBatch: 3,
    });

  describe('CH-F3 recording feedback', () => {
    it('CH-F3 when a batch across cards is posted, it is stored with the override reason in its own columns', async () => {
      const s = await open();
      expect(await s.recordFeedback(SERVICE, [acceptedA, overriddenB])).toEqual({ stored: 2, duplicates: 0 });
      const [a, b] = await s.listFeedback();
      expect(a).toMatchObject({
        serviceId: SERVICE,
        card: CARD_A,
        outcome: 'accepted',
        acceptedSuggestionIds: [SUGGESTION],
        overrideReasonCode: null,
        receivedAt: RECEIVED.toISOString(),
      });
      expect(b).toMatchObject({
        card: CARD_B,
        outcome: 'overridden',
        outcomeTimestamp: '2024-05-01T12:20:00+02:00',
        outcomeAt: '2024-05-01T10:20:00.000Z',
        acceptedSuggestionIds: [],
        overrideReasonSystem: 'http://example.org/override-reasons',
        overrideReasonCode: 'patient-declined',
        overrideReasonDisplay: 'Patient declined',
        overrideComment: 'Stays at current rate',
      });
    });

    it('CH-F3 when a batch is repeated, nothing is stored twice and the duplicates are counted', async () => {
      const s = await open();
      await s.recordFeedback(SERVICE, [acceptedA, overriddenB]);
      expect(await s.recordFeedback(SERVICE, [acceptedA, overriddenB])).toEqual({ stored: 0, duplicates: 2 });
      // a repeat inside one batch, and the same instant written in another offset
      const sameInstant = { ...overriddenB, outcomeTimestamp: '2024-05-01T10:20:00.000Z' };
      expect(await s.recordFeedback(SERVICE, [sameInstant, sameInstant])).toEqual({ stored: 0, duplicates: 2 });
      expect(await s.listFeedback()).toHaveLength(2);
    });

    it('CH-F3 when a later outcome arrives on the same card (new timestamp or other outcome), it is a new row', async () => {
      const s = await open();
      await s.recordFeedback(SERVICE, [acceptedA]);
      const result = await s.recordFeedback(SERVICE, [
        { ...acceptedA, outcomeTimestamp: '2024-05-01T10:30:00Z' },
        { card: CARD_A, outcome: 'overridden', outcomeTimestamp: '2024-05-01T10:15:00Z' },
      ]);
      expect(result).toEqual({ stored: 2, duplicates: 0 });
      expect(await s.listFeedback({ card: CARD_A })).toHaveLength(3);
      expect(await s.listFeedback({ card: CARD_A, outcome: 'overridden' })).toHaveLength(1);
    });

    it('CH-F3 when one item of a batch cannot be stored, none of the batch is (one transaction)', async () => {
      const s = await open();
      const broken = { ...overriddenB, outcome: 'ignored' } as unknown as FeedbackItem; // not validated: the CHECK refuses it
      // (not toThrow: better-sqlite3's native addon keeps the error class of the first test file that loaded it)
      await expect(s.recordFeedback(SERVICE, [acceptedA, broken])).rejects.toHaveProperty(
        'message',
        expect.stringMatching(/check constraint/i),
      );
      expect(await s.listFeedback()).toHaveLength(0);
    });

    it('CH-F3 when feedback is listed by service, only that service’s rows come back', async () => {
      const s = await open();
      await s.recordFeedback(SERVICE, [acceptedA]);
      await s.recordFeedback('ketamine-patient-view', [overriddenB]);
      expect((await s.listFeedback({ serviceId: 'ketamine-patient-view' })).map((f) => f.card)).toEqual([CARD_B]);
    });

    it('CH-F1 CH-F3 when a request body is validated, it goes straight into the store', async () => {
      const s = await open();
      const body = JSON.parse(JSON.stringify({ feedback: [acceptedA, overriddenB] })) as unknown;
      expect(await s.recordFeedback(SERVICE, validateFeedback(body))).toEqual({ stored: 2, duplicates: 0 });
    });
  });

  describe('the audit trail', () => {
    it('when hook calls are audited, one row per call answers what was recommended, when, on what data', async () => {
      const s = await open();
      s.recordAudit(audit());
      s.recordAudit(
        audit({
          hookInstance: 'f2a6b7c8-0000-4000-8000-000000000002',
          patientId: 'pat-2',
          ruleIds: [],
          action: null,
          currentRate: null,
          recommendedRate: null,
          draftRate: null,
          outcome: 'degraded',
          degradedCause: 'deadline',
          fhirSources: undefined,
          cardIds: undefined,
          cards: undefined,
          requestId: undefined,
          cardCount: 0,
        }),
      );
      expect(await s.listAudit()).toEqual([]); // queued, not yet written: the call did not wait for the disk
      await s.flush();
      const rows = await s.listAudit();
      expect(rows).toHaveLength(2);
      const { id, ...first } = rows[0]!;
      expect(id).toEqual(expect.any(Number));
      expect(first).toEqual(audit());
      expect(rows[1]).toMatchObject({
        patientId: 'pat-2',
        action: null,
        recommendedRate: null,
        outcome: 'degraded',
        degradedCause: 'deadline',
        cardIds: [],
        cards: [],
      });
      expect(rows[1]?.fhirSources).toBeUndefined();
      expect(rows[1]?.requestId).toBeUndefined();
    });

    it('when a batch fills up, it is written without waiting for the next tick', async () => {
      const s = await open();
      for (const hookInstance of ['c1', 'c2', 'c3']) s.recordAudit(audit({ hookInstance }));
      await s.flush(); // waits for the batch already under way; nothing else was queued
      expect((await s.listAudit()).map((r) => r.hookInstance)).toEqual(['c1', 'c2', 'c3']);
    });

    it('when rows are listed by patient, hook instance, card or request id, the right rows come back', async () => {
      const s = await open();
      s.recordAudit(audit());
      s.recordAudit(audit({ hookInstance: 'second-call', cardIds: [CARD_B], requestId: 'req-2' }));
      s.recordAudit(audit({ patientId: 'pat-2', hookInstance: 'third-call', cardIds: [] }));
      await s.flush();
      expect((await s.listAudit({ patientId: 'pat-1' })).map((r) => r.hookInstance)).toEqual([
        'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
        'second-call',
      ]);
      expect((await s.listAudit({ hookInstance: 'third-call' })).map((r) => r.patientId)).toEqual(['pat-2']);
      expect((await s.listAudit({ cardId: CARD_B })).map((r) => r.hookInstance)).toEqual(['second-call']);
      expect((await s.listAudit({ requestId: 'req-2' })).map((r) => r.hookInstance)).toEqual(['second-call']);
      expect(await s.listAudit({ patientId: 'pat-1', limit: 1 })).toHaveLength(1);
    });

    it('when the schema refuses a batch, the failure is reported with its row count and never reaches the caller', async () => {
      const s = await open();
      expect(() => s.recordAudit(audit({ outcome: 'fine' as AuditRow['outcome'] }))).not.toThrow();
      await s.flush();
      expect(errors).toEqual([{ operation: 'audit', rows: 1 }]);
      expect(await s.listAudit()).toEqual([]);
    });

    it('when the store is closed (graceful shutdown), the queued audit rows are written first', async () => {
      const first = await open();
      first.recordAudit(audit());
      await first.close();
      const second = await open();
      expect(await second.listAudit()).toHaveLength(1);
    });
  });

  describe('several instances on one database', () => {
    it('CH-F3 when a second store object opens the same database, it sees the first one’s feedback and audit, and repeats stay idempotent', async () => {
      const first = await open();
      const second = await open();
      await first.recordFeedback(SERVICE, [acceptedA, overriddenB]);
      first.recordAudit(audit());
      await first.flush();
      expect((await second.listFeedback()).map((f) => f.card)).toEqual([CARD_A, CARD_B]);
      expect(await second.listAudit()).toHaveLength(1);
      expect(await second.recordFeedback(SERVICE, [acceptedA])).toEqual({ stored: 0, duplicates: 1 });
    });

    it('CH-J5 when a jti is replayed to a second instance on the same database, it is refused there', async () => {
      const first = await open();
      const second = await open();
      const until = nowMs + TOKEN_LIFETIME_MS;
      expect(await first.claimJti('https://ehr.example.org\u0000jti-1', until)).toBe('fresh');
      expect(await second.claimJti('https://ehr.example.org\u0000jti-1', until)).toBe('replayed');
      expect(await first.claimJti('https://ehr.example.org\u0000jti-1', until)).toBe('replayed');
      expect(await second.claimJti('https://other.example.org\u0000jti-1', until)).toBe('fresh');
    });

    it('CH-J5 when a recorded jti has expired, it can be claimed again', async () => {
      const s = await open();
      const key = 'https://ehr.example.org\u0000jti-2';
      expect(await s.claimJti(key, nowMs + TOKEN_LIFETIME_MS)).toBe('fresh');
      nowMs += TOKEN_LIFETIME_MS - 1;
      expect(await s.claimJti(key, nowMs + TOKEN_LIFETIME_MS)).toBe('replayed');
      nowMs += 1;
      expect(await s.claimJti(key, nowMs + TOKEN_LIFETIME_MS)).toBe('fresh');
    });

    it('when several instances start at once, every one opens and the schema is migrated once', async () => {
      const stores = await Promise.all([open(), open(), open(), open()]);
      await Promise.all(stores.map((s) => s.ping()));
      await stores[0]!.recordFeedback(SERVICE, [acceptedA]);
      expect(await stores[3]!.listFeedback()).toHaveLength(1);
    });
  });
});

describe('the SQLite file', () => {
  let backend: StoreBackend;
  beforeEach(() => {
    backend = sqliteBackend();
  });
  afterEach(() => backend.cleanup());

  it('when the file is opened twice, it is in WAL mode with the schema version recorded and not re-migrated', async () => {
    await (await backend.open()).close();
    await (await backend.open()).close();
    const db = rawSqlite(backend.location().url, { readonly: true });
    try {
      expect(db.pragma('journal_mode')).toBe('wal');
      expect(db.pragma('user_version')).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('when the file was written by a newer schema, it is refused rather than corrupted', async () => {
    await (await backend.open()).close();
    const db = rawSqlite(backend.location().url);
    db.exec('PRAGMA user_version = 99');
    db.close();
    await expect(backend.open()).rejects.toThrow(/newer/);
  });

  it('when a file of the first schema version is opened, it is migrated and its rows are kept', async () => {
    const file = backend.location().url;
    const db = rawSqlite(file);
    db.exec(MIGRATIONS[0]!);
    db.exec('PRAGMA user_version = 1');
    db.run(
      `INSERT INTO audit (at, hook_instance, service_id, hook, patient_id, rule_ids, protocol_version, duration_ms,
        card_count, outcome) VALUES ('2024-05-01T10:00:00.000Z', 'old', 's', 'patient-view', 'p', '[]', '1', 1, 0, 'ok')`,
    );
    db.close();
    const s = await backend.open();
    expect(await s.listAudit()).toMatchObject([{ hookInstance: 'old', cards: [], cardIds: [] }]);
  });
});

describe('the PostgreSQL store', () => {
  let backend: StoreBackend;
  beforeEach(() => {
    backend = postgresBackend();
  });
  afterEach(() => backend.cleanup());

  it('when instances start together, each migration is recorded exactly once in schema_migrations', async () => {
    await Promise.all([backend.open(), backend.open(), backend.open()]);
    const { schema } = backend.location();
    const rows = await sql<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
  });

  it('when the schema was written by a newer version, the store refuses to open', async () => {
    await (await backend.open()).close();
    const { schema } = backend.location();
    await sql(`INSERT INTO ${schema}.schema_migrations (version) VALUES (99)`);
    await expect(backend.open()).rejects.toThrow(/newer/);
  });

  it('when the server cannot be reached at startup, opening fails with the connection error', async () => {
    const proxy = await startTcpProxy(TEST_DATABASE_URL);
    await proxy.stop();
    await expect(
      openPostgresStore(proxy.url, { schema: uniqueSchema(), connectionTimeoutMs: 1_000 }),
    ).rejects.toThrow();
  });

  it('when the database goes down, feedback is refused (never acknowledged), audit batches are reported lost, and all recovers when it is back', async () => {
    const proxy = await startTcpProxy(TEST_DATABASE_URL);
    const schema = uniqueSchema();
    const errors: StoreOperation[] = [];
    const store = await openPostgresStore(proxy.url, {
      schema,
      connectionTimeoutMs: 1_000,
      auditFlushEveryMs: 60_000,
      onError: (operation) => errors.push(operation),
    });
    try {
      await proxy.stop();
      await expect(store.recordFeedback(SERVICE, [acceptedA])).rejects.toThrow();
      await expect(store.ping()).rejects.toThrow();
      store.recordAudit(audit());
      await store.flush();
      expect(errors).toContain('audit');

      await proxy.start();
      await store.ping();
      expect(await store.recordFeedback(SERVICE, [acceptedA])).toEqual({ stored: 1, duplicates: 0 });
      store.recordAudit(audit({ hookInstance: 'after-outage' }));
      await store.flush();
      expect((await store.listAudit()).map((r) => r.hookInstance)).toEqual(['after-outage']);
    } finally {
      await store.close();
      await proxy.stop();
      await dropSchema(schema);
    }
  });
});
