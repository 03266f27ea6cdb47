import { defineModule } from '../module';
import { Migration20261129170000 } from './Migration20261129170000';
import { Tier, TierRateLimit } from './tier.entity';
import { seedTierLimits } from './tier.seeder';

export const tiersModule = defineModule({
  name: 'tiers',
  entities: [Tier, TierRateLimit],
  migrations: [{ name: 'Migration20261129170000', class: Migration20261129170000 }],
  onStart: async (_services, { orm, config }) => seedTierLimits(orm.em.fork(), config.assessments.limits),
});
