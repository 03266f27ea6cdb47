import { Entity, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from '../../db/base.entity';

/**
 * The tier new accounts start on (seeded as `free`), and the seeded `premium`. Fixed ids, so the
 * users table can default to the first and the seeds are the same rows on every instance.
 */
export const DEFAULT_TIER_ID = '00000000-0000-4000-8000-000000000001';
export const PREMIUM_TIER_ID = '00000000-0000-4000-8000-000000000002';

/**
 * A class of account: how many assessments it may take, and (in TierRateLimit) its rate limits.
 * `userCount` and `rateLimits` are resolved by the tiers module's resolver.
 */
@ObjectType('Tier', { simpleResolvers: true, description: 'A class of account, with its assessment limit and rate limits.' })
@Entity({ tableName: 'tiers' })
export class Tier extends BaseEntity<'updatedAt'> {
  @Field(() => ID, { description: "The tier's ID; `free` and `premium` have fixed ones." })
  declare id: string;

  @Field({ description: 'Unique, 2–32 characters.' })
  @Property({ type: 'string', length: 32, unique: 'tiers_name_unique' })
  name!: string;

  /** Assessments an account of this tier may start over its lifetime (a profile may override it). */
  @Field(() => Int, { description: 'Assessments an account of this tier may start over its lifetime, unless staff set an override on the account.' })
  // Nullable only for the seeded tiers between their migration and the first start (seedTierLimits).
  @Property({ type: 'integer', nullable: true })
  assessmentLimit!: number;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

/**
 * The per-user limit on one operation (a root field's name) for signed-in users of a tier. `tier`
 * is resolved by the tiers module's resolver.
 */
@ObjectType('RateLimit', { simpleResolvers: true, description: "A tier's per-user limit on one operation." })
@Entity({ tableName: 'tier_rate_limits' })
@Unique({ name: 'tier_rate_limits_tier_operation_unique', properties: ['tier', 'operation'] })
export class TierRateLimit extends BaseEntity<'updatedAt'> {
  @ManyToOne(() => Tier, { ref: true, deleteRule: 'cascade' })
  tier!: Ref<Tier>;

  @Field(() => ID, { description: "The rate limit's ID." })
  declare id: string;

  @Field({ description: 'The operation: a root field of the API, by name.' })
  @Property({ type: 'string', length: 64 })
  operation!: string;

  @Field(() => Int, { description: 'At most this many calls per periodSeconds, for each signed-in user of the tier.' })
  @Property({ type: 'integer' })
  limit!: number;

  @Field(() => Int, { description: 'The window, in seconds.' })
  @Property({ type: 'integer' })
  periodSeconds!: number;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

/**
 * One row (id 1) whose version every change to tiers or their rate limits bumps, in the change's
 * transaction. Each instance keeps the rate limits in memory and polls this to know when to reload
 * them; taking its row lock first also puts concurrent tier changes in a line.
 */
@Entity({ tableName: 'tier_limits_version' })
export class TierLimitsVersion {
  @PrimaryKey({ type: 'smallint', autoincrement: false })
  id!: number;

  @Property({ type: 'integer', default: 0 })
  version!: number;
}
