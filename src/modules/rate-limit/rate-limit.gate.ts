import { DomainError, ErrorCode } from '../../common/errors';
import type { Context } from '../../graphql/context';
import { User } from '../users/user.entity';
import { EXISTING_USER, normalizeEmail, parseLoginName } from '../users/user.rules';
import { ipIdentity } from './edge-block';
import { tooManyAttempts, type OperationPolicy, type RateLimitPolicy, type RateLimitScope, type RateLimitSource } from './rate-limit.policies';
import type { RateLimiter } from './rate-limiter';

/** One occurrence of a root field in a request, with its coerced arguments. */
export interface FieldCall {
  operation: string;
  args: Record<string, unknown>;
  policy: OperationPolicy | undefined;
}

/** A limit was exceeded (or its shared counter stayed busy): the request is refused whole. */
export class RateLimitExceeded {
  constructor(
    readonly message: string,
    readonly retryAfter: number,
  ) {}
}

function argumentAt(args: Record<string, unknown>, path: string | undefined): string | undefined {
  if (!path) return undefined;
  const value = path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), args);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * The account a name designates: its user id when it exists, so an email and a username count
 * together; otherwise the normalized name, so unknown accounts are limited the same way.
 */
async function accountKey(ctx: Context, name: string): Promise<string> {
  const login = parseLoginName(name);
  const user = await ctx.em.findOne(User, { ...login, ...EXISTING_USER }, { fields: ['id'] });
  return user ? `user:${user.id}` : `name:${'email' in login ? login.email : login.username}`;
}

async function identityFor(scope: RateLimitScope, ctx: Context, call: FieldCall): Promise<string | undefined> {
  switch (scope) {
    case 'ip':
      return ipIdentity(ctx.meta.ip);
    case 'user': {
      const viewer = await ctx.auth.viewerOrNull();
      return viewer ? `user:${viewer.user.id}` : undefined;
    }
    case 'account': {
      const name = argumentAt(call.args, call.policy?.account);
      if (!name) return undefined;
      if (call.policy?.accountKey === 'address') return `account:address:${normalizeEmail(name)}`;
      if (call.policy?.accountOf) {
        const userId = await call.policy.accountOf(name, ctx);
        return userId ? `account:user:${userId}` : undefined;
      }
      return `account:${await accountKey(ctx, name)}`;
    }
  }
}

/** A counted identity a successful call may clear. */
export interface Clearable {
  identity: string;
  policy: RateLimitPolicy;
}

const NOTHING_TO_CLEAR: readonly Clearable[] = Object.freeze([]);

/**
 * Counts one call against every limit in force for it. Returns what a success would clear, or a
 * RateLimitExceeded for the first limit it goes over. A call with no limit in force (most reads)
 * is answered at once, without a promise.
 */
export function consumeRateLimits(
  call: FieldCall,
  ctx: Context,
  deps: { limiter: RateLimiter; limits: RateLimitSource },
): readonly Clearable[] | Promise<readonly Clearable[] | RateLimitExceeded> {
  const caller = { tier: async () => (await ctx.auth.viewerOrNull())?.user.tierId ?? null };
  const policies = deps.limits.limitsFor(call.operation, caller);
  if (Array.isArray(policies) && policies.length === 0) return NOTHING_TO_CLEAR;
  return consumeEach(call, ctx, deps.limiter, policies);
}

async function consumeEach(
  call: FieldCall,
  ctx: Context,
  limiter: RateLimiter,
  inForce: readonly RateLimitPolicy[] | Promise<readonly RateLimitPolicy[]>,
): Promise<Clearable[] | RateLimitExceeded> {
  const clearable: Clearable[] = [];
  for (const policy of await inForce) {
    const identity = await identityFor(policy.scope, ctx, call);
    if (!identity) continue;
    let limited: boolean;
    try {
      limited = await limiter.consume(identity, policy);
    } catch (err) {
      // The shared counter stayed locked: busy, not an internal error.
      if (err instanceof DomainError && err.code === ErrorCode.RATE_LIMITED) return new RateLimitExceeded(err.message, 1);
      throw err;
    }
    if (limited) return new RateLimitExceeded(tooManyAttempts(call.operation), policy.windowSeconds);
    if (call.policy?.clearOnSuccess?.includes(policy.scope)) clearable.push({ identity, policy });
  }
  return clearable;
}
