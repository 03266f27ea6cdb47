import { defineModule } from '../module';
import { Migration20261129170000 } from './Migration20261129170000';
import { Migration20261129170300 } from './Migration20261129170300';
import { TierLimitCache } from './tier-limits.cache';
import { Tier, TierLimitsVersion, TierRateLimit } from './tier.entity';
import { RateLimitFieldsResolver, TierFieldsResolver, TierResolver } from './tier.resolver';
import { seedTierLimits } from './tier.seeder';
import { TierService } from './tier.service';

declare module '../module' {
  interface AppServices {
    tiers: TierService;
    /** The tier rate limits in memory, for the rate-limit gate (see TieredRateLimits). */
    tierLimits: TierLimitCache;
  }
}

export const tiersModule = defineModule({
  name: 'tiers',
  entities: [Tier, TierRateLimit, TierLimitsVersion],
  migrations: [
    { name: 'Migration20261129170000', class: Migration20261129170000 },
    { name: 'Migration20261129170300', class: Migration20261129170300 },
  ],
  resolvers: [TierResolver, TierFieldsResolver, RateLimitFieldsResolver],
  services: ({ sql, logger }) => {
    const tierLimits = new TierLimitCache(sql, logger);
    return { tierLimits, tiers: new TierService(tierLimits) };
  },
  onStart: async (services, { orm, config }) => {
    await seedTierLimits(orm.em.fork(), config.assessments.limits);
    // In force from the first request; the poller (a worker) starts once the server listens.
    await services.tierLimits.refresh();
  },
  workers: (services) => [services.tierLimits],
});
