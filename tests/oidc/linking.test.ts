import { buildAppSchema } from '../../src/graphql/schema';
import { accessOf } from '../../src/graphql/access';
import { policyOf, rootFields } from '../../src/modules/rate-limit/rate-limit.policies';
import { captureLead } from '../assessments/support';
import { auditRows } from '../support/audit';
import { firstCode, ok, type GraphQLResponse } from '../support/graphql';
import { createSuperuser, createVerifiedUser, SIGN_UP, newAccount, type TestApp } from '../support/test-app';
import {
  complete,
  LINK_OIDC,
  linkWith,
  ME_SIGN_IN,
  providerAccount,
  providerAndApp,
  REDIRECT_URI,
  signInWith,
  START_OIDC,
  startAndAuthorize,
  UNLINK,
  type TestProvider,
} from './support';

// Linking a provider to a signed-in account, unlinking it, and who may call what.
const setup = providerAndApp();
let t: TestApp;
let provider: TestProvider;
beforeAll(() => ({ t, provider } = setup));

const identities = (userId: string) =>
  t.sql<{ provider: string; subject: string }>(`select provider, subject from user_identities where user_id = ? order by provider`, [userId]);

describe('linkOidcIdentity', () => {
  it('links a provider login to the signed-in account, whatever email the provider gives; it then signs that account in', async () => {
    const user = await createVerifiedUser(t, 'link');
    const account = providerAccount({ email: `elsewhere-${Date.now()}@example.org`, email_verified: false });
    const linked = ok(await linkWith(t, provider, account, user.tokens.accessToken)).linkOidcIdentity;
    expect(linked).toMatchObject({ id: user.id, email: user.email, hasPassword: true, identities: [{ provider: 'test', email: account.email, linkedAt: expect.any(String) }] });
    expect(await identities(user.id)).toEqual([{ provider: 'test', subject: account.sub }]);
    expect((await auditRows(t, { action: 'identity.linked' })).filter((e) => e.actor_id === user.id)).toEqual([
      expect.objectContaining({ target_type: 'identity', changes: { provider: 'test' } }),
    ]);
    // Rule 1: the same provider login now signs in this account.
    expect(ok(await signInWith(t, provider, account)).completeOidcLogin.user.id).toBe(user.id);
  });

  it('takes only a state started under the same session: an anonymous one, another account\'s or another session\'s is INVALID_TOKEN', async () => {
    const user = await createVerifiedUser(t, 'bind');
    const other = await createVerifiedUser(t, 'bindo');
    const secondSession = ok(await t.gql(`mutation ($i: LogInInput!) { logIn(input: $i) { accessToken } }`, { i: { usernameOrEmail: user.username, password: user.password } })).logIn.accessToken;
    for (const startToken of [null, other.tokens.accessToken, secondSession]) {
      const res = await linkWith(t, provider, providerAccount(), user.tokens.accessToken, { startToken });
      expect(firstCode(res)).toBe('INVALID_TOKEN');
    }
    expect(await identities(user.id)).toEqual([]);
    expect(await identities(other.id)).toEqual([]);
  });

  it('a state bound to a session still serves completeOidcLogin (signing in is no link)', async () => {
    const user = await createVerifiedUser(t, 'boundsign');
    const account = providerAccount();
    const cb = await startAndAuthorize(t, provider, account, { token: user.tokens.accessToken });
    const res = ok(await complete(t, cb)).completeOidcLogin;
    expect(res.user.id).not.toBe(user.id);
    expect(await identities(user.id)).toEqual([]);
  });

  it('refuses a provider login linked to another account: CONFLICT, nothing moves', async () => {
    const owner = await createVerifiedUser(t, 'lown');
    const thief = await createVerifiedUser(t, 'lthief');
    const account = providerAccount();
    ok(await linkWith(t, provider, account, owner.tokens.accessToken));
    const res = await linkWith(t, provider, account, thief.tokens.accessToken);
    expect(firstCode(res)).toBe('CONFLICT');
    expect(res.errors![0]!.extensions).toMatchObject({ field: 'provider', reason: 'identity_linked_elsewhere' });
    expect(await identities(owner.id)).toEqual([{ provider: 'test', subject: account.sub }]);
    expect(await identities(thief.id)).toEqual([]);
  });

  it('refuses a second login of the same provider on one account: CONFLICT; another provider is fine', async () => {
    const user = await createVerifiedUser(t, 'ltwo');
    const first = providerAccount();
    ok(await linkWith(t, provider, first, user.tokens.accessToken));
    const again = await linkWith(t, provider, providerAccount(), user.tokens.accessToken);
    expect(firstCode(again)).toBe('CONFLICT');
    expect(again.errors![0]!.extensions).toMatchObject({ reason: 'provider_already_linked' });
    ok(await linkWith(t, provider, providerAccount(), user.tokens.accessToken, { provider: 'other' }));
    expect((await identities(user.id)).map((i) => i.provider)).toEqual(['other', 'test']);
  });

  it('checks the ID token as completeOidcLogin does (a tampered one is INVALID_TOKEN)', async () => {
    const user = await createVerifiedUser(t, 'ltamper');
    const cb = await startAndAuthorize(t, provider, providerAccount(), { token: user.tokens.accessToken });
    await provider.nextToken('tamper');
    expect(firstCode(await t.gql(LINK_OIDC, { p: 'test', c: cb.code, s: cb.state }, { token: user.tokens.accessToken }))).toBe('INVALID_TOKEN');
    expect(await identities(user.id)).toEqual([]);
  });
});

describe('exportMyData', () => {
  it('lists the provider logins linked to the account (provider, subject, email, when)', async () => {
    const user = await createVerifiedUser(t, 'exp');
    const account = providerAccount();
    ok(await linkWith(t, provider, account, user.tokens.accessToken));
    const data = ok(await t.gql(`{ exportMyData }`, {}, { token: user.tokens.accessToken })).exportMyData;
    expect(data.linkedIdentities).toEqual([{ provider: 'test', subject: account.sub, email: account.email, linkedAt: expect.any(String) }]);
  });
});

describe('unlinkIdentity', () => {
  it('refuses to remove the last way in (no password, no other identity): CONFLICT, nothing removed', async () => {
    const made = ok(await signInWith(t, provider, providerAccount())).completeOidcLogin;
    const res = await t.gql(UNLINK, { p: 'test' }, { token: made.accessToken });
    expect(firstCode(res)).toBe('CONFLICT');
    expect(res.errors![0]!.extensions).toMatchObject({ reason: 'last_way_in' });
    expect(await identities(made.user.id)).toHaveLength(1);
  });

  it('removes one when another identity remains, then refuses the last; audited', async () => {
    const made = ok(await signInWith(t, provider, providerAccount())).completeOidcLogin;
    ok(await linkWith(t, provider, providerAccount(), made.accessToken, { provider: 'other' }));
    expect(ok(await t.gql(UNLINK, { p: 'test' }, { token: made.accessToken })).unlinkIdentity).toBe(true);
    expect(await identities(made.user.id)).toEqual([expect.objectContaining({ provider: 'other' })]);
    expect(firstCode(await t.gql(UNLINK, { p: 'other' }, { token: made.accessToken }))).toBe('CONFLICT');
    expect((await auditRows(t, { action: 'identity.unlinked' })).filter((e) => e.actor_id === made.user.id)).toEqual([
      expect.objectContaining({ target_type: 'identity', changes: { provider: 'test' } }),
    ]);
  });

  it('removes the only identity of an account with a password', async () => {
    const user = await createVerifiedUser(t, 'unpw');
    ok(await linkWith(t, provider, providerAccount(), user.tokens.accessToken));
    expect(ok(await t.gql(UNLINK, { p: 'test' }, { token: user.tokens.accessToken })).unlinkIdentity).toBe(true);
    expect(ok(await t.gql(ME_SIGN_IN, {}, { token: user.tokens.accessToken })).me).toMatchObject({ hasPassword: true, identities: [] });
  });

  it('answers NOT_FOUND (field provider) for a provider the account has no login of', async () => {
    const user = await createVerifiedUser(t, 'unnf');
    for (const p of ['test', 'nope']) {
      const res = await t.gql(UNLINK, { p }, { token: user.tokens.accessToken });
      expect(firstCode(res)).toBe('NOT_FOUND');
      expect(res.errors![0]!.extensions).toMatchObject({ field: 'provider' });
    }
  });

  it('keeps one way in when two unlinks of an account\'s two identities race', async () => {
    const made = ok(await signInWith(t, provider, providerAccount())).completeOidcLogin;
    ok(await linkWith(t, provider, providerAccount(), made.accessToken, { provider: 'other' }));
    const results = await Promise.all(['test', 'other'].map((p) => t.gql(UNLINK, { p }, { token: made.accessToken })));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors).map(firstCode)).toEqual(['CONFLICT']);
    expect(await identities(made.user.id)).toHaveLength(1);
  });
});

describe('who may call what', () => {
  const CALLERS = ['anon', 'lead', 'owner', 'other', 'admin'] as const;
  type Caller = (typeof CALLERS)[number];
  const tokens = {} as Record<Caller, string | undefined>;
  let owner: Awaited<ReturnType<typeof createVerifiedUser>>;
  const outcome = (res: GraphQLResponse) => (res.errors?.length ? String(firstCode(res)) : 'ok');

  beforeAll(async () => {
    owner = await createVerifiedUser(t, 'mown');
    ok(await linkWith(t, provider, providerAccount(), owner.tokens.accessToken));
    const other = await createVerifiedUser(t, 'moth');
    const admin = await createSuperuser(t, 'madm');
    const lead = await captureLead(t);
    Object.assign(tokens, { anon: undefined, lead: lead.token, owner: owner.tokens.accessToken, other: other.tokens.accessToken, admin: admin.tokens.accessToken });
  });

  it('declares access and limits on every operation', async () => {
    const fields = rootFields(await buildAppSchema());
    expect(accessOf(fields.get('authProviders')!)).toBe('public');
    expect(accessOf(fields.get('startOidcLogin')!)).toBe('public');
    expect(accessOf(fields.get('completeOidcLogin')!)).toBe('public');
    expect(accessOf(fields.get('linkOidcIdentity')!)).toEqual({});
    expect(accessOf(fields.get('unlinkIdentity')!)).toEqual({});
    expect(policyOf(fields.get('completeOidcLogin'))).toMatchObject({ sensitive: true, rateLimits: [{ scope: 'ip', max: 10, per: 60 }] });
    expect(policyOf(fields.get('startOidcLogin'))).toMatchObject({ rateLimits: [{ scope: 'ip' }] });
    expect(policyOf(fields.get('linkOidcIdentity'))).toMatchObject({ sensitive: true, rateLimits: [{ scope: 'user' }] });
    expect(policyOf(fields.get('unlinkIdentity'))).toMatchObject({ rateLimits: [{ scope: 'user' }] });
  });

  it('authProviders and startOidcLogin answer everyone; only a full session binds the state', async () => {
    for (const caller of CALLERS) {
      expect(outcome(await t.gql(`{ authProviders { id } }`, {}, { token: tokens[caller] }))).toBe('ok');
      expect(outcome(await t.gql(START_OIDC, { p: 'test', r: REDIRECT_URI }, { token: tokens[caller] }))).toBe('ok');
    }
    const rows = await t.sql<{ user_id: string | null }>(`select user_id from oidc_login_states order by created_at desc limit 5`);
    expect(rows.filter((r) => r.user_id !== null)).toHaveLength(3); // owner, other, admin; not anonymous, not the lead
  });

  it('linkOidcIdentity and unlinkIdentity refuse anonymous callers and lead sessions, and act only on the caller', async () => {
    const expected: Record<Caller, string> = { anon: 'UNAUTHENTICATED', lead: 'EMAIL_NOT_VERIFIED', owner: 'skip', other: 'NOT_FOUND', admin: 'NOT_FOUND' };
    for (const caller of CALLERS) {
      if (caller === 'owner') continue;
      const unlink = await t.gql(UNLINK, { p: 'test' }, { token: tokens[caller] });
      expect({ caller, code: outcome(unlink) }).toEqual({ caller, code: expected[caller] });
      const link = await t.gql(LINK_OIDC, { p: 'test', c: 'code', s: 'x'.repeat(43) }, { token: tokens[caller] });
      expect({ caller, code: outcome(link) }).toEqual({ caller, code: caller === 'anon' || caller === 'lead' ? expected[caller] : 'INVALID_TOKEN' });
    }
    expect(await identities(owner.id)).toHaveLength(1);
  });

  it('identities and hasPassword: the account sees its own; staff see them on accounts they look at; signUp reveals nothing', async () => {
    expect(ok(await t.gql(ME_SIGN_IN, {}, { token: tokens.owner })).me).toMatchObject({ id: owner.id, hasPassword: true, identities: [expect.objectContaining({ provider: 'test' })] });
    expect(ok(await t.gql(ME_SIGN_IN, {}, { token: tokens.other })).me.identities).toEqual([]);
    const staffView = ok(await t.gql(`query ($id: ID!) { adminUser(id: $id) { user { hasPassword identities { provider } } } }`, { id: owner.id }, { token: tokens.admin }));
    expect(staffView.adminUser.user).toEqual({ hasPassword: true, identities: [{ provider: 'test' }] });
    for (const caller of ['owner', 'other', 'lead'] as const) {
      expect(firstCode(await t.gql(`query ($id: ID!) { adminUser(id: $id) { user { identities { provider } } } }`, { id: owner.id }, { token: tokens[caller] }))).not.toBeUndefined();
    }
    // signUp with an address in use answers as for a new account: a password, no identity.
    const SIGN_UP_FIELDS = SIGN_UP.replace('createdAt }', 'createdAt hasPassword identities { provider } }');
    const fresh = ok(await t.gql(SIGN_UP_FIELDS, { input: newAccount('sfresh') })).signUp.user;
    const taken = ok(await t.gql(SIGN_UP_FIELDS, { input: { ...newAccount('staken'), email: owner.email } })).signUp.user;
    expect({ hasPassword: taken.hasPassword, identities: taken.identities }).toEqual({ hasPassword: fresh.hasPassword, identities: fresh.identities });
    expect(taken).toMatchObject({ hasPassword: true, identities: [] });
  });
});
