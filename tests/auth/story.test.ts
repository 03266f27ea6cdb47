import { createVerifiedUser, LOG_IN, ME, newAccount, REFRESH, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';
import { codes } from '../support/graphql';
import { linkToken } from '../support/smtp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

describe('the account story over HTTP', () => {
  it('signs up, verifies by the emailed link, logs in, reads me, refreshes and logs out', async () => {
    const account = newAccount('story');

    const signUp = await t.gql(SIGN_UP, { input: { ...account, email: `  ${account.email.toUpperCase()} ` } });
    expect(signUp.errors).toBeUndefined();
    expect(signUp.data!.signUp.user).toMatchObject({
      email: account.email,
      username: account.username,
      name: account.name,
      emailVerified: false,
      isSuperuser: false,
    });

    const beforeVerify = await t.gql(LOG_IN, { input: { usernameOrEmail: account.email, password: account.password } });
    expect(codes(beforeVerify)).toEqual(['EMAIL_NOT_VERIFIED']);

    const mail = await t.inbox.waitFor(account.email, /confirm your email/i);
    expect(mail.html).toContain('verify-email?token=');
    const token = linkToken(mail, 'verify-email');
    expect(mail.text).toContain(`http://posture.test/verify-email?token=${token}`);
    expect((await t.gql(`mutation ($t: String!) { verifyEmail(token: $t) }`, { t: token })).data).toEqual({ verifyEmail: true });

    const login = await t.gql(LOG_IN, { input: { usernameOrEmail: account.username.toUpperCase(), password: account.password } });
    expect(login.errors).toBeUndefined();
    const session = login.data!.logIn;
    expect(session.user).toMatchObject({ email: account.email, emailVerified: true });
    const accessTtl = Date.parse(session.accessTokenExpiresAt) - Date.now();
    expect(accessTtl).toBeGreaterThan(14 * 60_000);
    expect(accessTtl).toBeLessThanOrEqual(15 * 60_000);
    const refreshTtl = Date.parse(session.refreshTokenExpiresAt) - Date.now();
    expect(Math.round(refreshTtl / 86400_000)).toBe(7);

    const me = await t.gql(ME, {}, { token: session.accessToken });
    expect(me.data!.me).toMatchObject({ id: signUp.data!.signUp.user.id, username: account.username, emailVerified: true });

    const refreshed = await t.gql(REFRESH, { t: session.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    const next = refreshed.data!.refreshSession;
    expect(next.refreshToken).not.toBe(session.refreshToken);
    expect(next.accessToken).not.toBe(session.accessToken);
    expect((await t.gql(ME, {}, { token: next.accessToken })).data!.me.id).toBe(me.data!.me.id);

    const logOut = await t.gql(`mutation ($t: String) { logOut(refreshToken: $t) }`, { t: next.refreshToken }, { token: next.accessToken });
    expect(logOut.data).toEqual({ logOut: true });
    expect(codes(await t.gql(ME, {}, { token: next.accessToken }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(REFRESH, { t: next.refreshToken }))).toEqual(['INVALID_TOKEN']);
  });

  it('answers me with null for an anonymous caller', async () => {
    const res = await t.gql(ME);
    expect(res).toMatchObject({ status: 200, data: { me: null } });
    expect(res.errors).toBeUndefined();
  });

  it('gives a test helper user that can call me', async () => {
    const user = await createVerifiedUser(t);
    expect((await t.gql(ME, {}, { token: user.tokens.accessToken })).data!.me.email).toBe(user.email);
  });
});
