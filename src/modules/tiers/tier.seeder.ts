import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../config';
import { DEFAULT_TIER_ID, PREMIUM_TIER_ID } from './tier.entity';

/**
 * Seeds `free` (the default) and `premium` from configuration when no tier exists, and gives a
 * tier whose limit was never set (made by the migration) its configured one. A limit staff have
 * set is never touched: from then on the database is the source. Safe on several instances at
 * once (each statement is conditional). Plain statements, no unit of work: see template.seeder on
 * why start-up avoids the ORM's transactions.
 */
export async function seedTierLimits(em: EntityManager, limits: Config['assessments']['limits']): Promise<void> {
  const conn = em.getConnection();
  await conn.execute(
    `insert into tiers (id, created_at, name, assessment_limit, updated_at)
     select v.id::uuid, now(), v.name, v.assessment_limit::int, now()
       from (values (?, 'free', ?), (?, 'premium', ?)) v(id, name, assessment_limit)
      where not exists (select 1 from tiers)
     on conflict do nothing`,
    [DEFAULT_TIER_ID, limits.free, PREMIUM_TIER_ID, limits.premium],
  );
  await conn.execute(`update tiers set assessment_limit = ? where id = ? and assessment_limit is null`, [limits.free, DEFAULT_TIER_ID]);
  await conn.execute(`update tiers set assessment_limit = ? where id = ? and assessment_limit is null`, [limits.premium, PREMIUM_TIER_ID]);
  await conn.execute(
    `update tiers set assessment_limit = (select assessment_limit from tiers where id = ?) where assessment_limit is null`,
    [DEFAULT_TIER_ID],
  );
}
