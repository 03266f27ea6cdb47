import { buildAppSchema } from '../../src/graphql/schema';
import { accessOf } from '../../src/graphql/access';
import { policyOf, rootFields } from '../../src/modules/rate-limit/rate-limit.policies';
import { firstCode, type GraphQLResponse, ok } from '../support/graphql';
import { bearer, createSuperuser, createVerifiedUser, LOG_IN, newAccount, startTestApp, type TestApp } from '../support/test-app';
import { captureLead } from '../assessments/support';
import {
  ACCOUNT_TEST_ENV,
  ADMIN_USER,
  CONFIRM_EMAIL,
  countRows,
  CREATE_USER,
  DELETE_ME,
  DELETE_USER,
  EXPORT,
  MY_SESSIONS,
  PUBLIC_USER,
  RESTORE_USER,
  REVOKE_SESSION,
  REVOKE_SESSIONS,
  UPDATE_ME,
  UPDATE_USER,
  USERS,
  userRow,
} from './support';

// Who may do what with accounts: every operation of this part of issue 9, called by every kind of
// caller, with the account of `owner` as the target wherever an operation takes one.
const CALLERS = ['anon', 'lead', 'owner', 'other', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
const OK = 'ok', UN = 'UNAUTHENTICATED', ENV = 'EMAIL_NOT_VERIFIED', FB = 'FORBIDDEN', NF = 'NOT_FOUND', BAD_TOKEN = 'INVALID_TOKEN';
type Expected = Record<Caller, string>;
/** Self-service: any account acts on itself; anonymous callers and lead sessions are refused. */
const SELF: Expected = { anon: UN, lead: ENV, owner: OK, other: OK, admin: OK };
/** Staff only. */
const STAFF: Expected = { anon: UN, lead: FB, owner: FB, other: FB, admin: OK };
const PUBLIC: Expected = { anon: OK, lead: OK, owner: OK, other: OK, admin: OK };

const SELF_SERVICE = ['user', 'mySessions', 'exportMyData', 'updateMe', 'confirmEmailChange', 'deleteMe', 'revokeSession'];
const ADMINISTRATION = ['users', 'adminUser', 'adminCreateUser', 'adminUpdateUser', 'adminDeleteUser', 'adminRestoreUser', 'adminRevokeSessions'];

let t: TestApp;
const tokens = {} as Record<Caller, string | undefined>;
const ids = {} as Record<Caller, string>;
let owner: Awaited<ReturnType<typeof createVerifiedUser>>;
let ownerSecondSession: { accessToken: string; sessionId: string };

beforeAll(async () => {
  t = await startTestApp({ env: ACCOUNT_TEST_ENV });
  owner = await createVerifiedUser(t, 'own');
  const other = await createVerifiedUser(t, 'oth');
  const admin = await createSuperuser(t, 'adm');
  const lead = await captureLead(t);
  Object.assign(tokens, { anon: undefined, lead: lead.token, owner: owner.tokens.accessToken, other: other.tokens.accessToken, admin: admin.tokens.accessToken });
  Object.assign(ids, { owner: owner.id, other: other.id, admin: admin.id });
  const second = ok(await t.gql(LOG_IN, { input: { usernameOrEmail: owner.username, password: owner.password } })).logIn;
  const sessions = ok(await t.gql(MY_SESSIONS, {}, { token: second.accessToken })).mySessions as Array<{ id: string; current: boolean }>;
  ownerSecondSession = { accessToken: second.accessToken, sessionId: sessions.find((s) => s.current)!.id };
});
afterAll(() => t.stop());

const outcome = (res: GraphQLResponse) => (res.errors?.length ? String(firstCode(res)) : OK);
/** A caller left out of one row of the matrix (its own case is tested apart), and what stands for its answer. */
const SKIP = 'skip';
const skipped = async (): Promise<GraphQLResponse> => ({ status: 200, headers: new Headers(), errors: [{ message: '', extensions: { code: SKIP } }] });

/** Runs `call` as every caller and checks each outcome; returns the answers by caller. */
async function matrix(expected: Expected, call: (token: string | undefined, caller: Caller) => Promise<GraphQLResponse>) {
  const answers = {} as Record<Caller, GraphQLResponse>;
  for (const caller of CALLERS) {
    const res = await call(tokens[caller], caller);
    expect(res.status).toBeLessThan(500);
    expect({ caller, outcome: outcome(res), errors: res.errors }).toMatchObject({ caller, outcome: expected[caller] });
    // A refusal answers nothing, not even part of the data.
    if (expected[caller] !== OK) expect(Object.values(res.data ?? {}).every((v) => v === null)).toBe(true);
    answers[caller] = res;
  }
  return answers;
}

/** The owner's account and sessions as stored, to show a refusal changed nothing. */
const ownerState = async () => ({
  row: await userRow(t, owner.id),
  liveSessions: await countRows(t, 'sessions', 'user_id = ? and revoked_at is null', [owner.id]),
  profiles: await countRows(t, 'profiles', 'user_id = ?', [owner.id]),
  tokens: await countRows(t, 'one_time_tokens', 'user_id = ?', [owner.id]),
});

describe('the accounts access matrix', () => {
  it('every operation declares its access and a rate limit where it changes something', async () => {
    const schema = await buildAppSchema();
    const fields = rootFields(schema);
    for (const name of [...SELF_SERVICE, ...ADMINISTRATION]) expect(fields.get(name)).toBeDefined();
    expect(accessOf(fields.get('user')!)).toBe('public');
    expect(accessOf(fields.get('confirmEmailChange')!)).toBe('public');
    for (const name of ['mySessions', 'exportMyData', 'updateMe', 'deleteMe', 'revokeSession']) expect(accessOf(fields.get(name)!)).toEqual({});
    for (const name of ADMINISTRATION) expect(accessOf(fields.get(name)!)).toEqual({ roles: ['SUPERUSER'] });
    for (const name of ['updateMe', 'deleteMe', 'revokeSession', 'exportMyData', 'adminCreateUser', 'adminUpdateUser', 'adminDeleteUser', 'adminRestoreUser', 'adminRevokeSessions']) {
      expect({ name, scopes: policyOf(fields.get(name))?.rateLimits?.map((r) => r.scope) }).toEqual({ name, scopes: ['user'] });
    }
    expect(policyOf(fields.get('confirmEmailChange'))).toMatchObject({ sensitive: true, rateLimits: [{ scope: 'ip' }] });
    expect(policyOf(fields.get('deleteMe'))).toMatchObject({ sensitive: true, hashing: true });
  });

  it('user(username) is public and shows the same to everyone', async () => {
    const answers = await matrix(PUBLIC, (token) => t.gql(PUBLIC_USER, { u: owner.username }, { token }));
    for (const caller of CALLERS) expect(answers[caller].data).toEqual({ user: { username: owner.username, name: owner.name, avatarUrl: null } });
  });

  it('mySessions and exportMyData show each account its own, and nothing of anyone else', async () => {
    const sessions = await matrix(SELF, (token) => t.gql(MY_SESSIONS, {}, { token }));
    const ownerSessionIds = (await t.sql<{ id: string }>(`select id from sessions where user_id = ?`, [owner.id])).map((r) => r.id);
    expect(sessions.owner.data!.mySessions.map((s: { id: string }) => s.id).sort()).toEqual(ownerSessionIds.sort());
    for (const caller of ['other', 'admin'] as const) {
      for (const s of sessions[caller].data!.mySessions) expect(ownerSessionIds).not.toContain(s.id);
    }

    const exports = await matrix(SELF, (token) => t.gql(EXPORT, {}, { token }));
    for (const caller of ['owner', 'other', 'admin'] as const) {
      const data = exports[caller].data!.exportMyData;
      expect(data.account.id).toBe(ids[caller]);
      if (caller !== 'owner') expect(JSON.stringify(data)).not.toContain(owner.email);
    }
  });

  it('updateMe changes only the caller, and refusals change nothing', async () => {
    const before = await ownerState();
    await matrix({ ...SELF, owner: SKIP }, (token, caller) =>
      caller === 'owner' ? skipped() : t.gql(UPDATE_ME, { input: { name: `Renamed ${caller}` } }, { token }),
    );
    expect(await ownerState()).toEqual(before);
    for (const caller of ['other', 'admin'] as const) expect((await userRow(t, ids[caller])).name).toBe(`Renamed ${caller}`);
    // There is no way to name another account: the input has no id, and undeclared fields are refused.
    const res = await t.gql(UPDATE_ME, { input: { id: owner.id, name: 'Mallory' } }, { token: tokens.other });
    expect(firstCode(res)).toBe('BAD_USER_INPUT');
    expect(await ownerState()).toEqual(before);
  });

  it('confirmEmailChange is public: a bad token is INVALID_TOKEN for everyone', async () => {
    await matrix({ anon: BAD_TOKEN, lead: BAD_TOKEN, owner: BAD_TOKEN, other: BAD_TOKEN, admin: BAD_TOKEN }, (token) =>
      t.gql(CONFIRM_EMAIL, { t: 'a'.repeat(43) }, { token }),
    );
  });

  it("revokeSession ends only the caller's own session: the owner's is NOT_FOUND to everyone else", async () => {
    const before = await ownerState();
    const answers = await matrix({ anon: UN, lead: ENV, owner: SKIP, other: NF, admin: NF }, (token, caller) =>
      caller === 'owner' ? skipped() : t.gql(REVOKE_SESSION, { id: ownerSecondSession.sessionId }, { token }),
    );
    expect(answers.other.errors![0]!.extensions).toMatchObject({ field: 'id' });
    expect(await ownerState()).toEqual(before);
    expect(ok(await t.gql(REVOKE_SESSION, { id: ownerSecondSession.sessionId }, { token: tokens.owner })).revokeSession).toBe(true);
    expect(firstCode(await t.gql(`{ me { id } }`, {}, { token: ownerSecondSession.accessToken }))).toBe(UN);
  });

  it('the staff queries, nested fields included, answer only a superuser', async () => {
    const NESTED_USERS = `{ users(first: 5) { totalCount edges { node { id email profile { assessmentLimit } } } } }`;
    const users = await matrix(STAFF, (token) => t.gql(NESTED_USERS, {}, { token }));
    expect(users.admin.data!.users.totalCount).toBeGreaterThanOrEqual(3);
    await matrix(STAFF, (token) => t.gql(USERS, { filter: { search: owner.email } }, { token }));
    const view = await matrix(STAFF, (token) => t.gql(ADMIN_USER, { id: owner.id }, { token }));
    expect(view.admin.data!.adminUser.user.id).toBe(owner.id);
    for (const nested of ['sessions { id ip userAgent }', 'profile { fullName }', 'tier { id name }', 'assessments { totalCount }', 'user { email profile { phone } }', 'lastLogInAt']) {
      await matrix(STAFF, (token) => t.gql(`query ($id: ID!) { adminUser(id: $id) { ${nested} } }`, { id: owner.id }, { token }));
    }
    // A malformed or unknown id is NOT_FOUND, and still refused first to anyone else.
    await matrix({ ...STAFF, admin: NF }, (token) => t.gql(ADMIN_USER, { id: 'not-a-uuid' }, { token }));
  });

  it('the staff mutations refuse everyone but a superuser and change nothing', async () => {
    const before = await ownerState();
    const usersBefore = await countRows(t, 'users');
    const eventsBefore = await countRows(t, 'audit_events', `action like 'admin.%'`);
    const refusedOnly: Expected = { ...STAFF, admin: SKIP };
    const skip = (caller: Caller, run: () => Promise<GraphQLResponse>) => (caller === 'admin' ? skipped() : run());
    const fresh = newAccount('mx');
    await matrix(refusedOnly, (token, caller) => skip(caller, () => t.gql(CREATE_USER, { input: { email: fresh.email, username: fresh.username, name: fresh.name, isSuperuser: true } }, { token })));
    await matrix(refusedOnly, (token, caller) => skip(caller, () => t.gql(UPDATE_USER, { id: owner.id, input: { isSuperuser: true, tierId: '00000000-0000-4000-8000-000000000002' } }, { token })));
    await matrix(refusedOnly, (token, caller) => skip(caller, () => t.gql(UPDATE_USER, { id: ids[caller as 'owner'] ?? owner.id, input: { isSuperuser: true } }, { token })));
    await matrix(refusedOnly, (token, caller) => skip(caller, () => t.gql(DELETE_USER, { id: owner.id }, { token })));
    await matrix(refusedOnly, (token, caller) => skip(caller, () => t.gql(DELETE_USER, { id: owner.id, hard: true }, { token })));
    await matrix(refusedOnly, (token, caller) => skip(caller, () => t.gql(RESTORE_USER, { id: owner.id }, { token })));
    await matrix(refusedOnly, (token, caller) => skip(caller, () => t.gql(REVOKE_SESSIONS, { id: owner.id }, { token })));
    expect(await ownerState()).toEqual(before);
    expect(await countRows(t, 'users')).toBe(usersBefore);
    expect(await countRows(t, 'users', 'is_superuser')).toBe(1);
    expect(await countRows(t, 'audit_events', `action like 'admin.%'`)).toBe(eventsBefore);

    // The superuser's calls, on accounts of their own.
    const admin = (q: string, v: Record<string, unknown>) => t.gql(q, v, { token: tokens.admin });
    const made = ok(await admin(CREATE_USER, { input: { email: fresh.email, username: fresh.username, name: fresh.name } })).adminCreateUser;
    ok(await admin(UPDATE_USER, { id: made.id, input: { name: 'Made By Staff' } }));
    expect(ok(await admin(REVOKE_SESSIONS, { id: made.id })).adminRevokeSessions).toBe(0);
    ok(await admin(DELETE_USER, { id: made.id }));
    ok(await admin(RESTORE_USER, { id: made.id }));
    ok(await admin(DELETE_USER, { id: made.id, hard: true }));
    for (const [q, v] of [
      [UPDATE_USER, { id: 'not-a-uuid', input: { name: 'Nobody Here' } }],
      [DELETE_USER, { id: made.id }],
      [RESTORE_USER, { id: '00000000-0000-0000-0000-000000000000' }],
      [REVOKE_SESSIONS, { id: 'x' }],
    ] as const) {
      expect(firstCode(await admin(q, v))).toBe(NF);
    }
  });

  it('deleteMe refuses anonymous callers and lead sessions, and deletes only the caller', async () => {
    const before = await ownerState();
    const throwaway = await createVerifiedUser(t, 'thr');
    // "other" here is a throwaway account, so the file's own callers stay.
    const answers = await matrix({ anon: UN, lead: ENV, owner: SKIP, other: OK, admin: SKIP }, (token, caller) =>
      caller === 'owner' || caller === 'admin' ? skipped() : t.gql(DELETE_ME, { p: throwaway.password }, caller === 'other' ? bearer(throwaway) : { token }),
    );
    expect(answers.other.data).toEqual({ deleteMe: true });
    expect((await userRow(t, throwaway.id)).status).toBe('deleted');
    expect(await ownerState()).toEqual(before);
  });
});
