import type { GraphQLSchema } from 'graphql';
import {
  resolvePolicies,
  type RateLimitCaller,
  type RateLimitOverride,
  type RateLimitPolicy,
  type RateLimitSource,
} from './rate-limit.policies';

/** A tier's per-user limit on one operation, as staff set it. */
export interface TierLimit {
  max: number;
  windowSeconds: number;
}

/** The tier limits in force, kept in memory (the tiers module's TierLimitCache). */
export interface TierLimitTable {
  /** Whether some tier limits `operation`: synchronous, so every other operation pays nothing. */
  covers(operation: string): boolean;
  limitOf(tierId: string, operation: string): TierLimit | undefined;
}

/**
 * The limits in force once a tier limit applies: the tier's replaces the `user` limit (declared or
 * absent), and the `ip` and `account` limits stay. `user` sorts last, as in resolvePolicies.
 */
export function withTierLimit(operation: string, configured: readonly RateLimitPolicy[], tier: TierLimit): RateLimitPolicy[] {
  return [...configured.filter((p) => p.scope !== 'user'), { operation, scope: 'user', max: tier.max, windowSeconds: tier.windowSeconds }];
}

/**
 * The limits declared on the fields, then the signed-in caller's tier, then `RATE_LIMITS`: a tier
 * row sets the `user` limit of its operation unless the operator's `RATE_LIMITS` names that
 * operation's `user` scope (a count or `off`), which wins. Anonymous callers and lead sessions have
 * no tier, so their limits are the configured ones. An operation no tier limits costs one set
 * lookup; the caller's tier is asked for only when some tier limits the operation.
 */
export class TieredRateLimits implements RateLimitSource {
  /** The declared limits with `RATE_LIMITS` applied, by operation. */
  private readonly configured: Map<string, RateLimitPolicy[]>;
  /** Operations whose `user` limit RATE_LIMITS sets: tier rows do not apply to them. */
  private readonly operatorSet: ReadonlySet<string>;

  constructor(
    schema: GraphQLSchema,
    overrides: readonly RateLimitOverride[],
    private readonly tiers: TierLimitTable | undefined,
  ) {
    this.configured = resolvePolicies(schema, overrides);
    this.operatorSet = new Set(overrides.filter((o) => o.scope === 'user').map((o) => o.operation));
  }

  limitsFor(operation: string, caller: RateLimitCaller): readonly RateLimitPolicy[] | Promise<readonly RateLimitPolicy[]> {
    const configured = this.configured.get(operation) ?? [];
    if (!this.tiers?.covers(operation) || this.operatorSet.has(operation)) return configured;
    return this.forTier(operation, configured, caller, this.tiers);
  }

  private async forTier(
    operation: string,
    configured: readonly RateLimitPolicy[],
    caller: RateLimitCaller,
    tiers: TierLimitTable,
  ): Promise<readonly RateLimitPolicy[]> {
    const tier = await caller.tier();
    const limit = tier === null ? undefined : tiers.limitOf(tier, operation);
    return limit ? withTierLimit(operation, configured, limit) : configured;
  }
}
