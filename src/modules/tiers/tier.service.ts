import { ForeignKeyConstraintViolationException, LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { conflict, notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { changesBetween, type AdminAudit } from '../audit/audit';
import type { TierLimitCache } from './tier-limits.cache';
import { DEFAULT_TIER_ID, Tier, TierRateLimit } from './tier.entity';
import type { RateLimitInput, TierInput } from './tier.input';
import { assertAssessmentLimit, assertRateLimit, assertTierName } from './tier.rules';

const tierFields = (tier: Tier) => ({ name: tier.name, assessmentLimit: tier.assessmentLimit });
const limitFields = (row: TierRateLimit) => ({ tierId: row.tier.id, operation: row.operation, limit: row.limit, periodSeconds: row.periodSeconds });

/**
 * Staff's tiers and their per-user rate limits. Every change bumps the version row first, in its
 * transaction: that puts concurrent changes in a line (so the name check and the upsert cannot
 * race) and tells the other instances to reload. This instance reloads once the change commits.
 */
export class TierService {
  constructor(private readonly cache: TierLimitCache) {}

  /** Every tier, oldest first. */
  list(em: EntityManager): Promise<Tier[]> {
    return em.find(Tier, {}, { orderBy: { createdAt: 'asc', name: 'asc' } });
  }

  create(em: EntityManager, input: TierInput, audit: AdminAudit): Promise<Tier> {
    const fields = { name: assertTierName(input.name), assessmentLimit: assertAssessmentLimit(input.assessmentLimit) };
    return this.change(em, async (tx) => {
      await this.assertNameFree(tx, fields.name, null);
      const tier = tx.create(Tier, fields);
      audit.record(tx, { targetType: 'tier', targetId: tier.id, changes: changesBetween({}, fields) });
      return tier;
    });
  }

  update(em: EntityManager, id: string, input: TierInput, audit: AdminAudit): Promise<Tier> {
    const fields = { name: assertTierName(input.name), assessmentLimit: assertAssessmentLimit(input.assessmentLimit) };
    return this.change(em, async (tx) => {
      const tier = await this.lockTier(tx, id, 'id');
      await this.assertNameFree(tx, fields.name, tier.id);
      const before = tierFields(tier);
      tx.assign(tier, fields);
      audit.record(tx, { targetType: 'tier', targetId: tier.id, changes: changesBetween(before, fields) });
      return tier;
    });
  }

  /** CONFLICT for the default tier, and while any account (a soft-deleted one too) is on the tier. */
  async delete(em: EntityManager, id: string, audit: AdminAudit): Promise<true> {
    if (id === DEFAULT_TIER_ID) throw conflict('The default tier, where new accounts start, cannot be deleted.', { field: 'id' });
    try {
      await this.change(em, async (tx) => {
        // Locked, so an account cannot be moved onto it until this commits (its foreign key waits).
        const tier = await this.lockTier(tx, id, 'id');
        const [row] = await tx.execute<Array<{ n: string | number }>>(`select count(*) as n from users where tier_id = ?`, [tier.id]);
        const accounts = Number(row?.n ?? 0);
        if (accounts > 0) throw conflict('Accounts are on this tier: move them to another tier first.', { field: 'id', accounts });
        audit.record(tx, { targetType: 'tier', targetId: tier.id, changes: changesBetween(tierFields(tier), {}) });
        // Its rate limits go with it (on delete cascade).
        tx.remove(tier);
      });
    } catch (err) {
      if (err instanceof ForeignKeyConstraintViolationException) throw conflict('Accounts are on this tier: move them to another tier first.', { field: 'id' });
      throw err;
    }
    return true;
  }

  /** Sets the tier's limit on an operation, replacing the one it had. `operations`: the API's root fields. */
  setRateLimit(em: EntityManager, input: RateLimitInput, operations: ReadonlySet<string>, audit: AdminAudit): Promise<TierRateLimit> {
    const fields = assertRateLimit(input, operations);
    return this.change(em, async (tx) => {
      const tier = await this.lockTier(tx, input.tierId, 'tierId');
      let row = await tx.findOne(TierRateLimit, { tier: tier.id, operation: fields.operation });
      const before = row ? limitFields(row) : {};
      if (row) tx.assign(row, { limit: fields.limit, periodSeconds: fields.periodSeconds });
      else row = tx.create(TierRateLimit, { tier: tier.id, ...fields });
      audit.record(tx, { targetType: 'rate_limit', targetId: row.id, changes: changesBetween(before, limitFields(row)) });
      return row;
    });
  }

  async deleteRateLimit(em: EntityManager, id: string, audit: AdminAudit): Promise<true> {
    if (!isUuid(id)) throw notFound('Rate limit', 'id');
    await this.change(em, async (tx) => {
      const row = await tx.findOne(TierRateLimit, id);
      if (!row) throw notFound('Rate limit', 'id');
      audit.record(tx, { targetType: 'rate_limit', targetId: row.id, changes: changesBetween(limitFields(row), {}) });
      tx.remove(row);
    });
    return true;
  }

  /** Runs a change after the version bump, in one transaction; reloads this instance's limits once it commits. */
  private async change<T>(em: EntityManager, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await em.transactional(async (tx) => {
        await tx.execute(
          `insert into tier_limits_version (id, version) values (1, 1)
           on conflict (id) do update set version = tier_limits_version.version + 1`,
        );
        return fn(tx);
      });
    } catch (err) {
      // The name check runs in the line of changes; this is its backstop.
      const constraint = err instanceof UniqueConstraintViolationException ? (err as { constraint?: string }).constraint : undefined;
      if (constraint === 'tiers_name_unique') throw conflict('A tier with this name exists.', { field: 'name' });
      throw err;
    }
    // Committed whatever happens here: should the reload fail, the poller sees the new version and retries.
    await this.cache.refresh().catch(() => undefined);
    return result;
  }

  private async lockTier(tx: EntityManager, id: string, field: string): Promise<Tier> {
    const tier = isUuid(id) ? await tx.findOne(Tier, id, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
    if (!tier) throw notFound('Tier', field);
    return tier;
  }

  /** Names are unique whatever their case: "Gold" and "gold" would be one tier to a reader. */
  private async assertNameFree(tx: EntityManager, name: string, exceptId: string | null): Promise<void> {
    const [taken] = await tx.execute<Array<{ id: string }>>(
      `select id from tiers where lower(name) = lower(?) and (?::uuid is null or id <> ?::uuid) limit 1`,
      [name, exceptId, exceptId],
    );
    if (taken) throw conflict('A tier with this name exists.', { field: 'name' });
  }
}
