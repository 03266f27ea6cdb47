import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { codes, type GraphQLResponse } from '../support/graphql';
import { CHEAP_HASHING, LOG_IN, sharedPerFile, startTestApp, type TestApp } from '../support/test-app';

const shared = sharedPerFile();

/** Runs `fn` against apps started with the given envs (cheap argon2), stopped afterwards. */
async function withApps<T>(envs: Array<Record<string, string>>, fn: (...apps: TestApp[]) => Promise<T>): Promise<T> {
  const apps: TestApp[] = [];
  try {
    for (const env of envs) apps.push(await startTestApp({ ...shared, env: { ...CHEAP_HASHING, ...env } }));
    return await fn(...apps);
  } finally {
    for (const t of apps) await t.stop();
  }
}

const wrongLogIn = () => ({ input: { usernameOrEmail: `nobody_${randomBytes(4).toString('hex')}`, password: 'not-the-password-1' } });
const newPrefix = () => `posture-test:${randomBytes(6).toString('hex')}:`;

function expectLimited(res: GraphQLResponse) {
  expect(codes(res)).toEqual(['RATE_LIMITED']);
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
}

// These need a Redis server (REDIS_URL) and, to run two instances on one database, a PostgreSQL
// server (DATABASE_URL): the embedded PGlite serves a single connection.
const redisUrl = process.env.REDIS_URL;
const canRun = Boolean(redisUrl) && !process.env.POSTURE_TEST_EMBEDDED_URL;
if (!canRun) {
  console.info('tests/rate-limit/redis.test.ts: shared-counter tests skipped (they need REDIS_URL and DATABASE_URL)');
}

(canRun ? describe : describe.skip)('instances sharing Redis', () => {
  it('count one limit together when they use the same key prefix', async () => {
    const env = { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: newPrefix(), RATE_LIMITS: 'logIn.ip=5/60' };
    await withApps([env, env], async (a, b) => {
      for (const t of [a!, a!, a!, b!, b!]) expect(codes(await t.gql(LOG_IN, wrongLogIn()))).toEqual(['INVALID_CREDENTIALS']);
      // Alone, B has seen two calls; together, this is the sixth.
      expectLimited(await b!.gql(LOG_IN, wrongLogIn()));
      expectLimited(await a!.gql(LOG_IN, wrongLogIn()));
    });
  });

  it('count concurrent calls exactly, without losing updates', async () => {
    const env = { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: newPrefix(), RATE_LIMITS: 'logIn.ip=5/60' };
    await withApps([env, env], async (a, b) => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a! : b!).gql(LOG_IN, wrongLogIn())));
      const all = results.flatMap(codes);
      expect(all).not.toContain('INTERNAL_SERVER_ERROR');
      expect(all.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(5);
      expect(all.filter((c) => c === 'RATE_LIMITED')).toHaveLength(5);
    });
  });

  it('keep their counters apart under different key prefixes', async () => {
    const env = () => ({ REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: newPrefix(), RATE_LIMITS: 'logIn.ip=2/60' });
    await withApps([env(), env()], async (a, b) => {
      for (let i = 0; i < 2; i++) expect(codes(await a!.gql(LOG_IN, wrongLogIn()))).toEqual(['INVALID_CREDENTIALS']);
      expectLimited(await a!.gql(LOG_IN, wrongLogIn()));
      expect(codes(await b!.gql(LOG_IN, wrongLogIn()))).toEqual(['INVALID_CREDENTIALS']);
    });
  });

  it('answer RATE_LIMITED, not an internal error, when a counter stays locked by another instance', async () => {
    const prefix = newPrefix();
    await withApps([{ REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: prefix, RATE_LIMITS: 'logIn.ip=5/60' }], async (t) => {
      const redis = new Redis(redisUrl!, { keyPrefix: prefix });
      try {
        // Another instance holding the lock of this counter (e.g. one that stalled mid-check).
        await redis.set('lock:ip:127.0.0.1|logIn', 'someone-else', 'PX', 5000);
        const res = await t!.gql(LOG_IN, wrongLogIn());
        expect(codes(res)).toEqual(['RATE_LIMITED']);
        expect(res.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
    });
  });
});

// Needs no Redis server: nothing listens on port 1.
describe('with Redis unreachable', () => {
  it('still applies limits, counting in memory, and fails no request', async () => {
    await withApps([{ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMITS: 'logIn.ip=3/60' }], async (t) => {
      const results: GraphQLResponse[] = [];
      for (let i = 0; i < 5; i++) results.push(await t!.gql(LOG_IN, wrongLogIn()));
      expect(results.map((r) => codes(r)[0])).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED', 'RATE_LIMITED']);
      expectLimited(results[3]!);

      const concurrent = await Promise.all(Array.from({ length: 5 }, () => t!.gql(LOG_IN, wrongLogIn())));
      expect(concurrent.flatMap(codes)).toEqual(Array(5).fill('RATE_LIMITED'));

      expect(await t!.gql(`{ me { id } }`)).toMatchObject({ status: 200, data: { me: null } });
    });
  });
});
