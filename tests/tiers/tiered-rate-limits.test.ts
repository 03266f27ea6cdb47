import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { parseRateLimits, type OperationPolicy } from '../../src/modules/rate-limit/rate-limit.policies';
import { TieredRateLimits, type TierLimit, type TierLimitTable } from '../../src/modules/rate-limit/tiered-rate-limits';

// The precedence of limits, without I/O: RATE_LIMITS over a tier row over the declared default.

const field = (policy?: OperationPolicy) => ({ type: GraphQLString, extensions: policy ? { policy } : {} });
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      declared: field({ rateLimits: [{ scope: 'ip', max: 10, per: 60 }, { scope: 'user', max: 5, per: 60 }] }),
      bare: field(),
      ipOnly: field({ rateLimits: [{ scope: 'ip', max: 10, per: 60 }] }),
    },
  }),
});

/** A table with `rows` (tier → operation → limit) that records which operations were asked about. */
function table(rows: Record<string, Record<string, TierLimit>>): TierLimitTable & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    covers: (operation) => Object.values(rows).some((limits) => operation in limits),
    limitOf: (tier, operation) => {
      asked.push(`${tier}.${operation}`);
      return rows[tier]?.[operation];
    },
  };
}

const GOLD = { declared: { max: 50, windowSeconds: 3600 }, bare: { max: 2, windowSeconds: 10 }, ipOnly: { max: 3, windowSeconds: 30 } };

function callerOn(tier: string | null) {
  const caller = { asked: 0, tier: async () => (caller.asked++, tier) };
  return caller;
}

describe('TieredRateLimits', () => {
  it('gives a tier row in place of the declared user limit, keeping the ip limit', async () => {
    const limits = new TieredRateLimits(schema, [], table({ gold: GOLD }));
    expect(await limits.limitsFor('declared', callerOn('gold'))).toEqual([
      { operation: 'declared', scope: 'ip', max: 10, windowSeconds: 60 },
      { operation: 'declared', scope: 'user', max: 50, windowSeconds: 3600 },
    ]);
    expect(await limits.limitsFor('ipOnly', callerOn('gold'))).toEqual([
      { operation: 'ipOnly', scope: 'ip', max: 10, windowSeconds: 60 },
      { operation: 'ipOnly', scope: 'user', max: 3, windowSeconds: 30 },
    ]);
  });

  it('adds a user limit to an operation that declares none', async () => {
    const limits = new TieredRateLimits(schema, [], table({ gold: GOLD }));
    expect(await limits.limitsFor('bare', callerOn('gold'))).toEqual([{ operation: 'bare', scope: 'user', max: 2, windowSeconds: 10 }]);
  });

  it('keeps the declared limits for callers of another tier, anonymous callers and lead sessions (no tier)', async () => {
    const limits = new TieredRateLimits(schema, [], table({ gold: GOLD }));
    const declared = [
      { operation: 'declared', scope: 'ip', max: 10, windowSeconds: 60 },
      { operation: 'declared', scope: 'user', max: 5, windowSeconds: 60 },
    ];
    expect(await limits.limitsFor('declared', callerOn('free'))).toEqual(declared);
    expect(await limits.limitsFor('declared', callerOn(null))).toEqual(declared);
    expect(await limits.limitsFor('bare', callerOn(null))).toEqual([]);
  });

  it('lets RATE_LIMITS win over a tier row for the user scope, a count or off', async () => {
    const overrides = parseRateLimits('declared.user=7/120,bare.user=off');
    const limits = new TieredRateLimits(schema, overrides, table({ gold: GOLD }));
    expect(await limits.limitsFor('declared', callerOn('gold'))).toEqual([
      { operation: 'declared', scope: 'ip', max: 10, windowSeconds: 60 },
      { operation: 'declared', scope: 'user', max: 7, windowSeconds: 120 },
    ]);
    expect(await limits.limitsFor('bare', callerOn('gold'))).toEqual([]);
  });

  it('lets a tier row win over RATE_LIMITS of another scope', async () => {
    const limits = new TieredRateLimits(schema, parseRateLimits('ipOnly.ip=99/60'), table({ gold: GOLD }));
    expect(await limits.limitsFor('ipOnly', callerOn('gold'))).toEqual([
      { operation: 'ipOnly', scope: 'ip', max: 99, windowSeconds: 60 },
      { operation: 'ipOnly', scope: 'user', max: 3, windowSeconds: 30 },
    ]);
  });

  it('answers at once, without asking for the tier, for an operation no tier limits', () => {
    const rows = table({ gold: { bare: { max: 2, windowSeconds: 10 } } });
    const limits = new TieredRateLimits(schema, [], rows);
    const caller = callerOn('gold');
    const answer = limits.limitsFor('declared', caller);
    expect(answer).not.toBeInstanceOf(Promise);
    expect(limits.limitsFor('me', caller)).toEqual([]);
    expect(caller.asked).toBe(0);
    expect(rows.asked).toEqual([]);
  });

  it('works as the configured limits alone without a table (the tiers module not loaded)', () => {
    const limits = new TieredRateLimits(schema, [], undefined);
    expect(limits.limitsFor('declared', callerOn('gold'))).toHaveLength(2);
  });
});
