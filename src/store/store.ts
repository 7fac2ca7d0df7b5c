/**
 * The store: durable feedback (CH-F3), the audit trail and the JWT `jti` replay cache. One interface,
 * two implementations: SQLite (src/store/sqlite.ts, the embedded default: one file, one instance or
 * several processes on one host) and PostgreSQL (src/store/postgres.ts, DATABASE_URL: several instances
 * behind a load balancer). Feedback is written and committed before the call returns (the EHR gets its
 * 200 only then); audit rows are queued and written in batches off the request path (audit-queue.ts).
 */
import { createHash } from 'node:crypto';
import type { AuditFilter, AuditRow, StoredAuditRow } from './audit';
import type { FeedbackItem, FeedbackOutcome } from './feedback';
import type { ClaimResult } from '../security/replay-cache';
import type { ReportQuery, ReportRows } from '../report/types';

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

interface FeedbackFilter {
  serviceId?: string;
  card?: string;
  outcome?: FeedbackOutcome;
  limit?: number;
}

type StoreKind = 'sqlite' | 'postgres';
/** What failed, for the store-errors metric and the log. */
export type StoreOperation = 'feedback' | 'audit' | 'jti' | 'ping' | 'list' | 'report';

export interface Store {
  readonly kind: StoreKind;
  /**
   * Stores the items in one transaction, idempotent on (card, outcome, outcomeTimestamp as an instant):
   * a repeat is counted as a duplicate, the first wins. Resolves only once committed; rejects when the
   * database cannot be reached (the caller answers 503 so the EHR retries).
   */
  recordFeedback(serviceId: string, items: FeedbackItem[]): Promise<{ stored: number; duplicates: number }>;
  /** Queues the row; it is written with the next batch (never waits for the disk, never throws). */
  recordAudit(row: AuditRow): void;
  /** Writes every queued audit row now. */
  flush(): Promise<void>;
  /**
   * Records a JWT's (issuer, jti) as used until `untilMs` (epoch ms): 'fresh' the first time, 'replayed'
   * while an unexpired record exists (whichever instance recorded it). Expired records are swept.
   */
  claimJti(key: string, untilMs: number): Promise<ClaimResult>;
  listFeedback(filter?: FeedbackFilter): Promise<StoredFeedback[]>;
  listAudit(filter?: AuditFilter): Promise<StoredAuditRow[]>;
  /**
   * The rows of the effectiveness report for a period (aggregates only: src/report/queries.ts), read from
   * the report tables the store keeps with every audit and feedback write.
   */
  reportRows(query: ReportQuery): Promise<ReportRows>;
  /** Resolves when the database answers (readiness). */
  ping(): Promise<void>;
  /** Flushes the audit queue, then releases the connection(s). */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Clock for receivedAt and jti expiry (tests pin it). */
  now?: () => Date;
  /** A store failure that nobody awaits (an audit batch, a jti sweep): log and count it here. */
  onError?: (operation: StoreOperation, err: unknown, rows?: number) => void;
  /** Audit batching (ms per tick, rows per batch). */
  auditFlushEveryMs?: number;
  auditMaxBatch?: number;
}

/** The RFC 3339 timestamp as a UTC instant, so "…+02:00" and the same moment in "Z" are one key. */
export function instant(timestamp: string): string {
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? timestamp : new Date(ms).toISOString();
}

/** The replay-cache key as stored: a fixed-length hash (the raw `iss\0jti` may hold any character). */
export function jtiDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Expired jti records are deleted every this many claims. */
export const JTI_SWEEP_EVERY_CLAIMS = 256;

export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);
