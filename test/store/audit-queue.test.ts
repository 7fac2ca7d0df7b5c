import { createAuditQueue } from '../../src/store/audit-queue';
import type { AuditRow } from '../../src/store';

const row = (hookInstance: string) => ({ hookInstance }) as AuditRow;

describe('the audit queue (audit rows off the request path)', () => {
  afterEach(() => jest.useRealTimers());

  it('when rows are pushed, nothing is written until the tick, then all of them in one batch', async () => {
    jest.useFakeTimers();
    const batches: string[][] = [];
    const queue = createAuditQueue({
      write: (rows) => void batches.push(rows.map((r) => r.hookInstance)),
      onError: () => undefined,
      flushEveryMs: 100,
      maxBatch: 10,
    });
    queue.push(row('a'));
    queue.push(row('b'));
    expect(batches).toEqual([]);
    expect(queue.pending()).toBe(2);
    await jest.advanceTimersByTimeAsync(100);
    expect(batches).toEqual([['a', 'b']]);
    expect(queue.pending()).toBe(0);
  });

  it('when more rows than a batch are flushed, they are written in batches of at most N, in order', async () => {
    const batches: string[][] = [];
    const queue = createAuditQueue({
      write: async (rows) => void batches.push(rows.map((r) => r.hookInstance)),
      onError: () => undefined,
      flushEveryMs: 60_000,
      maxBatch: 2,
    });
    for (const id of ['a', 'b', 'c', 'd', 'e']) queue.push(row(id));
    await queue.close();
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('when a batch fails, it is reported with its row count and later batches are still written', async () => {
    const lost: number[] = [];
    let fail = true;
    const written: string[] = [];
    const queue = createAuditQueue({
      write: (rows) => {
        if (fail) throw new Error('database down');
        written.push(...rows.map((r) => r.hookInstance));
      },
      onError: (_err, rows) => lost.push(rows),
      flushEveryMs: 60_000,
    });
    queue.push(row('a'));
    queue.push(row('b'));
    await queue.flush();
    fail = false;
    queue.push(row('c'));
    await queue.flush();
    expect(lost).toEqual([2]);
    expect(written).toEqual(['c']);
  });

  it('when the queue is full (a long outage), further rows are dropped and reported, never buffered without bound', async () => {
    const lost: number[] = [];
    const queue = createAuditQueue({
      write: () => undefined,
      onError: (_err, rows) => lost.push(rows),
      flushEveryMs: 60_000,
      maxBatch: 100,
      maxQueued: 2,
    });
    for (const id of ['a', 'b', 'c']) queue.push(row(id));
    expect(queue.pending()).toBe(2);
    expect(lost).toEqual([1]);
    await queue.close();
  });
});
