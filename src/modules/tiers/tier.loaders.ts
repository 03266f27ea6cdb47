import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../../graphql/context';
import { Tier, TierRateLimit } from './tier.entity';

/** The per-request loaders behind Tier and RateLimit's nested fields: one statement per field, however many tiers. */
function loadersFor(em: EntityManager) {
  return {
    /** Accounts on each tier, deleted ones left out. */
    userCounts: new DataLoader<string, number>(async (ids) => {
      const rows = await em.execute<Array<{ tier_id: string; n: string | number }>>(
        `select tier_id, count(*) as n from users where deleted_at is null and tier_id in (?) group by tier_id`,
        [ids],
      );
      const counts = new Map(rows.map((r) => [r.tier_id, Number(r.n)]));
      return ids.map((id) => counts.get(id) ?? 0);
    }),
    rateLimits: new DataLoader<string, TierRateLimit[]>(async (ids) => {
      const rows = await em.find(TierRateLimit, { tier: { $in: [...ids] } }, { orderBy: { operation: 'asc' } });
      const byTier = new Map<string, TierRateLimit[]>(ids.map((id) => [id, []]));
      for (const row of rows) byTier.get(row.tier.id)?.push(row);
      return ids.map((id) => byTier.get(id)!);
    }),
    tiers: new DataLoader<string, Tier | undefined>(async (ids) => {
      const rows = await em.find(Tier, { id: { $in: [...ids] } });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id));
    }),
  };
}

export const tierLoaders = (ctx: Pick<Context, 'em' | 'loader'>) => ctx.loader('tiers', () => loadersFor(ctx.em));
