import { createMemoryReplayCache } from '../../src/security/jwt';
import { createStoreReplayCache } from '../../src/security/replay-cache';

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
    expect(errors).toHaveLength(2);
  });
});
