import { codes, type GraphQLResponse } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { createVerifiedUser, LOG_IN, ME, newAccount, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const VERIFY = `mutation ($t: String!) { verifyEmail(token: $t) }`;

const logIn = (usernameOrEmail: string, password: string) => t.gql(LOG_IN, { input: { usernameOrEmail, password } });

const storedHash = async (userId: string) =>
  (await t.sql(`select password_hash from users where id = ?`, [userId]))[0]!
    .password_hash as string;

/** Signs up with the given fields and confirms the email, without logging in. */
async function verifiedAccount(account: ReturnType<typeof newAccount>) {
  const res = await t.gql(SIGN_UP, { input: account });
  expect(res.errors).toBeUndefined();
  const mail = await t.inbox.waitFor(account.email, /confirm your email/i);
  expect((await t.gql(VERIFY, { t: linkToken(mail, 'verify-email') })).data).toEqual({ verifyEmail: true });
  return { ...account, id: res.data!.signUp.user.id as string };
}

/** Runs a failing logIn and returns how many argon2 verifications it cost. */
async function verifiesDuring(attempt: () => Promise<GraphQLResponse>) {
  const before = t.app.passwords.stats.verifies;
  const res = await attempt();
  return { res, verifies: t.app.passwords.stats.verifies - before };
}

describe('logIn', () => {
  it('accepts the username or the email, in any case and with surrounding spaces', async () => {
    const user = await createVerifiedUser(t, 'li');
    for (const name of [user.username.toUpperCase(), `  ${user.email.toUpperCase()} `, user.email]) {
      const res = await logIn(name, user.password);
      expect(res.errors).toBeUndefined();
      expect(res.data!.logIn.user).toMatchObject({ id: user.id, email: user.email, emailVerified: true });
      const me = await t.gql(ME, {}, { token: res.data!.logIn.accessToken });
      expect(me.data!.me.id).toBe(user.id);
    }
  });

  it('answers a wrong password and an unknown account alike, after one argon2 verification each', async () => {
    const user = await createVerifiedUser(t, 'lw');
    const wrong = await verifiesDuring(() => logIn(user.username, `${user.password}x`));
    const unknownName = await verifiesDuring(() => logIn(newAccount('lu').username, user.password));
    const unknownEmail = await verifiesDuring(() => logIn(newAccount('lu').email, user.password));

    for (const attempt of [wrong, unknownName, unknownEmail]) {
      expect(attempt.verifies).toBe(1);
      expect(attempt.res.status).toBe(200);
      expect(attempt.res.data).toBeNull();
      expect(codes(attempt.res)).toEqual(['INVALID_CREDENTIALS']);
    }
    expect(unknownName.res.errors).toEqual(wrong.res.errors);
    expect(unknownEmail.res.errors).toEqual(wrong.res.errors);
  });

  it('says EMAIL_NOT_VERIFIED only to the correct password of an unverified account', async () => {
    const account = newAccount('lv');
    expect((await t.gql(SIGN_UP, { input: account })).errors).toBeUndefined();

    expect(codes(await logIn(account.username, `${account.password}x`))).toEqual(['INVALID_CREDENTIALS']);
    const res = await logIn(account.email, account.password);
    expect(codes(res)).toEqual(['EMAIL_NOT_VERIFIED']);
    expect(res.data).toBeNull();
  });

  it('answers a password longer than 1024 characters with INVALID_CREDENTIALS', async () => {
    const user = await verifiedAccount({ ...newAccount('ll'), password: `${'k'.repeat(1023)}!` });

    for (const tooLong of [`${user.password}!`, '🔑'.repeat(1025), 'k'.repeat(3000)]) {
      expect(codes(await logIn(user.username, tooLong))).toEqual(['INVALID_CREDENTIALS']);
    }
    expect(codes(await logIn(newAccount('ll').username, `${user.password}!`))).toEqual(['INVALID_CREDENTIALS']);
    const exact = await logIn(user.username, user.password);
    expect(exact.errors).toBeUndefined();
    expect(exact.data!.logIn.user.id).toBe(user.id);
  });

  // Last: it moves the file's app onto new argon2 parameters.
  it('rehashes the stored password on the next successful login after the argon2 parameters change', async () => {
    const user = await createVerifiedUser(t, 'lr');
    const original = await storedHash(user.id);
    expect(original).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    await t.restart({ ARGON2_MEMORY_KIB: '20480' });
    expect(codes(await logIn(user.username, `${user.password}x`))).toEqual(['INVALID_CREDENTIALS']);
    expect(await storedHash(user.id)).toBe(original);

    const res = await logIn(user.username, user.password);
    expect(res.errors).toBeUndefined();
    const rehashed = await storedHash(user.id);
    expect(rehashed).toMatch(/^\$argon2id\$v=19\$m=20480,t=2,p=1\$/);

    const again = await logIn(user.email, user.password);
    expect(again.errors).toBeUndefined();
    expect(await storedHash(user.id)).toBe(rehashed);
  });
});
