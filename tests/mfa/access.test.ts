import { captureLead } from '../assessments/support';
import { auditRows } from '../support/audit';
import { codes, firstCode, ok, type GraphQLResponse } from '../support/graphql';
import { bearer, createSuperuser, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';
import { ADMIN_DISABLE, BEGIN, codeAt, complete, CONFIRM, count, createMfaUser, DISABLE, logIn, ME_TOTP, MFA_TEST_ENV, newChallenge, REGENERATE } from './support';

// Who may do what with two-factor: every operation, called by every kind of caller, with the
// account of `owner` (two-factor on) as the target wherever one can be named.
const CALLERS = ['anon', 'lead', 'owner', 'other', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
const UN = 'UNAUTHENTICATED', ENV = 'EMAIL_NOT_VERIFIED', FB = 'FORBIDDEN';

let t: TestApp;
let owner: Awaited<ReturnType<typeof createMfaUser>>;
let admin: Awaited<ReturnType<typeof createSuperuser>>;
const tokens = {} as Record<Caller, string | undefined>;

beforeAll(async () => {
  t = await startTestApp({ env: MFA_TEST_ENV });
  owner = await createMfaUser(t, 'own');
  const other = await createVerifiedUser(t, 'oth');
  admin = await createSuperuser(t, 'adm');
  const lead = await captureLead(t);
  Object.assign(tokens, { anon: undefined, lead: lead.token, owner: owner.tokens.accessToken, other: other.tokens.accessToken, admin: admin.tokens.accessToken });
});
afterAll(() => t.stop());

const outcome = (res: GraphQLResponse) => (res.errors?.length ? String(firstCode(res)) : 'ok');

async function matrix(expected: Partial<Record<Caller, string>>, call: (token: string | undefined) => Promise<GraphQLResponse>) {
  for (const caller of Object.keys(expected) as Caller[]) {
    const res = await call(tokens[caller]);
    expect(res.status).toBeLessThan(500);
    expect({ caller, outcome: outcome(res) }).toEqual({ caller, outcome: expected[caller] });
    if (expected[caller] !== 'ok') expect(Object.values(res.data ?? {}).every((v) => v === null)).toBe(true);
  }
}

/** The owner's two-factor as stored, to show a refusal changed nothing. */
const ownerState = async () => ({
  user: await t.sql(`select totp_enabled_at from users where id = ?`, [owner.id]),
  credential: await t.sql(`select sealed_secret, confirmed_at, last_used_step from totp_credentials where user_id = ?`, [owner.id]),
  codes: await t.sql(`select code_hash, used_at from recovery_codes where user_id = ? order by code_hash`, [owner.id]),
  liveSessions: await count(t, 'sessions', 'user_id = ? and revoked_at is null', [owner.id]),
});

describe('the two-factor access matrix', () => {
  it('the self-service mutations refuse anonymous callers and lead sessions, and act only on the caller', async () => {
    const before = await ownerState();
    await matrix({ anon: UN, lead: ENV, other: 'ok' }, (token) => t.gql(BEGIN, {}, { token }));
    await matrix({ anon: UN, lead: ENV, other: 'INVALID_CREDENTIALS' }, (token) => t.gql(CONFIRM, { code: '000000' }, { token }));
    // The owner's own codes do nothing for anyone else: the mutations take no account.
    const code = codeAt(t, owner.secret);
    for (const q of [DISABLE, REGENERATE]) {
      await matrix({ anon: UN, lead: ENV, other: 'CONFLICT', admin: 'CONFLICT' }, (token) => t.gql(q, { code }, { token }));
      await matrix({ anon: UN, lead: ENV, other: 'CONFLICT' }, (token) => t.gql(q, { code: owner.codes[0] }, { token }));
    }
    expect(await ownerState()).toEqual(before);
  });

  it('completeMfaLogIn is public: a bad challenge is INVALID_TOKEN for everyone, and a caller\'s own session changes nothing', async () => {
    await matrix({ anon: 'INVALID_TOKEN', lead: 'INVALID_TOKEN', owner: 'INVALID_TOKEN', other: 'INVALID_TOKEN', admin: 'INVALID_TOKEN' }, (token) =>
      t.gql(`mutation ($c: String!, $k: String!) { completeMfaLogIn(challenge: $c, code: $k) { accessToken } }`, { c: 'x'.repeat(43), k: '123456' }, { token }),
    );
    // Whoever sends it, a passed challenge signs in the challenge's account.
    const challenge = await newChallenge(t, owner);
    const res = await t.gql(`mutation ($c: String!, $k: String!) { completeMfaLogIn(challenge: $c, code: $k) { user { id } } }`, { c: challenge, k: owner.codes[9] }, { token: tokens.other });
    expect(ok(res).completeMfaLogIn.user.id).toBe(owner.id);
  });

  it('totpEnabled shows only to the account itself and to staff; the public view of an account has no such field', async () => {
    expect(ok(await t.gql(ME_TOTP, {}, bearer(owner))).me.totpEnabled).toBe(true);
    const staffView = await t.gql(`query ($id: ID!) { adminUser(id: $id) { user { totpEnabled } } }`, { id: owner.id }, bearer(admin));
    expect(ok(staffView).adminUser.user.totpEnabled).toBe(true);
    await matrix({ anon: UN, lead: FB, other: FB }, (token) => t.gql(`query ($id: ID!) { adminUser(id: $id) { user { totpEnabled } } }`, { id: owner.id }, { token }));
    expect(codes(await t.gql(`query ($u: String!) { user(username: $u) { totpEnabled } }`, { u: owner.username }))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('adminDisableTotp refuses everyone but a superuser and changes nothing', async () => {
    const before = await ownerState();
    const events = await count(t, 'audit_events', `action like 'admin.%'`);
    await matrix({ anon: UN, lead: FB, owner: FB, other: FB }, (token) => t.gql(ADMIN_DISABLE, { id: owner.id }, { token }));
    expect(await ownerState()).toEqual(before);
    expect(await count(t, 'audit_events', `action like 'admin.%'`)).toBe(events);
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const res = await t.gql(ADMIN_DISABLE, { id }, bearer(admin));
      expect(codes(res)).toEqual(['NOT_FOUND']);
      expect(res.errors![0]!.extensions).toMatchObject({ field: 'userId' });
    }
  });
});

describe('adminDisableTotp', () => {
  it('turns two-factor off, ends every session of the account, mails it and records the staff action', async () => {
    const user = await createMfaUser(t, 'lost');
    const challenge = await newChallenge(t, user);
    expect(await count(t, 'sessions', 'user_id = ? and revoked_at is null', [user.id])).toBe(1);

    expect(ok(await t.gql(ADMIN_DISABLE, { id: user.id }, bearer(admin))).adminDisableTotp).toBe(true);
    expect(await count(t, 'sessions', 'user_id = ? and revoked_at is null', [user.id])).toBe(0);
    expect(firstCode(await t.gql(ME_TOTP, {}, bearer(user)))).toBe(UN);
    expect(await count(t, 'totp_credentials', 'user_id = ?', [user.id])).toBe(0);
    expect(await count(t, 'recovery_codes', 'user_id = ?', [user.id])).toBe(0);
    expect(firstCode(await complete(t, challenge, user.codes[0]!))).toBe('INVALID_TOKEN');
    // The password alone signs in again.
    expect(ok(await logIn(t, user)).logIn.user.id).toBe(user.id);

    const notice = await t.inbox.waitFor(user.email, /^Two-factor sign-in is off$/);
    expect(notice.text).toMatch(/An administrator turned off two-factor sign-in/);
    expect(await auditRows(t, { action: 'admin.adminDisableTotp', targetId: user.id })).toEqual([
      expect.objectContaining({ actor_id: admin.id, target_type: 'user', changes: { totpEnabled: { before: true, after: false }, revokedSessions: 1 } }),
    ]);

    // Off already: false, and nothing more happens.
    expect(ok(await t.gql(ADMIN_DISABLE, { id: user.id }, bearer(admin))).adminDisableTotp).toBe(false);
    expect(await auditRows(t, { action: 'admin.adminDisableTotp', targetId: user.id })).toHaveLength(1);
  });
});
