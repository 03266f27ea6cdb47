import { randomBytes } from 'node:crypto';
import { ok } from '../support/graphql';
import { CHEAP_HASHING, type TestApp } from '../support/test-app';

/** Cheap argon2: the tiers and limits are under test, not the hashing. */
export const TIER_TEST_ENV = CHEAP_HASHING;

export const TIERS = `{ tiers { id name assessmentLimit userCount rateLimits { id operation limit periodSeconds tier { id name } } } }`;
export const CREATE_TIER = `mutation ($input: TierInput!) { createTier(input: $input) { id name assessmentLimit userCount rateLimits { id } } }`;
export const UPDATE_TIER = `mutation ($id: ID!, $input: TierInput!) { updateTier(id: $id, input: $input) { id name assessmentLimit userCount } }`;
export const DELETE_TIER = `mutation ($id: ID!) { deleteTier(id: $id) }`;
export const SET_RATE_LIMIT = `mutation ($input: RateLimitInput!) { setRateLimit(input: $input) { id operation limit periodSeconds tier { id name userCount } } }`;
export const DELETE_RATE_LIMIT = `mutation ($id: ID!) { deleteRateLimit(id: $id) }`;

/** A well-formed id nothing has. */
export const UNKNOWN_ID = '7a0f3c1e-2b4d-4e5f-8a9b-0c1d2e3f4a5b';

/** A tier name no other test uses. */
export const tierName = (prefix = 'tier') => `${prefix}-${randomBytes(3).toString('hex')}`;

/** Creates a tier through the API as `admin`; returns its id. */
export async function createTier(t: TestApp, admin: { token: string }, input: { name?: string; assessmentLimit?: number } = {}): Promise<string> {
  const res = ok(await t.gql(CREATE_TIER, { input: { name: tierName(), assessmentLimit: 5, ...input } }, admin));
  return res.createTier.id as string;
}

/** Sets a tier limit through the API as `admin`; returns the row's id. */
export async function setRateLimit(
  t: TestApp,
  admin: { token: string },
  tierId: string,
  operation: string,
  limit: number,
  periodSeconds = 3600,
): Promise<string> {
  const res = ok(await t.gql(SET_RATE_LIMIT, { input: { tierId, operation, limit, periodSeconds } }, admin));
  return res.setRateLimit.id as string;
}

/** Puts an account on a tier, as an administrator's change would (the next request reads it). */
export const moveToTier = (t: TestApp, userId: string, tierId: string) => t.sql(`update users set tier_id = ? where id = ?`, [tierId, userId]);

/** An account row on `tierId` (live, or soft-deleted and still held), for counts: no session, no mail. */
export async function insertAccount(t: TestApp, tierId: string, { deleted = false } = {}): Promise<string> {
  const handle = `x${randomBytes(6).toString('hex')}`;
  const [row] = await t.sql<{ id: string }>(
    `insert into users (id, created_at, email, username, name, updated_at, tier_id, status, deleted_at)
     values (gen_random_uuid(), now(), ?, ?, 'Counted Account', now(), ?, ?, ?) returning id`,
    [`${handle}@example.com`, handle, tierId, deleted ? 'deleted' : 'active', deleted ? new Date() : null],
  );
  return row!.id;
}

/** Everything a tier operation could change, to compare before and after a refused call. */
export const tierState = async (t: TestApp) =>
  JSON.stringify(
    await Promise.all([
      t.sql(`select id, name, assessment_limit, updated_at from tiers order by id`),
      t.sql(`select id, tier_id, operation, "limit", period_seconds, updated_at from tier_rate_limits order by id`),
      t.sql(`select version from tier_limits_version`),
      t.sql(`select count(*)::int as n from audit_events where action like 'admin.%'`),
    ]),
  );
