/**
 * Replay protection for JWT `jti` values (CH-J5): a jti is remembered until the token it came from
 * can no longer be accepted (its `exp` plus the clock skew), so a replay inside that window is refused.
 * In memory: one process. Behind several instances, pass a shared implementation of ReplayCache.
 */

export type ClaimResult = 'fresh' | 'replayed' | 'full';

export interface ReplayCache {
  /**
   * Record `key` as used until `untilMs` (epoch ms). 'fresh' the first time; 'replayed' if it is
   * already recorded and not yet expired; 'full' if the cache cannot hold it (fail closed).
   */
  claim(key: string, untilMs: number): ClaimResult;
  /** Number of live entries (for tests and ops). */
  size(): number;
}

/** Bound on remembered jtis; only validly signed tokens from trusted issuers ever reach the cache. */
export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;

/** Expired entries are dropped every this many inserts (and whenever the cache is full). */
const SWEEP_EVERY_INSERTS = 1024;

export function createMemoryReplayCache(options: { now?: () => number; maxEntries?: number } = {}): ReplayCache {
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
