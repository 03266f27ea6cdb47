import { MemoryStore } from '../../src/modules/rate-limit/memory-store';
import { RateLimiter } from '../../src/modules/rate-limit/rate-limiter';
import { createLogger } from '../../src/logger';

const policy = { operation: 'logIn', scope: 'ip' as const, max: 5, windowSeconds: 60 };

describe('the in-memory rate-limit counters', () => {
  it('keep at most `max` timestamps for a key however hard it is hammered, and still refuse', async () => {
    const limiter = new RateLimiter(null, createLogger('silent'));
    const results = [];
    for (let i = 0; i < 500; i++) results.push(await limiter.consume('ip:1.2.3.4', policy));
    expect(results.filter((limited) => !limited)).toHaveLength(5);
    expect(results.slice(5).every(Boolean)).toBe(true);
    expect(limiter.memoryStore.getForIdentity({ contextIdentity: 'ip:1.2.3.4', fieldIdentity: 'logIn' })).toHaveLength(5);
  });

  it('forget identities once their window has passed', () => {
    const store = new MemoryStore();
    const now = Date.now();
    for (let i = 0; i < 999; i++) store.setForIdentity({ contextIdentity: `ip:${i}`, fieldIdentity: 'logIn' }, [now - 2000], 1000);
    expect(store.getForIdentity({ contextIdentity: 'ip:1', fieldIdentity: 'logIn' })).toEqual([]);
    store.setForIdentity({ contextIdentity: 'ip:live', fieldIdentity: 'logIn' }, [now], 60_000); // the 1000th write sweeps
    expect(store.size).toBe(1);
  });

  it('count concurrent calls on one key exactly', async () => {
    const limiter = new RateLimiter(null, createLogger('silent'));
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.consume('account:x', policy)));
    expect(results.filter((limited) => !limited)).toHaveLength(5);
  });
});
