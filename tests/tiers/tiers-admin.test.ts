import { DEFAULT_TIER_ID, PREMIUM_TIER_ID } from '../../src/modules/tiers/tier.entity';
import { auditRows } from '../support/audit';
import { codes, firstCode, ok } from '../support/graphql';
import { statementsDuring } from '../support/statements';
import { bearer, createSuperuser, startTestApp, type TestApp } from '../support/test-app';
import {
  CREATE_TIER,
  createTier,
  DELETE_RATE_LIMIT,
  DELETE_TIER,
  insertAccount,
  moveToTier,
  SET_RATE_LIMIT,
  setRateLimit,
  tierState,
  TIER_TEST_ENV,
  tierName,
  TIERS,
  UNKNOWN_ID,
  UPDATE_TIER,
} from './support';

// Staff's tier operations: what they change, what they refuse, and the audit events they write.
// Who may call them: access-matrix.test.ts.

let t: TestApp;
let admin: { token: string };
let adminId: string;

beforeAll(async () => {
  t = await startTestApp({ env: TIER_TEST_ENV });
  const staff = await createSuperuser(t);
  admin = bearer(staff);
  adminId = staff.id;
});
afterAll(() => t?.stop());

const state = () => tierState(t);

const auditOf = (action: string, targetId: string) => auditRows(t, { action, targetId });

describe('createTier and updateTier', () => {
  it('create a tier, trimmed, with no accounts and no limits, audited', async () => {
    const name = tierName('gold');
    const res = ok(await t.gql(CREATE_TIER, { input: { name: `  ${name}  `, assessmentLimit: 12 } }, admin));
    expect(res.createTier).toMatchObject({ name, assessmentLimit: 12, userCount: 0, rateLimits: [] });
    const [event] = await auditOf('admin.createTier', res.createTier.id);
    expect(event).toMatchObject({
      actor_id: adminId,
      target_type: 'tier',
      ip: '127.0.0.1',
      changes: { name: { before: null, after: name }, assessmentLimit: { before: null, after: 12 } },
    });
  });

  it('refuse a name in use, in any case, as CONFLICT naming the field', async () => {
    const name = tierName('Taken');
    await createTier(t, admin, { name });
    for (const clash of [name, name.toLowerCase(), name.toUpperCase(), 'FREE', ' premium ']) {
      const res = await t.gql(CREATE_TIER, { input: { name: clash, assessmentLimit: 1 } }, admin);
      expect(codes(res)).toEqual(['CONFLICT']);
      expect(res.errors![0]!.extensions!.field).toBe('name');
    }
  });

  it('make one tier of 10 concurrent creates with one name; the rest are CONFLICT', async () => {
    const name = tierName('race');
    const results = await Promise.all(Array.from({ length: 10 }, () => t.gql(CREATE_TIER, { input: { name, assessmentLimit: 1 } }, admin)));
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.filter((r) => r.errors).map(firstCode)).toEqual(Array(9).fill('CONFLICT'));
    expect(await t.sql(`select id from tiers where name = ?`, [name])).toHaveLength(1);
  });

  it.each([
    ['a name of 1 character', { name: 'x' }, 'name'],
    ['a name of 33 characters', { name: 'x'.repeat(33) }, 'name'],
    ['a name of blanks', { name: '     ' }, 'name'],
    ['an oversized name', { name: 'x'.repeat(10_000) }, 'name'],
    ['a NUL in the name', { name: 'gold\u0000tier' }, 'name'],
    ['a control character in the name', { name: 'gold\u0007tier' }, 'name'],
    ['a bidi override in the name', { name: 'gold\u202etier' }, 'name'],
    ['a negative assessment limit', { assessmentLimit: -1 }, 'assessmentLimit'],
    ['an assessment limit past the bound', { assessmentLimit: 100_001 }, 'assessmentLimit'],
  ])('refuse %s with BAD_USER_INPUT naming the field', async (_case, change, field) => {
    const before = await state();
    const res = await t.gql(CREATE_TIER, { input: { name: tierName('bad'), assessmentLimit: 3, ...change } }, admin);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.extensions!.field).toBe(field);
    expect(await state()).toBe(before);
  });

  it('accept only the declared input fields (mass assignment refused)', async () => {
    const before = await state();
    const inline = await t.gql(`mutation { createTier(input: { name: "${tierName('mass')}", assessmentLimit: 1, id: "${DEFAULT_TIER_ID}" }) { id } }`, {}, admin);
    expect(codes(inline)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const variables = await t.gql(CREATE_TIER, { input: { name: tierName('mass'), assessmentLimit: 1, userCount: 99, rateLimits: [] } }, admin);
    // One error per undeclared field.
    expect(codes(variables)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    const update = await t.gql(UPDATE_TIER, { id: PREMIUM_TIER_ID, input: { name: 'premium', assessmentLimit: 1, id: DEFAULT_TIER_ID } }, admin);
    expect(codes(update)).toEqual(['BAD_USER_INPUT']);
    expect(await state()).toBe(before);
  });

  it('update the name and limit, audited with before and after', async () => {
    const name = tierName('silver');
    const id = await createTier(t, admin, { name, assessmentLimit: 4 });
    const renamed = tierName('Silver');
    const res = ok(await t.gql(UPDATE_TIER, { id, input: { name: renamed, assessmentLimit: 6 } }, admin));
    expect(res.updateTier).toMatchObject({ id, name: renamed, assessmentLimit: 6, userCount: 0 });
    // Its own name in another case is no clash with itself.
    ok(await t.gql(UPDATE_TIER, { id, input: { name: renamed.toUpperCase(), assessmentLimit: 6 } }, admin));
    const events = await auditOf('admin.updateTier', id);
    expect(events[0]).toMatchObject({
      actor_id: adminId,
      target_type: 'tier',
      changes: { name: { before: name, after: renamed }, assessmentLimit: { before: 4, after: 6 } },
    });
    expect(events[1]!.changes).toEqual({ name: { before: renamed, after: renamed.toUpperCase() } });
  });

  it('refuse an update to a name in use (CONFLICT), or of an unknown or malformed id (NOT_FOUND)', async () => {
    const id = await createTier(t, admin);
    const clash = await t.gql(UPDATE_TIER, { id, input: { name: 'Premium', assessmentLimit: 1 } }, admin);
    expect(codes(clash)).toEqual(['CONFLICT']);
    expect(clash.errors![0]!.extensions!.field).toBe('name');
    for (const bad of [UNKNOWN_ID, 'not-a-uuid', "' or 1=1 --", '']) {
      expect(codes(await t.gql(UPDATE_TIER, { id: bad, input: { name: tierName(), assessmentLimit: 1 } }, admin))).toEqual(['NOT_FOUND']);
    }
  });
});

describe('deleteTier', () => {
  it('never deletes the default tier', async () => {
    const before = await state();
    const res = await t.gql(DELETE_TIER, { id: DEFAULT_TIER_ID }, admin);
    expect(codes(res)).toEqual(['CONFLICT']);
    expect(await state()).toBe(before);
  });

  it('is CONFLICT while accounts are on the tier, soft-deleted ones included; userCount leaves those out', async () => {
    const id = await createTier(t, admin);
    const live = await insertAccount(t, id);
    const held = await insertAccount(t, id, { deleted: true });
    const { tiers } = ok(await t.gql(TIERS, {}, admin));
    expect(tiers.find((x: any) => x.id === id).userCount).toBe(1);

    expect(codes(await t.gql(DELETE_TIER, { id }, admin))).toEqual(['CONFLICT']);
    await moveToTier(t, live, DEFAULT_TIER_ID);
    expect(codes(await t.gql(DELETE_TIER, { id }, admin))).toEqual(['CONFLICT']);
    await moveToTier(t, held, DEFAULT_TIER_ID);
    expect(ok(await t.gql(DELETE_TIER, { id }, admin)).deleteTier).toBe(true);
  });

  it('deletes an unused tier with its rate limits, audited; then NOT_FOUND', async () => {
    const name = tierName('gone');
    const id = await createTier(t, admin, { name, assessmentLimit: 7 });
    const limitId = await setRateLimit(t, admin, id, 'myAssessments', 5, 60);
    expect(ok(await t.gql(DELETE_TIER, { id }, admin)).deleteTier).toBe(true);
    expect(await t.sql(`select id from tiers where id = ?`, [id])).toEqual([]);
    expect(await t.sql(`select id from tier_rate_limits where id = ?`, [limitId])).toEqual([]);
    const [event] = await auditOf('admin.deleteTier', id);
    expect(event).toMatchObject({ actor_id: adminId, target_type: 'tier', changes: { name: { before: name, after: null }, assessmentLimit: { before: 7, after: null } } });
    expect(codes(await t.gql(DELETE_TIER, { id }, admin))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(DELETE_TIER, { id: 'nope' }, admin))).toEqual(['NOT_FOUND']);
  });
});

describe('setRateLimit and deleteRateLimit', () => {
  let tierId: string;
  beforeAll(async () => {
    tierId = await createTier(t, admin, { name: tierName('limits') });
  });

  it('upsert on (tier, operation), audited with before and after', async () => {
    const first = ok(await t.gql(SET_RATE_LIMIT, { input: { tierId, operation: 'startAssessment', limit: 3, periodSeconds: 60 } }, admin));
    expect(first.setRateLimit).toMatchObject({ operation: 'startAssessment', limit: 3, periodSeconds: 60, tier: { id: tierId, userCount: 0 } });
    const id = first.setRateLimit.id;
    const second = ok(await t.gql(SET_RATE_LIMIT, { input: { tierId, operation: 'startAssessment', limit: 8, periodSeconds: 3600 } }, admin));
    expect(second.setRateLimit).toMatchObject({ id, limit: 8, periodSeconds: 3600 });
    expect(await t.sql(`select id from tier_rate_limits where tier_id = ? and operation = 'startAssessment'`, [tierId])).toHaveLength(1);

    const events = await auditOf('admin.setRateLimit', id);
    expect(events.map((e) => e.changes)).toEqual([
      {
        tierId: { before: null, after: tierId },
        operation: { before: null, after: 'startAssessment' },
        limit: { before: null, after: 3 },
        periodSeconds: { before: null, after: 60 },
      },
      { limit: { before: 3, after: 8 }, periodSeconds: { before: 60, after: 3600 } },
    ]);
    expect(events[0]).toMatchObject({ actor_id: adminId, target_type: 'rate_limit' });

    const { tiers } = ok(await t.gql(TIERS, {}, admin));
    expect(tiers.find((x: any) => x.id === tierId).rateLimits).toEqual([
      { id, operation: 'startAssessment', limit: 8, periodSeconds: 3600, tier: { id: tierId, name: expect.any(String) } },
    ]);
  });

  it('keep one row under 20 concurrent upserts of one (tier, operation)', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.gql(SET_RATE_LIMIT, { input: { tierId, operation: 'saveAnswers', limit: i + 1, periodSeconds: 60 } }, admin)),
    );
    expect(results.flatMap(codes)).toEqual([]);
    const rows = await t.sql<{ id: string; limit: number }>(`select id, "limit" from tier_rate_limits where tier_id = ? and operation = 'saveAnswers'`, [tierId]);
    expect(rows).toHaveLength(1);
    expect(new Set(results.map((r) => r.data!.setRateLimit.id))).toEqual(new Set([rows[0]!.id]));
    expect((await auditOf('admin.setRateLimit', rows[0]!.id)).length).toBe(20);
  });

  it.each([
    ['an operation the API does not have', { operation: 'dropEverything' }, 'BAD_USER_INPUT', 'operation'],
    ['a type name, not an operation', { operation: 'User' }, 'BAD_USER_INPUT', 'operation'],
    ['a meta field', { operation: '__schema' }, 'BAD_USER_INPUT', 'operation'],
    ['an operation in another case', { operation: 'ME' }, 'BAD_USER_INPUT', 'operation'],
    ['an oversized operation', { operation: 'm'.repeat(5000) }, 'BAD_USER_INPUT', 'operation'],
    ['a NUL in the operation', { operation: 'me\u0000' }, 'BAD_USER_INPUT', 'operation'],
    ['a limit of 0', { limit: 0 }, 'BAD_USER_INPUT', 'limit'],
    ['a limit past the bound', { limit: 10_001 }, 'BAD_USER_INPUT', 'limit'],
    ['a period of 0', { periodSeconds: 0 }, 'BAD_USER_INPUT', 'periodSeconds'],
    ['a period past 31 days', { periodSeconds: 86_400 * 31 + 1 }, 'BAD_USER_INPUT', 'periodSeconds'],
    ['an unknown tier', { tierId: UNKNOWN_ID }, 'NOT_FOUND', 'tierId'],
    ['a malformed tier id', { tierId: 'free' }, 'NOT_FOUND', 'tierId'],
  ])('refuse %s', async (_case, change, code, field) => {
    const before = await state();
    const res = await t.gql(SET_RATE_LIMIT, { input: { tierId, operation: 'dashboard', limit: 5, periodSeconds: 60, ...change } }, admin);
    expect(codes(res)).toEqual([code]);
    expect(res.errors![0]!.extensions!.field).toBe(field);
    expect(await state()).toBe(before);
  });

  it('accept the bounds, and refuse undeclared input fields', async () => {
    ok(await t.gql(SET_RATE_LIMIT, { input: { tierId, operation: 'exportMyData', limit: 10_000, periodSeconds: 86_400 * 31 } }, admin));
    ok(await t.gql(SET_RATE_LIMIT, { input: { tierId, operation: 'me', limit: 1, periodSeconds: 1 } }, admin));
    const mass = await t.gql(SET_RATE_LIMIT, { input: { tierId, operation: 'me', limit: 1, periodSeconds: 1, scope: 'ip' } }, admin);
    expect(codes(mass)).toEqual(['BAD_USER_INPUT']);
  });

  it('delete a limit, audited; then NOT_FOUND, as for unknown and malformed ids', async () => {
    const id = await setRateLimit(t, admin, tierId, 'shareAssessment', 4, 120);
    expect(ok(await t.gql(DELETE_RATE_LIMIT, { id }, admin)).deleteRateLimit).toBe(true);
    expect(await t.sql(`select id from tier_rate_limits where id = ?`, [id])).toEqual([]);
    const [event] = await auditOf('admin.deleteRateLimit', id);
    expect(event).toMatchObject({ actor_id: adminId, target_type: 'rate_limit', changes: { operation: { before: 'shareAssessment', after: null }, limit: { before: 4, after: null } } });
    for (const bad of [id, UNKNOWN_ID, 'x', DEFAULT_TIER_ID]) {
      expect(codes(await t.gql(DELETE_RATE_LIMIT, { id: bad }, admin))).toEqual(['NOT_FOUND']);
    }
  });
});

describe('reading tiers', () => {
  /** The statements on the tier and user tables while `fn` runs (the session check aside). */
  async function tierStatementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
    const { statements } = await statementsDuring(fn);
    return statements.filter((s) => /\b(tiers|tier_rate_limits|users)\b/.test(s) && !/sessions/.test(s));
  }

  it('costs the same statements for 2 tiers more, with their limits and counts', async () => {
    const before = await tierStatementsDuring(() => t.gql(TIERS, {}, admin));
    for (let i = 0; i < 2; i++) {
      const id = await createTier(t, admin);
      await setRateLimit(t, admin, id, 'dashboard', 5);
      await insertAccount(t, id);
    }
    const after = await tierStatementsDuring(() => t.gql(TIERS, {}, admin));
    expect(after.length).toBe(before.length);
    expect(after.length).toBeLessThanOrEqual(4);
  });
});
