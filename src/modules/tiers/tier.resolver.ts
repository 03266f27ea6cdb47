import type { GraphQLResolveInfo, GraphQLSchema } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Authorized } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import { Audited, type AdminAudit } from '../audit/audit';
import type { AppServices } from '../module';
import { rootFields } from '../rate-limit/rate-limit.policies';
import { Tier, TierRateLimit } from './tier.entity';
import { RateLimitInput, TierInput } from './tier.input';
import { tierLoaders } from './tier.loaders';
import type { TierService } from './tier.service';

const operationsBySchema = new WeakMap<GraphQLSchema, ReadonlySet<string>>();

/** The names a tier limit may give: the schema's root fields (worked out once per schema). */
function operationsOf(info: GraphQLResolveInfo): ReadonlySet<string> {
  let names = operationsBySchema.get(info.schema);
  if (!names) operationsBySchema.set(info.schema, (names = new Set(rootFields(info.schema).keys())));
  return names;
}

const STAFF = 'Staff only: UNAUTHENTICATED when anonymous, FORBIDDEN for other accounts and lead sessions.';

@Resolver()
export class TierResolver {
  private readonly service: TierService;

  constructor(services: AppServices) {
    this.service = services.tiers;
  }

  @Authorized('SUPERUSER')
  @Query(() => [Tier], { description: `Every tier, oldest first, with its rate limits and the accounts on it. ${STAFF}` })
  tiers(@Ctx() ctx: Context): Promise<Tier[]> {
    return this.service.list(ctx.em);
  }

  @Authorized('SUPERUSER')
  @Mutation(() => Tier, { description: `Creates a tier. ${STAFF} Errors: BAD_USER_INPUT, CONFLICT (field "name": the name is taken, in any case).` })
  createTier(
    @Arg('input', { description: 'Its name and assessment limit.' }) input: TierInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<Tier> {
    return this.service.create(ctx.em, input, audit);
  }

  @Authorized('SUPERUSER')
  @Mutation(() => Tier, {
    description: `Renames a tier or changes its assessment limit; it bites on each account's next request. ${STAFF} Errors: NOT_FOUND, BAD_USER_INPUT, CONFLICT (field "name").`,
  })
  updateTier(
    @Arg('id', () => ID, { description: 'The tier.' }) id: string,
    @Arg('input', { description: 'Its new name and assessment limit.' }) input: TierInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<Tier> {
    return this.service.update(ctx.em, id, input, audit);
  }

  @Authorized('SUPERUSER')
  @Mutation(() => Boolean, {
    description: `Deletes a tier and its rate limits. ${STAFF} Errors: NOT_FOUND, CONFLICT (the default tier, or accounts are on it, soft-deleted ones included).`,
  })
  deleteTier(@Arg('id', () => ID, { description: 'The tier.' }) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<boolean> {
    return this.service.delete(ctx.em, id, audit);
  }

  @Authorized('SUPERUSER')
  @Mutation(() => TierRateLimit, {
    description: `Sets a tier's per-user limit on an operation, replacing the one it had; it applies at once (within 5 s on other instances). RATE_LIMITS, where it names the operation's user limit, still wins. ${STAFF} Errors: NOT_FOUND (field "tierId"), BAD_USER_INPUT (field "operation": not a query or mutation of the API; "limit", "periodSeconds").`,
  })
  setRateLimit(
    @Arg('input', { description: 'The tier, the operation, and the limit.' }) input: RateLimitInput,
    @Audited() audit: AdminAudit,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: Context,
  ): Promise<TierRateLimit> {
    return this.service.setRateLimit(ctx.em, input, operationsOf(info), audit);
  }

  @Authorized('SUPERUSER')
  @Mutation(() => Boolean, {
    description: `Removes a tier's limit on an operation: the declared default applies again. ${STAFF} Errors: NOT_FOUND.`,
  })
  deleteRateLimit(@Arg('id', () => ID, { description: 'The rate limit.' }) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<boolean> {
    return this.service.deleteRateLimit(ctx.em, id, audit);
  }
}

// Staff only as well: a Tier reached through any other field shows its name and limit, not these.
@Resolver(() => Tier)
export class TierFieldsResolver {
  @Authorized('SUPERUSER')
  @FieldResolver(() => Int, { description: 'Accounts on the tier, deleted ones left out. Staff only.' })
  userCount(@Root() tier: Tier, @Ctx() ctx: Context): Promise<number> {
    return tierLoaders(ctx).userCounts.load(tier.id);
  }

  @Authorized('SUPERUSER')
  @FieldResolver(() => [TierRateLimit], { description: "The tier's per-user limits, by operation name. Staff only." })
  rateLimits(@Root() tier: Tier, @Ctx() ctx: Context): Promise<TierRateLimit[]> {
    return tierLoaders(ctx).rateLimits.load(tier.id);
  }
}

@Resolver(() => TierRateLimit)
export class RateLimitFieldsResolver {
  @Authorized('SUPERUSER')
  @FieldResolver(() => Tier, { description: 'The tier it limits. Staff only.' })
  async tier(@Root() row: TierRateLimit, @Ctx() ctx: Context): Promise<Tier> {
    const tier = await tierLoaders(ctx).tiers.load(row.tier.id);
    if (!tier) throw new Error(`rate limit ${row.id} points at a missing tier`);
    return tier;
  }
}
