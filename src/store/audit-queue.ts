/**
 * Audit rows are written off the request path: a hook call only appends its row to this queue; a timer
 * (or a full batch) writes the queued rows in one transaction. A crash loses at most the rows still
 * queued (one tick or one batch in normal operation); feedback never goes through this queue.
 * While the database is down, failed batches are dropped (logged and counted by the caller's onError)
 * and the queue is bounded, so an outage never grows the process's memory.
 */
import type { AuditRow } from './audit';

export interface AuditQueueOptions {
  /** Writes one batch in one transaction; a rejection/throw drops the batch (reported through onError). */
  write(rows: AuditRow[]): Promise<void> | void;
  /** Called with the error and the number of rows lost. */
  onError(err: unknown, rows: number): void;
  /** How long a row may wait before its batch is written (ms). */
  flushEveryMs?: number;
  /** A batch is written as soon as this many rows are queued. */
  maxBatch?: number;
  /** Rows beyond this are dropped (and reported) instead of queued. */
  maxQueued?: number;
}

export interface AuditQueue {
  push(row: AuditRow): void;
  /** Writes everything queued now; resolves when written (or reported lost). */
  flush(): Promise<void>;
  /** Rows waiting to be written. */
  pending(): number;
  /** Flushes, then stops the timer; later pushes are written immediately one batch at a time. */
  close(): Promise<void>;
}

const AUDIT_FLUSH_EVERY_MS = 200;
const AUDIT_MAX_BATCH = 200;
const AUDIT_MAX_QUEUED = 20_000;

export function createAuditQueue(options: AuditQueueOptions): AuditQueue {
  const flushEveryMs = options.flushEveryMs ?? AUDIT_FLUSH_EVERY_MS;
  const maxBatch = options.maxBatch ?? AUDIT_MAX_BATCH;
  const maxQueued = options.maxQueued ?? AUDIT_MAX_QUEUED;
  let queue: AuditRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  const writeBatch = async (rows: AuditRow[]): Promise<void> => {
    try {
      await options.write(rows);
    } catch (err) {
      options.onError(err, rows.length);
    }
  };

  /** Takes everything queued and writes it in batches, after any write already running (one writer). */
  const drain = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const rows = queue;
    queue = [];
    if (rows.length === 0) return writing;
    writing = writing.then(async () => {
      for (let i = 0; i < rows.length; i += maxBatch) await writeBatch(rows.slice(i, i + maxBatch));
    });
    return writing;
  };

  return {
    push(row) {
      if (queue.length >= maxQueued) {
        options.onError(new Error('audit queue full'), 1);
        return;
      }
      queue.push(row);
      if (closed || queue.length >= maxBatch) {
        void drain();
      } else if (!timer) {
        timer = setTimeout(() => void drain(), flushEveryMs);
        timer.unref();
      }
    },
    flush: () => drain(),
    pending: () => queue.length,
    async close() {
      closed = true;
      await drain();
    },
  };
}
