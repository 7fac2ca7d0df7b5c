import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, validateFeedback, type AuditRow, type FeedbackItem, type Store } from '../../src/store';
import { MIGRATIONS } from '../../src/store/migrations';

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
  ...patch,
});

let dir: string;
let store: Store | undefined;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ketamine-store-'));
});

afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const open = (file = ':memory:') => (store = openStore(file, { now: () => RECEIVED }));

describe('CH-F3 recording feedback', () => {
  it('CH-F3 a batch across cards is stored with the override reason in its own columns', () => {
    const s = open();
    expect(s.recordFeedback(SERVICE, [acceptedA, overriddenB])).toEqual({ stored: 2, duplicates: 0 });
    const [a, b] = s.listFeedback();
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

  it('CH-F3 a repeated batch is idempotent: nothing stored twice, duplicates counted', () => {
    const s = open();
    s.recordFeedback(SERVICE, [acceptedA, overriddenB]);
    expect(s.recordFeedback(SERVICE, [acceptedA, overriddenB])).toEqual({ stored: 0, duplicates: 2 });
    // a repeat inside one batch, and the same instant written in another offset
    const sameInstant = { ...overriddenB, outcomeTimestamp: '2024-05-01T10:20:00.000Z' };
    expect(s.recordFeedback(SERVICE, [sameInstant, sameInstant])).toEqual({ stored: 0, duplicates: 2 });
    expect(s.listFeedback()).toHaveLength(2);
  });

  it('CH-F3 a later outcome on the same card (a new timestamp or another outcome) is a new row', () => {
    const s = open();
    s.recordFeedback(SERVICE, [acceptedA]);
    const result = s.recordFeedback(SERVICE, [
      { ...acceptedA, outcomeTimestamp: '2024-05-01T10:30:00Z' },
      { card: CARD_A, outcome: 'overridden', outcomeTimestamp: '2024-05-01T10:15:00Z' },
    ]);
    expect(result).toEqual({ stored: 2, duplicates: 0 });
    expect(s.listFeedback({ card: CARD_A })).toHaveLength(3);
    expect(s.listFeedback({ card: CARD_A, outcome: 'overridden' })).toHaveLength(1);
  });

  it('CH-F3 one batch is one transaction: if an item cannot be stored, none of the batch is', () => {
    const s = open();
    const broken = { ...overriddenB, outcome: 'ignored' } as unknown as FeedbackItem; // not validated: the CHECK refuses it
    expect(() => s.recordFeedback(SERVICE, [acceptedA, broken])).toThrow();
    expect(s.listFeedback()).toHaveLength(0);
  });

  it('CH-F3 feedback is filtered by service', () => {
    const s = open();
    s.recordFeedback(SERVICE, [acceptedA]);
    s.recordFeedback('ketamine-patient-view', [overriddenB]);
    expect(s.listFeedback({ serviceId: 'ketamine-patient-view' }).map((f) => f.card)).toEqual([CARD_B]);
  });

  it('CH-F1 CH-F3 a validated request body goes straight into the store', () => {
    const s = open();
    const body = JSON.parse(JSON.stringify({ feedback: [acceptedA, overriddenB] })) as unknown;
    expect(s.recordFeedback(SERVICE, validateFeedback(body))).toEqual({ stored: 2, duplicates: 0 });
  });
});

describe('the audit trail', () => {
  it('one row per hook call answers what was recommended, when, on what data', () => {
    const s = open();
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
        fhirSources: undefined,
        cardIds: undefined,
        cardCount: 0,
      }),
    );
    const rows = s.listAudit();
    expect(rows).toHaveLength(2);
    const { id, ...first } = rows[0]!;
    expect(id).toEqual(expect.any(Number));
    expect(first).toEqual(audit());
    expect(rows[1]).toMatchObject({
      patientId: 'pat-2',
      action: null,
      recommendedRate: null,
      outcome: 'degraded',
      cardIds: [],
    });
    expect(rows[1]?.fhirSources).toBeUndefined();
  });

  it('rows are listed by patient, by hook instance, and by the card feedback names', () => {
    const s = open();
    s.recordAudit(audit());
    s.recordAudit(audit({ hookInstance: 'second-call', cardIds: [CARD_B] }));
    s.recordAudit(audit({ patientId: 'pat-2', hookInstance: 'third-call', cardIds: [] }));
    expect(s.listAudit({ patientId: 'pat-1' }).map((r) => r.hookInstance)).toEqual([
      'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
      'second-call',
    ]);
    expect(s.listAudit({ hookInstance: 'third-call' }).map((r) => r.patientId)).toEqual(['pat-2']);
    expect(s.listAudit({ cardId: CARD_B }).map((r) => r.hookInstance)).toEqual(['second-call']);
    expect(s.listAudit({ patientId: 'pat-1', limit: 1 })).toHaveLength(1);
  });

  it('an outcome outside ok | degraded | error is refused by the schema', () => {
    const s = open();
    expect(() => s.recordAudit(audit({ outcome: 'fine' as AuditRow['outcome'] }))).toThrow(/CHECK/);
  });
});

describe('durability', () => {
  it('CH-F3 feedback and audit survive closing and reopening the file, and repeats stay idempotent', () => {
    const file = path.join(dir, 'cds.sqlite');
    const first = openStore(file);
    first.recordFeedback(SERVICE, [acceptedA, overriddenB]);
    first.recordAudit(audit());
    first.close();

    const second = open(file);
    expect(second.listFeedback().map((f) => f.card)).toEqual([CARD_A, CARD_B]);
    expect(second.listAudit()).toHaveLength(1);
    expect(second.recordFeedback(SERVICE, [acceptedA])).toEqual({ stored: 0, duplicates: 1 });
  });

  it('the file is in WAL mode with the schema version recorded, and reopening does not re-migrate', () => {
    const file = path.join(dir, 'cds.sqlite');
    openStore(file).close();
    openStore(file).close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('a file written by a newer schema is refused rather than corrupted', () => {
    const file = path.join(dir, 'cds.sqlite');
    openStore(file).close();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openStore(file)).toThrow(/newer/);
  });
});
