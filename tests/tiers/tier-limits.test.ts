import { generateSigningKey } from '../../src/modules/auth/signing-keys';
import { DEFAULT_TIER_ID } from '../../src/modules/tiers/tier.entity';
import { captureLead } from '../assessments/support';
import { eventually } from '../support/eventually';
import { codes, type GraphQLResponse, ok } from '../support/graphql';
import { statementsDuring } from '../support/statements';
import { bearer, createSuperuser, createVerifiedUser, RELAXED_IP_LIMITS, startTestApp, withEnv, type TestApp } from '../support/test-app';
import { createTier, DELETE_RATE_LIMIT, moveToTier, setRateLimit, TIER_TEST_ENV, UPDATE_TIER } from './support';

// A tier row sets the per-user limit of its operation for the tier's signed-in users, at once on
// the instance that made it and within 5 s on the others, over the declared default and under
// RATE_LIMITS. The rows are kept in memory: a request pays no query for them.

const ME = `{ me { id } }`;
const ME_LIMIT = `{ me { id profile { assessmentLimit } } }`;
const MY_ASSESSMENTS = `{ myAssessments(first: 1) { totalCount } }`;
const DASHBOARD = `{ dashboard { assessmentsRemaining } }`;
const CHANGE_PASSWORD = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken } }`;
const wrongPassword = { input: { currentPassword: 'not the current password', newPassword: 'an entirely new passphrase' } };

function expectLimited(res: GraphQLResponse) {
  expect(codes(res)).toEqual(['RATE_LIMITED']);
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
}

/** Makes `n` calls of `query` as `who`, each expected to pass (no error, or only `allowed`). */
async function passes(t: TestApp, query: string, who: { token?: string }, n: number, variables: Record<string, unknown> = {}, allowed: string[] = []) {
  for (let i = 0; i < n; i++) {
    const res = await t.gql(query, variables, who);
    expect(codes(res).filter((c) => !allowed.includes(c))).toEqual([]);
  }
}

let t: TestApp;
let admin: { token: string };
let signingKeys: string;

beforeAll(async () => {
  signingKeys = JSON.stringify([await generateSigningKey()]);
  t = await startTestApp({ env: { ...TIER_TEST_ENV, JWT_SIGNING_KEYS: signingKeys } });
  admin = bearer(await createSuperuser(t));
});
afterAll(() => t?.stop());

/** A verified, signed-in account on `tierId`. */
async function userOn(tierId: string) {
  const user = await createVerifiedUser(t);
  await moveToTier(t, user.id, tierId);
  return { ...user, auth: bearer(user) };
}

describe('a tier rate limit', () => {
  it('takes effect at once, without a restart, on an operation with no declared limit; changed and removed the same way', async () => {
    const tierId = await createTier(t, admin);
    const member = await userOn(tierId);
    const outsider = bearer(await createVerifiedUser(t));
    const limitId = await setRateLimit(t, admin, tierId, 'me', 3);

    await passes(t, ME, member.auth, 3);
    expectLimited(await t.gql(ME, {}, member.auth));
    // Accounts of other tiers, and anonymous callers, are not limited by it.
    await passes(t, ME, outsider, 5);
    await passes(t, ME, {}, 5);

    // Raised: the calls counted under the old limit still count toward the new one.
    await setRateLimit(t, admin, tierId, 'me', 5);
    await passes(t, ME, member.auth, 2);
    expectLimited(await t.gql(ME, {}, member.auth));
    // Lowered below what is counted: refused at once.
    await setRateLimit(t, admin, tierId, 'me', 2);
    expectLimited(await t.gql(ME, {}, member.auth));
    // Removed: no limit again.
    ok(await t.gql(DELETE_RATE_LIMIT, { id: limitId }, admin));
    await passes(t, ME, member.auth, 6);
  });

  it('wins over the default declared on the field, up or down', async () => {
    // changePassword declares 5 a minute per user.
    const tierId = await createTier(t, admin);
    const member = await userOn(tierId);
    const declared = bearer(await createVerifiedUser(t));
    await setRateLimit(t, admin, tierId, 'changePassword', 7, 3600);

    await passes(t, CHANGE_PASSWORD, member.auth, 7, wrongPassword, ['INVALID_CREDENTIALS']);
    expectLimited(await t.gql(CHANGE_PASSWORD, wrongPassword, member.auth));
    await passes(t, CHANGE_PASSWORD, declared, 5, wrongPassword, ['INVALID_CREDENTIALS']);
    expectLimited(await t.gql(CHANGE_PASSWORD, wrongPassword, declared));

    const stricter = await createTier(t, admin);
    const strict = await userOn(stricter);
    await setRateLimit(t, admin, stricter, 'changePassword', 2, 3600);
    await passes(t, CHANGE_PASSWORD, strict.auth, 2, wrongPassword, ['INVALID_CREDENTIALS']);
    expectLimited(await t.gql(CHANGE_PASSWORD, wrongPassword, strict.auth));
  });

  it('loses to RATE_LIMITS, a count or off', async () => {
    const tierId = await createTier(t, admin);
    await setRateLimit(t, admin, tierId, 'me', 1);
    await setRateLimit(t, admin, tierId, 'dashboard', 1);
    await setRateLimit(t, admin, tierId, 'myAssessments', 2);
    await withEnv(t, { RATE_LIMITS: `${RELAXED_IP_LIMITS},me.user=4/3600,dashboard.user=off` }, async () => {
      const member = await userOn(tierId);
      await passes(t, ME, member.auth, 4);
      expectLimited(await t.gql(ME, {}, member.auth));
      await passes(t, DASHBOARD, member.auth, 4);
      // An operation RATE_LIMITS does not name keeps the tier row.
      await passes(t, MY_ASSESSMENTS, member.auth, 2);
      expectLimited(await t.gql(MY_ASSESSMENTS, {}, member.auth));
    });
  });

  it('leaves lead sessions and anonymous callers to their IP limits, even on the default tier', async () => {
    const limitId = await setRateLimit(t, admin, DEFAULT_TIER_ID, 'myAssessments', 1);
    try {
      const lead = await captureLead(t);
      await passes(t, MY_ASSESSMENTS, { token: lead.token }, 4);
      const member = bearer(await createVerifiedUser(t));
      await passes(t, MY_ASSESSMENTS, member, 1);
      expectLimited(await t.gql(MY_ASSESSMENTS, {}, member));
    } finally {
      ok(await t.gql(DELETE_RATE_LIMIT, { id: limitId }, admin));
    }
  });

  it("follows a user's tier change on their next request: limits and assessment limit", async () => {
    const pro = await createTier(t, admin, { assessmentLimit: 9 });
    await setRateLimit(t, admin, pro, 'myAssessments', 2);
    const user = await createVerifiedUser(t);
    const auth = bearer(user);
    expect(ok(await t.gql(ME_LIMIT, {}, auth)).me.profile.assessmentLimit).toBe(3);
    await passes(t, MY_ASSESSMENTS, auth, 3);

    await moveToTier(t, user.id, pro);
    expect(ok(await t.gql(ME_LIMIT, {}, auth)).me.profile.assessmentLimit).toBe(9);
    await passes(t, MY_ASSESSMENTS, auth, 2);
    expectLimited(await t.gql(MY_ASSESSMENTS, {}, auth));

    // A change to the tier bites on the next request too.
    ok(await t.gql(UPDATE_TIER, { id: pro, input: { name: `pro-${user.username}`.slice(0, 32), assessmentLimit: 11 } }, admin));
    expect(ok(await t.gql(ME_LIMIT, {}, auth)).me.profile.assessmentLimit).toBe(11);

    await moveToTier(t, user.id, DEFAULT_TIER_ID);
    expect(ok(await t.gql(ME_LIMIT, {}, auth)).me.profile.assessmentLimit).toBe(3);
    await passes(t, MY_ASSESSMENTS, auth, 3);
  });

  it('costs a request no query: the rows are kept in memory', async () => {
    const tierId = await createTier(t, admin);
    const member = await userOn(tierId);
    await setRateLimit(t, admin, tierId, 'me', 1000);
    await setRateLimit(t, admin, tierId, 'dashboard', 1000);
    const plain = bearer(await createVerifiedUser(t));

    const { statements: seen } = await statementsDuring(async () => {
      for (let i = 0; i < 10; i++) {
        ok(await t.gql(ME, {}, member.auth));
        ok(await t.gql(ME, {}, plain));
      }
    });
    expect(seen.filter((s) => /\b(tiers|tier_rate_limits)\b/.test(s))).toEqual([]);
    expect(seen.filter((s) => /\bsessions\b/.test(s)).length).toBeGreaterThanOrEqual(20);
  });
});

// Two instances need a PostgreSQL server (the embedded PGlite serves one connection), and sharing
// the counts needs Redis.
const canRun = Boolean(process.env.REDIS_URL) && !process.env.POSTURE_TEST_EMBEDDED_URL;
if (!canRun) console.info('tests/tiers/tier-limits.test.ts: the second-instance test is skipped (it needs DATABASE_URL and REDIS_URL)');

(canRun ? describe : describe.skip)('on a second instance sharing the database and Redis', () => {
  it('a change made on either applies on the other within 5 s', async () => {
    const b = await startTestApp({
      db: t.db,
      inbox: t.inbox,
      env: { ...TIER_TEST_ENV, JWT_SIGNING_KEYS: signingKeys, REDIS_KEY_PREFIX: t.env.REDIS_KEY_PREFIX! },
    });
    try {
      const tierId = await createTier(t, admin);
      const member = await userOn(tierId);
      ok(await b.gql(ME, {}, member.auth));

      // Made on A: A at once, B within 5 s (B admits the calls until it knows; they are not counted).
      const setAt = Date.now();
      await setRateLimit(t, admin, tierId, 'me', 2);
      await passes(t, ME, member.auth, 2);
      expectLimited(await t.gql(ME, {}, member.auth));
      await eventually(async () => expectLimited(await b.gql(ME, {}, member.auth)), 10_000, 100);
      expect(Date.now() - setAt).toBeLessThan(5000);

      // Made on B: B at once, A within 5 s; the count is shared through Redis.
      const raisedAt = Date.now();
      await setRateLimit(b, admin, tierId, 'me', 4);
      await passes(b, ME, member.auth, 2);
      expectLimited(await b.gql(ME, {}, member.auth));
      await setRateLimit(b, admin, tierId, 'me', 10);
      await eventually(async () => expect(codes(await t.gql(ME, {}, member.auth))).toEqual([]), 10_000, 100);
      expect(Date.now() - raisedAt).toBeLessThan(5000);
    } finally {
      await b.stop();
    }
  });
});
