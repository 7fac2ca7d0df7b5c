import { createMemoryReplayCache } from '../../src/security/jwt';

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
