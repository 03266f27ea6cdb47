import { auditRows } from '../support/audit';
import { firstCode, ok } from '../support/graphql';
import { createVerifiedUser, LOG_IN, newAccount, REFRESH, SIGN_UP, type TestApp } from '../support/test-app';
import { captureLead, LOG_IN_WITH_LINK, loginLinkToken, START } from '../assessments/support';
import {
  complete,
  ME_SIGN_IN,
  providerAccount,
  providerAndApp,
  REDIRECT_URI_WITH_QUERY,
  signInWith,
  START_OIDC,
  startAndAuthorize,
  type TestProvider,
} from './support';

// Signing in with a real OpenID provider (oidc-provider, in a child process): whose account each
// proof reaches, following issue 10's rules against pre-hijacking.
const setup = providerAndApp({ ASSESSMENT_START_INTERVAL: '0' });
let t: TestApp;
let provider: TestProvider;
beforeAll(() => ({ t, provider } = setup));

const userRow = async (email: string) =>
  (await t.sql<{ id: string; email_verified_at: Date | null; password_hash: string | null; name: string; username: string }>(
    `select id, email_verified_at, password_hash, name, username from users where email = ?`,
    [email],
  ))[0];
const identityRows = (userId: string) =>
  t.sql<{ provider: string; subject: string; email: string | null }>(`select provider, subject, email from user_identities where user_id = ? order by provider`, [userId]);

describe('authProviders', () => {
  it('lists the configured providers by id and name, to anyone', async () => {
    const res = ok(await t.gql(`{ authProviders { id name } }`));
    expect(res.authProviders).toEqual([
      { id: 'test', name: 'Test ID' },
      { id: 'other', name: 'Other ID' },
      { id: 'down', name: 'Down ID' },
    ]);
  });
});

describe('a new account', () => {
  it('is made verified, without a password, when the provider verified the email; the identity is linked and audited', async () => {
    const account = providerAccount({ name: 'Grace Hopper' });
    const res = ok(await signInWith(t, provider, account)).completeOidcLogin;
    expect(res.user).toMatchObject({ email: account.email, emailVerified: true, hasPassword: false, name: 'Grace Hopper' });
    expect(res.user.identities).toEqual([{ provider: 'test', email: account.email, linkedAt: expect.any(String) }]);
    expect(res.user.username).toMatch(/^[a-z0-9_]{2,20}$/);
    const row = (await userRow(account.email))!;
    expect(row.email_verified_at).not.toBeNull();
    expect(row.password_hash).toBeNull();
    expect(await identityRows(row.id)).toEqual([{ provider: 'test', subject: account.sub, email: account.email }]);
    // The tokens work.
    expect(ok(await t.gql(ME_SIGN_IN, {}, { token: res.accessToken })).me).toMatchObject({ id: row.id, hasPassword: false });
    ok(await t.gql(REFRESH, { t: res.refreshToken }));
    // Audited: the identity linked, and the login (by the session start).
    const linked = await auditRows(t, { action: 'identity.linked' });
    expect(linked.filter((e) => e.actor_id === row.id)).toEqual([expect.objectContaining({ target_type: 'identity', changes: { provider: 'test' } })]);
    const logins = await auditRows(t, { action: 'user.logged_in', targetId: row.id });
    expect(logins).toHaveLength(1);
  });

  it('is made unverified when the provider did not verify the email, and nothing attaches to it', async () => {
    const lead = await captureLead(t);
    const leadAssessment = ok(await t.gql(START, { slug: 'smb-baseline' }, { token: lead.token })).startAssessment.assessment.id;
    const account = providerAccount({ email: lead.email, email_verified: false });
    const res = ok(await signInWith(t, provider, account)).completeOidcLogin;
    expect(res.user).toMatchObject({ email: lead.email, emailVerified: false, hasPassword: false });
    // The lead's assessment stays the lead's: nobody proved the address.
    const [assessment] = await t.sql<{ user_id: string | null }>(`select user_id from assessments where id = ?`, [leadAssessment]);
    expect(assessment!.user_id).toBeNull();
    const [leadRow] = await t.sql<{ converted_at: Date | null }>(`select converted_at from leads where id = ?`, [lead.leadId]);
    expect(leadRow!.converted_at).toBeNull();
  });

  it('attaches the address\'s lead assessments when the provider verified the email', async () => {
    const lead = await captureLead(t, { fullName: 'Lead Person' });
    const leadAssessment = ok(await t.gql(START, { slug: 'smb-baseline' }, { token: lead.token })).startAssessment.assessment.id;
    const res = ok(await signInWith(t, provider, providerAccount({ email: lead.email.toUpperCase() }))).completeOidcLogin;
    expect(res.user).toMatchObject({ email: lead.email, emailVerified: true, name: 'Lead Person' });
    const [assessment] = await t.sql<{ user_id: string | null }>(`select user_id from assessments where id = ?`, [leadAssessment]);
    expect(assessment!.user_id).toBe(res.user.id);
  });

  it('needs an email: a provider that gives none is CONFLICT, and nothing is made', async () => {
    const before = await t.sql(`select count(*)::int as n from users`);
    const res = await signInWith(t, provider, { sub: `noemail-${Date.now()}`, name: 'No Mail' });
    expect(firstCode(res)).toBe('CONFLICT');
    expect(res.errors![0]!.extensions).toMatchObject({ reason: 'no_email' });
    expect(await t.sql(`select count(*)::int as n from users`)).toEqual(before);
  });

  it('works through a redirect URI with a query of its own', async () => {
    const account = providerAccount();
    const cb = await startAndAuthorize(t, provider, account, { redirectUri: REDIRECT_URI_WITH_QUERY });
    expect(ok(await complete(t, cb)).completeOidcLogin.user.email).toBe(account.email);
  });
});

describe('a returning identity', () => {
  it('signs in the same account by (provider, sub), even after the email changed at the provider', async () => {
    const account = providerAccount();
    const first = ok(await signInWith(t, provider, account)).completeOidcLogin;
    const changed = { ...account, email: `changed-${account.email}` };
    const again = ok(await signInWith(t, provider, changed)).completeOidcLogin;
    expect(again.user.id).toBe(first.user.id);
    // The account keeps its address; the identity shows what the provider says now.
    expect(again.user.email).toBe(account.email);
    expect(again.user.identities).toEqual([expect.objectContaining({ provider: 'test', email: changed.email })]);
    expect(await t.sql(`select count(*)::int as n from users where email = ?`, [changed.email])).toEqual([{ n: 0 }]);
    expect(await auditRows(t, { action: 'user.logged_in', targetId: first.user.id })).toHaveLength(2);
  });

  it('does not sign in to an account that has been disabled', async () => {
    const account = providerAccount();
    const first = ok(await signInWith(t, provider, account)).completeOidcLogin;
    await t.sql(`update users set status = 'disabled' where id = ?`, [first.user.id]);
    expect(firstCode(await signInWith(t, provider, account))).toBe('INVALID_TOKEN');
  });
});

describe('an existing account with the address', () => {
  it('a verified one is linked and signed in when the provider verified the email; its password stays', async () => {
    const user = await createVerifiedUser(t, 'vlink');
    const account = providerAccount({ email: user.email });
    const res = ok(await signInWith(t, provider, account)).completeOidcLogin;
    expect(res.user).toMatchObject({ id: user.id, hasPassword: true, identities: [expect.objectContaining({ provider: 'test' })] });
    // Its password and sessions are untouched.
    ok(await t.gql(LOG_IN, { input: { usernameOrEmail: user.username, password: user.password } }));
    ok(await t.gql(`{ me { id } }`, {}, { token: user.tokens.accessToken }));
    const linked = await auditRows(t, { action: 'identity.linked' });
    expect(linked.filter((e) => e.actor_id === user.id)).toHaveLength(1);
  });

  it('is never linked without email_verified: CONFLICT, and nothing changes', async () => {
    const user = await createVerifiedUser(t, 'nover');
    for (const email_verified of [false, undefined, 'false']) {
      const res = await signInWith(t, provider, providerAccount({ email: user.email, email_verified }));
      expect(firstCode(res)).toBe('CONFLICT');
      expect(res.errors![0]!.extensions).toMatchObject({ reason: 'email_not_verified_by_provider' });
    }
    expect(await identityRows(user.id)).toEqual([]);
    ok(await t.gql(LOG_IN, { input: { usernameOrEmail: user.username, password: user.password } }));
  });

  it('an unverified one is taken over: its password, sessions and tokens fail, its lead assessments attach', async () => {
    // Someone signs up with the victim's address (never proving it) and keeps a session open.
    const squatter = newAccount('squat');
    ok(await t.gql(SIGN_UP, { input: squatter }));
    const squatterId = (await userRow(squatter.email))!.id;
    // Logging in needs a verified address, so the squatter's session comes from an older login link... simulated by
    // verifying, logging in and un-verifying in the database: a live session and a password on an unverified account.
    await t.sql(`update users set email_verified_at = now() where id = ?`, [squatterId]);
    const session = ok(await t.gql(LOG_IN, { input: { usernameOrEmail: squatter.username, password: squatter.password } })).logIn;
    await t.sql(`update users set email_verified_at = null where id = ?`, [squatterId]);
    // An identity the squatter linked while the address was unproven goes too.
    await t.sql(
      `insert into user_identities (id, user_id, provider, subject, email, linked_at) values (gen_random_uuid(), ?, 'other', 'squatter-sub', ?, now())`,
      [squatterId, squatter.email],
    );
    // The real owner had taken an assessment as a lead with the address.
    const lead = await captureLead(t, { email: squatter.email });
    const leadAssessment = ok(await t.gql(START, { slug: 'smb-baseline' }, { token: lead.token })).startAssessment.assessment.id;

    const owner = providerAccount({ email: squatter.email });
    const res = ok(await signInWith(t, provider, owner)).completeOidcLogin;
    expect(res.user).toMatchObject({ id: squatterId, emailVerified: true, hasPassword: false });
    expect(res.user.identities).toEqual([expect.objectContaining({ provider: 'test', email: squatter.email })]);

    expect(firstCode(await t.gql(LOG_IN, { input: { usernameOrEmail: squatter.username, password: squatter.password } }))).toBe('INVALID_CREDENTIALS');
    expect(firstCode(await t.gql(REFRESH, { t: session.refreshToken }))).toBe('INVALID_TOKEN');
    expect(firstCode(await t.gql(`{ me { id } }`, {}, { token: session.accessToken }))).toBe('UNAUTHENTICATED');
    // The squatter's own provider login no longer reaches the account.
    expect(await identityRows(squatterId)).toEqual([{ provider: 'test', subject: owner.sub, email: squatter.email }]);

    const [assessment] = await t.sql<{ user_id: string | null }>(`select user_id from assessments where id = ?`, [leadAssessment]);
    expect(assessment!.user_id).toBe(squatterId);
    expect((await auditRows(t, { action: 'lead.converted', targetId: lead.leadId }))).toHaveLength(1);
    // The new owner's session works.
    ok(await t.gql(`{ me { id } }`, {}, { token: res.accessToken }));
  });

  it('a login link for an OIDC-made account signs in that same account', async () => {
    const account = providerAccount();
    const made = ok(await signInWith(t, provider, account)).completeOidcLogin;
    ok(await t.gql(`mutation ($e: String!) { requestLoginLink(email: $e) }`, { e: account.email }));
    const token = await loginLinkToken(t, account.email);
    expect(ok(await t.gql(LOG_IN_WITH_LINK, { t: token })).logInWithLink.user.id).toBe(made.user.id);
  });
});

describe('the state table', () => {
  it('holds no plaintext state, nonce or PKCE verifier', async () => {
    const started = ok(await t.gql(START_OIDC, { p: 'test', r: 'http://app.test/oidc/callback' })).startOidcLogin;
    const url = new URL(started.authorizationUrl);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    const nonce = url.searchParams.get('nonce')!;
    const challenge = url.searchParams.get('code_challenge')!;
    expect(url.searchParams.get('state')).toBe(started.state);
    const rows = await t.sql(`select * from oidc_login_states`);
    const dump = JSON.stringify(rows);
    for (const secret of [started.state, nonce, challenge]) expect(dump).not.toContain(secret);
    expect(rows.some((r) => r.user_id === null && r.session_id === null)).toBe(true);
  });
});
