/**
 * Replay protection for JWT `jti` values (CH-J5): a jti is remembered until the token it came from
 * can no longer be accepted (its `exp` plus the clock skew), so a replay inside that window is refused.
 * createMemoryReplayCache: one process. createStoreReplayCache: the store's jti table (SQLite or
 * PostgreSQL), so behind several instances on one database a token replayed to another instance is refused.
 */

export type ClaimResult = 'fresh' | 'replayed' | 'full';

export interface ReplayCache {
  /**
   * Record `key` as used until `untilMs` (epoch ms). 'fresh' the first time; 'replayed' if it is
   * already recorded and not yet expired; 'full' if the cache cannot hold it (fail closed). `requestId`:
   * the call's, for what is reported about this claim.
   */
  claim(key: string, untilMs: number, requestId?: string): ClaimResult | Promise<ClaimResult>;
}

export interface MemoryReplayCache extends ReplayCache {
  claim(key: string, untilMs: number): ClaimResult;
  /** Number of live entries (for tests and ops). */
  size(): number;
}

/** Bound on remembered jtis; only validly signed tokens from trusted issuers ever reach the cache. */
const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;

/** Expired entries are dropped every this many inserts (and whenever the cache is full). */
const SWEEP_EVERY_INSERTS = 1024;

export function createMemoryReplayCache(options: { now?: () => number; maxEntries?: number } = {}): MemoryReplayCache {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES;
  const entries = new Map<string, number>();
  let insertsSinceSweep = 0;

  const sweep = (at: number) => {
    insertsSinceSweep = 0;
    for (const [key, until] of entries) if (until <= at) entries.delete(key);
  };

  return {
    claim(key, untilMs) {
      const at = now();
      const until = entries.get(key);
      if (until !== undefined) {
        if (until > at) return 'replayed';
        entries.delete(key);
      }
      if (entries.size >= maxEntries || insertsSinceSweep >= SWEEP_EVERY_INSERTS) sweep(at);
      if (entries.size >= maxEntries) return 'full';
      entries.set(key, untilMs);
      insertsSinceSweep += 1;
      return 'fresh';
    },
    size() {
      sweep(now());
      return entries.size;
    },
  };
}

/** The part of the store (src/store) the shared cache uses. */
export interface JtiStore {
  claimJti(key: string, untilMs: number): Promise<ClaimResult>;
}

/** Longest wait for the store's verdict on a jti before this instance's memory decides (REPLAY_STORE_TIMEOUT_MS). */
const DEFAULT_REPLAY_STORE_TIMEOUT_MS = 400;
/** After a store failure or timeout, claims skip the store for this long (a hanging database is not waited on per call). */
const STORE_PAUSE_AFTER_FAILURE_MS = 5_000;

/** The store did not answer a jti claim within the timeout (reported through onError). */
export class ReplayStoreTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`the store did not answer the jti claim within ${timeoutMs} ms`);
    this.name = 'ReplayStoreTimeout';
  }
}

/**
 * The store's jti table as the replay cache. When the database cannot be reached, or does not answer
 * within `timeoutMs` (a hanging outage: connections accepted, nothing answered), the claim falls back to
 * this instance's memory (reported through onError) and the store is left alone for a few seconds (one
 * claim then tries it again). Hook calls keep working during an outage and stay within their deadline, a
 * replay to the same instance is still refused, and a replay to another instance is possible only while
 * the database is down and within the token's lifetime. Every claim the store answered 'fresh' is also
 * remembered here, so a token used before the outage is refused by this instance during it.
 */
export function createStoreReplayCache(
  store: JtiStore,
  options: {
    now?: () => number;
    /** A claim the store failed or did not answer in time; `requestId` is the call's, for the log line. */
    onError?: (err: unknown, requestId?: string) => void;
    timeoutMs?: number;
  } = {},
): ReplayCache {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPLAY_STORE_TIMEOUT_MS;
  const fallback = createMemoryReplayCache({ now });
  let storePausedUntil = 0;
  return {
    async claim(key, untilMs, requestId) {
      if (now() < storePausedUntil) return fallback.claim(key, untilMs);
      try {
        const result = await withTimeout(store.claimJti(key, untilMs), timeoutMs);
        if (result === 'fresh') fallback.claim(key, untilMs);
        return result;
      } catch (err) {
        storePausedUntil = now() + STORE_PAUSE_AFTER_FAILURE_MS;
        options.onError?.(err, requestId);
        return fallback.claim(key, untilMs);
      }
    },
  };
}

/** `work`, or a ReplayStoreTimeout after `ms` (the work goes on; its late outcome is ignored). */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined); // a late failure is no longer anyone's answer
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ReplayStoreTimeout(ms)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
