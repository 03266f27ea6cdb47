import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphQLResolveInfo } from 'graphql';
import { getGraphQLRateLimiter, RedisStore, type Store } from 'graphql-rate-limit';
import type { Redis } from 'ioredis';
import { randomToken } from '../../common/crypto';
import { busy } from '../../common/errors';
import type { Logger } from '../../logger';
import { EdgeBlocks } from './edge-block';
import { MemoryStore } from './memory-store';
import type { RateLimitPolicy } from './rate-limit.policies';

type Limiter = ReturnType<typeof getGraphQLRateLimiter>;

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const LOCK_TTL_MS = 2000;
const LOCK_WAIT_MS = 1000;

/**
 * Counts calls with graphql-rate-limit. Its limiter reads a key's timestamps, then writes them back,
 * so each key's check runs alone: in process through a promise chain, across instances through a
 * short Redis lock. When Redis fails, counting falls back to this process's memory, not to no limit.
 */
export class RateLimiter {
  readonly memoryStore = new MemoryStore();
  /** Clients over an ip limit, for the HTTP edge to refuse before any GraphQL work. */
  readonly edgeBlocks = new EdgeBlocks();
  private readonly memory: Limiter;
  private readonly sharedStore: RedisStore | null;
  private readonly shared: Limiter | null;
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: Redis | null,
    private readonly logger: Logger,
  ) {
    const options = { identifyContext: (ctx: { identity: string }) => ctx.identity, formatError: () => 'limited' };
    this.memory = getGraphQLRateLimiter({ ...options, store: this.memoryStore });
    this.sharedStore = redis ? new RedisStore(redis) : null;
    this.shared = this.sharedStore ? getGraphQLRateLimiter({ ...options, store: this.sharedStore }) : null;
  }

  /** Counts one call; true when it goes over the policy's limit. */
  consume(identity: string, policy: RateLimitPolicy): Promise<boolean> {
    const key = `${identity}|${policy.operation}`;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.count(key, identity, policy));
    this.chains.set(key, current);
    void current.finally(() => {
      if (this.chains.get(key) === current) this.chains.delete(key);
    }).catch(() => undefined);
    return current;
  }

  /** Forgets the calls counted for `identity` under `policy` (a log-in that succeeds clears its account's failures). */
  async clear(identity: string, policy: RateLimitPolicy): Promise<void> {
    this.memoryStore.setForIdentity({ contextIdentity: identity, fieldIdentity: policy.operation }, []);
    this.edgeBlocks.clear(identity, policy.operation);
    // graphql-rate-limit's RedisStore key for this identity and field.
    await this.redis?.del(`redis-store-id::${identity}:${policy.operation}`).catch(() => undefined);
  }

  private async count(key: string, identity: string, policy: RateLimitPolicy): Promise<boolean> {
    const call = (limiter: Limiter, store: Store) =>
      limiter(
        { parent: undefined, args: {}, context: { identity }, info: { fieldName: policy.operation } as GraphQLResolveInfo },
        // Refused calls are not recorded: a key then holds at most `max` timestamps however hard it
        // is hammered, and the window still admits exactly `max` calls.
        { max: policy.max, window: `${policy.windowSeconds}s`, uncountRejected: true },
      ).then(async (message) => {
        if (message === undefined) return false;
        await this.edgeBlocks.refused(identity, policy, store);
        return true;
      });

    if (!this.shared || !this.sharedStore || !this.redis) return call(this.memory, this.memoryStore);
    let lock: string | null;
    try {
      lock = await this.acquire(key);
    } catch (err) {
      this.logger.warn({ err }, 'rate limit: Redis unavailable, counting in memory');
      return call(this.memory, this.memoryStore);
    }
    if (!lock) throw busy();
    try {
      return await call(this.shared, this.sharedStore);
    } catch (err) {
      this.logger.warn({ err }, 'rate limit: Redis unavailable, counting in memory');
      return call(this.memory, this.memoryStore);
    } finally {
      await this.redis.eval(RELEASE_LOCK, 1, `lock:${key}`, lock).catch(() => undefined);
    }
  }

  private async acquire(key: string): Promise<string | null> {
    const token = randomToken(12);
    const deadline = Date.now() + LOCK_WAIT_MS;
    while (Date.now() < deadline) {
      if ((await this.redis!.set(`lock:${key}`, token, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') return token;
      await sleep(5 + Math.random() * 10);
    }
    return null;
  }
}
