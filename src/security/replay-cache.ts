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
   * already recorded and not yet expired; 'full' if the cache cannot hold it (fail closed).
   */
  claim(key: string, untilMs: number): ClaimResult | Promise<ClaimResult>;
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

/**
 * The store's jti table as the replay cache. When the database cannot be reached the claim falls back to
 * this instance's memory (reported through onError): hook calls keep working during an outage, a replay
 * to the same instance is still refused, and a replay to another instance is possible only while the
 * database is down and within the token's lifetime.
 */
export function createStoreReplayCache(
  store: JtiStore,
  options: { now?: () => number; onError?: (err: unknown) => void } = {},
): ReplayCache {
  const fallback = createMemoryReplayCache(options.now ? { now: options.now } : {});
  return {
    async claim(key, untilMs) {
      try {
        const result = await store.claimJti(key, untilMs);
        if (result === 'fresh') fallback.claim(key, untilMs);
        return result;
      } catch (err) {
        options.onError?.(err);
        return fallback.claim(key, untilMs);
      }
    },
  };
}
