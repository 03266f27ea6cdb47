import { DEFAULT_TIER_ID, PREMIUM_TIER_ID } from '../../src/modules/tiers/tier.entity';
import { captureLead } from '../assessments/support';
import { codes, ok } from '../support/graphql';
import { bearer, createSuperuser, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';
import {
  CREATE_TIER,
  createTier,
  DELETE_RATE_LIMIT,
  DELETE_TIER,
  moveToTier,
  SET_RATE_LIMIT,
  setRateLimit,
  tierState,
  TIER_TEST_ENV,
  tierName,
  TIERS,
  UPDATE_TIER,
} from './support';

// Every tier operation, with its nested fields, for anonymous callers, a lead session, a user,
// another user (on a tier with limits of its own) and a superuser: only staff get an answer, and a
// refused call changes nothing.

let t: TestApp;
let admin: { token: string };
let user: { token: string };
let other: { token: string };
let lead: { token: string };
let tierId: string;
let limitId: string;

beforeAll(async () => {
  t = await startTestApp({ env: TIER_TEST_ENV });
  admin = bearer(await createSuperuser(t));
  user = bearer(await createVerifiedUser(t));
  tierId = await createTier(t, admin, { name: tierName('matrix') });
  limitId = await setRateLimit(t, admin, tierId, 'dashboard', 10, 60);
  // Another account, on the tier above: its own tier's limits are not open to it either.
  const second = await createVerifiedUser(t);
  await moveToTier(t, second.id, tierId);
  other = bearer(second);
  lead = { token: (await captureLead(t)).token };
});
afterAll(() => t?.stop());

const refused = [
  ['anonymous', () => ({}), 'UNAUTHENTICATED'],
  ['a lead session', () => lead, 'FORBIDDEN'],
  ['a user', () => user, 'FORBIDDEN'],
  ['another user', () => other, 'FORBIDDEN'],
] as const;

const operations: Array<[string, string, () => Record<string, unknown>]> = [
  ['tiers (with userCount, rateLimits and their tier)', TIERS, () => ({})],
  ['createTier', CREATE_TIER, () => ({ input: { name: tierName('sneaky'), assessmentLimit: 1000 } })],
  ['updateTier', UPDATE_TIER, () => ({ id: tierId, input: { name: tierName('renamed'), assessmentLimit: 1000 } })],
  ['updateTier of the default tier', UPDATE_TIER, () => ({ id: DEFAULT_TIER_ID, input: { name: 'free', assessmentLimit: 1000 } })],
  ['deleteTier', DELETE_TIER, () => ({ id: PREMIUM_TIER_ID })],
  ['setRateLimit (with its nested tier)', SET_RATE_LIMIT, () => ({ input: { tierId, operation: 'dashboard', limit: 10000, periodSeconds: 1 } })],
  ['deleteRateLimit', DELETE_RATE_LIMIT, () => ({ id: limitId })],
];

describe.each(operations)('%s', (_operation, document, variables) => {
  it.each(refused)('%s: %s and nothing changes', async (_who, as, code) => {
    const before = await tierState(t);
    const res = await t.gql(document, variables(), as());
    expect(codes(res)).toEqual([code]);
    expect(res.data ?? null).toBeNull();
    expect(await tierState(t)).toBe(before);
  });
});

describe('a superuser', () => {
  it('reads every tier with its nested fields', async () => {
    const { tiers } = ok(await t.gql(TIERS, {}, admin));
    expect(tiers.map((x: any) => x.id)).toEqual(expect.arrayContaining([DEFAULT_TIER_ID, PREMIUM_TIER_ID, tierId]));
    expect(tiers.find((x: any) => x.id === tierId)).toMatchObject({
      userCount: 1,
      rateLimits: [{ id: limitId, operation: 'dashboard', limit: 10, periodSeconds: 60, tier: { id: tierId } }],
    });
  });

  it('loses access on the next request once demoted', async () => {
    const staff = await createSuperuser(t, 'demoted');
    ok(await t.gql(TIERS, {}, bearer(staff)));
    await t.sql(`update users set is_superuser = false where id = ?`, [staff.id]);
    expect(codes(await t.gql(TIERS, {}, bearer(staff)))).toEqual(['FORBIDDEN']);
    expect(codes(await t.gql(`{ tiers { id userCount } }`, {}, bearer(staff)))).toEqual(['FORBIDDEN']);
  });
});
