import { AUTH_FIELDS, codes } from '../support/graphql';
import { createVerifiedUser, LOG_IN, ME, REFRESH, startTestApp, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const CHANGE = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { ${AUTH_FIELDS} } }`;
const NEW_PASSWORD = 'a-brand-new-passphrase-7';

const change = (accessToken: string | undefined, currentPassword: string, newPassword: string) =>
  t.gql(CHANGE, { input: { currentPassword, newPassword } }, { token: accessToken });
const logIn = (usernameOrEmail: string, password: string) => t.gql(LOG_IN, { input: { usernameOrEmail, password } });

describe('changePassword', () => {
  it('requires a valid access token', async () => {
    const user = await createVerifiedUser(t, 'ca');

    for (const token of [undefined, 'not-a-jwt', user.tokens.refreshToken]) {
      const res = await change(token, user.password, NEW_PASSWORD);
      expect(codes(res)).toEqual(['UNAUTHENTICATED']);
      expect(res.data).toBeNull();
    }
    // A token of a session that has ended.
    expect((await t.gql(`mutation { logOut }`, {}, { token: user.tokens.accessToken })).data).toEqual({ logOut: true });
    expect(codes(await change(user.tokens.accessToken, user.password, NEW_PASSWORD))).toEqual(['UNAUTHENTICATED']);

    expect((await logIn(user.username, user.password)).errors).toBeUndefined();
  });

  it('answers a wrong current password with INVALID_CREDENTIALS and changes nothing', async () => {
    const user = await createVerifiedUser(t, 'cw');

    const res = await change(user.tokens.accessToken, `${user.password}x`, NEW_PASSWORD);
    expect(codes(res)).toEqual(['INVALID_CREDENTIALS']);
    expect(res.data).toBeNull();

    expect((await t.gql(ME, {}, { token: user.tokens.accessToken })).data!.me.id).toBe(user.id);
    expect(codes(await logIn(user.username, NEW_PASSWORD))).toEqual(['INVALID_CREDENTIALS']);
    expect((await logIn(user.username, user.password)).errors).toBeUndefined();
  });

  it('checks the new password by the sign-up policy (BAD_USER_INPUT on newPassword)', async () => {
    const user = await createVerifiedUser(t, 'cp_policy');

    for (const newPassword of ['password123', 'short', user.username, user.email]) {
      const res = await change(user.tokens.accessToken, user.password, newPassword);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions!.field).toBe('newPassword');
    }
    expect((await logIn(user.username, user.password)).errors).toBeUndefined();
  });

  it('returns working tokens, ends the other sessions, retires the old password and mails a notice', async () => {
    const user = await createVerifiedUser(t, 'cs');
    const other = (await logIn(user.email, user.password)).data!.logIn;

    const res = await change(user.tokens.accessToken, user.password, NEW_PASSWORD);
    expect(res.errors).toBeUndefined();
    const payload = res.data!.changePassword;
    expect(payload).toMatchObject({ user: { id: user.id, email: user.email } });
    expect(payload.accessToken).toEqual(expect.any(String));
    expect(payload.refreshToken).toEqual(expect.any(String));

    expect((await t.gql(ME, {}, { token: payload.accessToken })).data!.me.id).toBe(user.id);
    const refreshed = await t.gql(REFRESH, { t: payload.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    expect((await t.gql(ME, {}, { token: refreshed.data!.refreshSession.accessToken })).data!.me.id).toBe(user.id);

    expect(codes(await t.gql(ME, {}, { token: other.accessToken }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(REFRESH, { t: other.refreshToken }))).toEqual(['INVALID_TOKEN']);

    expect(codes(await logIn(user.username, user.password))).toEqual(['INVALID_CREDENTIALS']);
    expect((await logIn(user.username, NEW_PASSWORD)).errors).toBeUndefined();
    await t.inbox.waitFor(user.email, /password was changed/i);
  });
});
