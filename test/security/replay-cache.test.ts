import { createMemoryReplayCache } from '../../src/security/jwt';
import { createStoreReplayCache, ReplayStoreTimeout } from '../../src/security/replay-cache';

describe('the jti replay cache', () => {
  it('CH-J5 a jti is fresh once, then replayed until its expiry, then forgotten', () => {
    let now = 1_000;
    const cache = createMemoryReplayCache({ now: () => now });
    expect(cache.claim('iss\u0000a', 2_000)).toBe('fresh');
    expect(cache.claim('iss\u0000a', 2_000)).toBe('replayed');
    now = 1_999;
    expect(cache.claim('iss\u0000a', 2_000)).toBe('replayed');
    now = 2_000;
    expect(cache.size()).toBe(0);
    expect(cache.claim('iss\u0000a', 3_000)).toBe('fresh');
  });

  it('CH-J5 when full of live entries it fails closed; expired entries make room', () => {
    let now = 0;
    const cache = createMemoryReplayCache({ now: () => now, maxEntries: 2 });
    expect(cache.claim('a', 10)).toBe('fresh');
    expect(cache.claim('b', 20)).toBe('fresh');
    expect(cache.claim('c', 20)).toBe('full');
    now = 10;
    expect(cache.claim('c', 20)).toBe('fresh');
    expect(cache.size()).toBe(2);
  });
});

describe('the replay cache kept in the store', () => {
  it('CH-J5 when the store answers, its verdict is the cache’s verdict', async () => {
    const seen = new Set<string>();
    const cache = createStoreReplayCache({
      claimJti: async (key) => (seen.has(key) ? 'replayed' : (seen.add(key), 'fresh')),
    });
    expect(await cache.claim('iss\u0000a', 2_000)).toBe('fresh');
    expect(await cache.claim('iss\u0000a', 2_000)).toBe('replayed');
  });

  it('CH-J5 when the store is down, the instance’s own memory still refuses a replay to it, and the error is reported', async () => {
    let down = false;
    const errors: unknown[] = [];
    const cache = createStoreReplayCache(
      {
        claimJti: async () => {
          if (down) throw new Error('database down');
          return 'fresh';
        },
      },
      { now: () => 1_000, onError: (err) => errors.push(err) },
    );
    expect(await cache.claim('iss\u0000a', 2_000)).toBe('fresh');
    down = true;
    expect(await cache.claim('iss\u0000a', 2_000)).toBe('replayed');
    expect(await cache.claim('iss\u0000b', 2_000)).toBe('fresh');
    expect(await cache.claim('iss\u0000b', 2_000)).toBe('replayed');
    expect(errors).toHaveLength(1); // then the store is left alone for a while (next test)
  });

  it('CH-J5 when the store hangs, the claim waits no longer than the timeout, the memory decides and the timeout is reported', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const cache = createStoreReplayCache(
      { claimJti: () => (calls++, new Promise(() => undefined)) }, // accepted, never answered
      { timeoutMs: 50, onError: (err, requestId) => errors.push([err, requestId]) },
    );
    const started = performance.now();
    expect(await cache.claim('iss\u0000a', Date.now() + 60_000, 'trace-9')).toBe('fresh');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await cache.claim('iss\u0000a', Date.now() + 60_000)).toBe('replayed');
    expect(errors).toEqual([[expect.any(ReplayStoreTimeout), 'trace-9']]); // the call's id, for its log line
    expect(calls).toBe(1);
  });

  it('CH-J5 after a store failure the store is left alone for 5 s, then tried again', async () => {
    let now = 1_000;
    let down = true;
    let calls = 0;
    const cache = createStoreReplayCache(
      {
        claimJti: async () => {
          calls += 1;
          if (down) throw new Error('database down');
          return 'fresh';
        },
      },
      { now: () => now },
    );
    expect(await cache.claim('a', 100_000)).toBe('fresh');
    now += 4_999;
    expect(await cache.claim('b', 100_000)).toBe('fresh');
    expect(calls).toBe(1);
    down = false;
    now += 1;
    expect(await cache.claim('c', 100_000)).toBe('fresh');
    expect(calls).toBe(2);
  });
});
