import type { Store } from 'graphql-rate-limit';
import type { Logger } from '../../src/logger';
import { EdgeBlocks, EdgeGate, ipIdentity } from '../../src/modules/rate-limit/edge-block';
import type { RateLimitPolicy } from '../../src/modules/rate-limit/rate-limit.policies';
import { RateLimiter } from '../../src/modules/rate-limit/rate-limiter';

const T0 = 1_800_000_000_000;
const policy = (over: Partial<RateLimitPolicy> = {}): RateLimitPolicy => ({ operation: 'logIn', scope: 'ip', max: 3, windowSeconds: 60, ...over });
const storeWith = (timestamps: number[]) => ({ getForIdentity: async () => timestamps }) as unknown as Store;
const quietLogger = { warn: () => undefined } as unknown as Logger;

describe('EdgeBlocks', () => {
  it('blocks until the oldest counted call leaves the window, then forgets the client', async () => {
    const blocks = new EdgeBlocks();
    await blocks.refused('ip:1.2.3.4', policy(), storeWith([T0, T0 + 1000, T0 + 2000]), T0 + 3000);
    expect(blocks.blockedFor('ip:1.2.3.4', ['logIn'], T0 + 3000)).toEqual({ operation: 'logIn', retryAfter: 57 });
    expect(blocks.blockedFor('ip:1.2.3.4', ['logIn'], T0 + 59_999)).toEqual({ operation: 'logIn', retryAfter: 1 });
    expect(blocks.blockedFor('ip:1.2.3.4', ['logIn'], T0 + 60_000)).toBeNull();
    expect(blocks.size).toBe(0);
  });

  it('never blocks for more than the limit: fewer than max calls in the window block nothing', async () => {
    const blocks = new EdgeBlocks();
    // One of the three has left the window by now: the limiter would admit the next call.
    await blocks.refused('ip:1.2.3.4', policy(), storeWith([T0, T0 + 1000, T0 + 2000]), T0 + 60_500);
    expect(blocks.has('ip:1.2.3.4')).toBe(false);
  });

  it('with more calls than max (a lowered limit), waits for enough of them to leave', async () => {
    const blocks = new EdgeBlocks();
    await blocks.refused('ip:1.2.3.4', policy({ max: 2 }), storeWith([T0, T0 + 1000, T0 + 2000]), T0 + 3000);
    expect(blocks.blockedFor('ip:1.2.3.4', ['logIn'], T0 + 60_999)).not.toBeNull();
    expect(blocks.blockedFor('ip:1.2.3.4', ['logIn'], T0 + 61_000)).toBeNull();
  });

  it('keeps only ip limits, per operation, and forgets a cleared one', async () => {
    const blocks = new EdgeBlocks();
    await blocks.refused('account:user:1', policy({ scope: 'account' }), storeWith([T0, T0, T0]), T0);
    expect(blocks.size).toBe(0);
    await blocks.refused('ip:1.2.3.4', policy(), storeWith([T0, T0, T0]), T0);
    expect(blocks.blockedFor('ip:1.2.3.4', ['me', 'signUp'], T0)).toBeNull();
    expect(blocks.blockedFor('ip:5.6.7.8', ['logIn'], T0)).toBeNull();
    blocks.clear('ip:1.2.3.4', 'logIn');
    expect(blocks.blockedFor('ip:1.2.3.4', ['logIn'], T0)).toBeNull();
  });

  it('a store that fails blocks nothing (the limiter still refuses)', async () => {
    const blocks = new EdgeBlocks();
    const failing = { getForIdentity: async () => Promise.reject(new Error('down')) } as unknown as Store;
    await blocks.refused('ip:1.2.3.4', policy(), failing, T0);
    expect(blocks.size).toBe(0);
  });
});

describe('EdgeBlocks fed by the RateLimiter', () => {
  afterEach(() => jest.useRealTimers());

  it('refuses at the edge exactly while the limiter would refuse', async () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const limiter = new RateLimiter(null, quietLogger);
    const identity = ipIdentity('203.0.113.7');
    const limit = policy();
    for (let i = 0; i < limit.max; i++) {
      expect(await limiter.consume(identity, limit)).toBe(false);
      expect(limiter.edgeBlocks.has(identity)).toBe(false); // under its limit: never blocked
      jest.setSystemTime(Date.now() + 10_000);
    }
    expect(await limiter.consume(identity, limit)).toBe(true);
    const blocked = limiter.edgeBlocks.blockedFor(identity, ['logIn']);
    expect(blocked).toEqual({ operation: 'logIn', retryAfter: 30 }); // the first call, at T0, leaves at T0 + 60 s

    jest.setSystemTime(T0 + 59_999);
    expect(limiter.edgeBlocks.blockedFor(identity, ['logIn'])).not.toBeNull();
    expect(await limiter.consume(identity, limit)).toBe(true);
    jest.setSystemTime(T0 + 60_000);
    expect(limiter.edgeBlocks.blockedFor(identity, ['logIn'])).toBeNull();
    expect(await limiter.consume(identity, limit)).toBe(false);
  });

  it('a cleared count clears the block', async () => {
    const limiter = new RateLimiter(null, quietLogger);
    const identity = ipIdentity('203.0.113.8');
    const limit = policy({ max: 1 });
    await limiter.consume(identity, limit);
    expect(await limiter.consume(identity, limit)).toBe(true);
    expect(limiter.edgeBlocks.has(identity)).toBe(true);
    await limiter.clear(identity, limit);
    expect(limiter.edgeBlocks.has(identity)).toBe(false);
  });
});

describe('EdgeGate', () => {
  const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }';

  async function gateBlocking(ip: string, operation = 'logIn') {
    const blocks = new EdgeBlocks();
    await blocks.refused(ipIdentity(ip), policy({ operation, max: 1 }), storeWith([Date.now()]));
    return new EdgeGate(blocks);
  }

  it('answers a blocked client with the rate-limit error', async () => {
    const gate = await gateBlocking('10.0.0.1');
    const refusal = gate.check('10.0.0.1', { query: LOG_IN, variables: {} });
    expect(refusal).toEqual({
      retryAfter: expect.any(Number),
      body: {
        errors: [
          {
            message: 'Too many logIn attempts; try again later.',
            extensions: { code: 'RATE_LIMITED', retryAfter: refusal!.retryAfter },
          },
        ],
      },
    });
    expect(refusal!.retryAfter).toBeGreaterThanOrEqual(59);
    expect(refusal!.retryAfter).toBeLessThanOrEqual(60);
  });

  it('finds the field through aliases, fragments and the chosen operation', async () => {
    const gate = await gateBlocking('10.0.0.1');
    const blocked = (body: unknown) => gate.check('10.0.0.1', body) !== null;
    expect(blocked({ query: 'mutation { a: __typename b: logIn(input: {usernameOrEmail: "x", password: "y"}) { accessToken } }' })).toBe(true);
    expect(blocked({ query: 'mutation { ...F } fragment F on Mutation { logIn(input: {usernameOrEmail: "x", password: "y"}) { accessToken } }' })).toBe(true);
    const two = `query Me { me { id } } mutation L($input: LogInInput!) { logIn(input: $input) { accessToken } }`;
    expect(blocked({ query: two, operationName: 'L' })).toBe(true);
    expect(blocked({ query: two, operationName: 'Me' })).toBe(false);
    expect(blocked({ query: two })).toBe(false); // Apollo asks which one
    expect(blocked({ query: '{ me { id } }' })).toBe(false);
  });

  it('answers a blocked client after a short pause, and anyone else at once', async () => {
    const gate = await gateBlocking('10.0.0.1');
    expect(gate.refuse('10.0.0.2', { query: LOG_IN })).toBeNull();
    jest.useFakeTimers();
    try {
      let answered = false;
      const refusal = gate.refuse('10.0.0.1', { query: LOG_IN })!.then((r) => {
        answered = true;
        return r;
      });
      await jest.advanceTimersByTimeAsync(99);
      expect(answered).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect((await refusal)?.body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
    } finally {
      jest.useRealTimers();
    }
  });

  it('leaves to Apollo what it cannot read, and everyone not blocked', async () => {
    const gate = await gateBlocking('10.0.0.1');
    expect(gate.check('10.0.0.1', { query: 'mutation { logIn(' })).toBeNull();
    expect(gate.check('10.0.0.1', 'query=mutation{logIn}')).toBeNull();
    expect(gate.check('10.0.0.1', undefined)).toBeNull();
    expect(gate.check('10.0.0.1', { extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } })).toBeNull();
    expect(gate.check('10.0.0.2', { query: LOG_IN })).toBeNull();
  });
});
