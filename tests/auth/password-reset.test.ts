import { createHash, createHmac, hkdfSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { eventually } from '../support/eventually';
import { codes } from '../support/graphql';
import { linkToken, resetCode } from '../support/smtp';
import {
  createVerifiedUser,
  LOG_IN,
  ME,
  newAccount,
  REFRESH,
  RELAXED_IP_LIMITS,
  SIGN_UP,
  startTestApp,
  type TestApp,
} from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const REQUEST_RESET = `mutation ($e: String!) { requestPasswordReset(email: $e) }`;
const RESET = `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }`;
const NEW_PASSWORD = 'a-brand-new-passphrase-7';

const sql = (query: string, params: unknown[] = []) => t.sql(query, params);
const outboxTemplates = async (to: string) =>
  (await sql(`select template from outbox_emails where recipient = ? order by created_at`, [to])).map((r) => r.template as string);

const requestReset = (email: string) => t.gql(REQUEST_RESET, { e: email });
const reset = (input: Record<string, string>) => t.gql(RESET, { input });
const logIn = (usernameOrEmail: string, password: string) => t.gql(LOG_IN, { input: { usernameOrEmail, password } });

/** Requests a reset and returns the link token and code of the `count`-th reset email. */
async function resetSecrets(email: string, count = 1) {
  expect((await requestReset(email)).data).toEqual({ requestPasswordReset: true });
  const mail = await t.inbox.waitFor(email, /reset your password/i, { count });
  return { token: linkToken(mail, 'reset-password'), code: resetCode(mail), mail };
}

/** A six-digit code that is not `code`. */
const otherCode = (code: string, n = 1) => ((Number(code) + n) % 1_000_000).toString().padStart(6, '0');

describe('requestPasswordReset', () => {
  it('answers true for an unknown email and mails nothing', async () => {
    const email = newAccount('ru').email;
    const res = await requestReset(email);
    expect(res).toMatchObject({ status: 200, data: { requestPasswordReset: true } });
    expect(res.errors).toBeUndefined();
    // The request is decided after the answer, and one for an address without an account is dropped.
    await eventually(async () => expect(await outboxTemplates(email)).toEqual([]));
    expect(t.inbox.to(email)).toEqual([]);
  });

  it('answers true for an account and mails it a link and a 6-digit code', async () => {
    const user = await createVerifiedUser(t, 'rm');
    const res = await requestReset(`  ${user.email.toUpperCase()} `);
    expect(res).toMatchObject({ status: 200, data: { requestPasswordReset: true } });
    expect(res.errors).toBeUndefined();

    const mail = await t.inbox.waitFor(user.email, /reset your password/i);
    const token = linkToken(mail, 'reset-password');
    expect(mail.text).toContain(`http://posture.test/reset-password?token=${token}`);
    expect(resetCode(mail)).toMatch(/^\d{6}$/);
  });
});

describe('resetPassword', () => {
  it('sets the password with the link token once, logs nobody in, and mails a notice', async () => {
    const user = await createVerifiedUser(t, 'rt');
    const { token } = await resetSecrets(user.email);

    const res = await reset({ token, newPassword: NEW_PASSWORD });
    expect(res).toMatchObject({ status: 200, data: { resetPassword: true } });
    expect(res.errors).toBeUndefined();
    expect(codes(await reset({ token, newPassword: 'yet-another-passphrase-8' }))).toEqual(['INVALID_TOKEN']);

    expect(codes(await logIn(user.username, user.password))).toEqual(['INVALID_CREDENTIALS']);
    const login = await logIn(user.username, NEW_PASSWORD);
    expect(login.errors).toBeUndefined();
    expect(login.data!.logIn.user.id).toBe(user.id);
    await t.inbox.waitFor(user.email, /password was changed/i);
  });

  it('sets the password with the email and code once; the link of the same email is then spent too', async () => {
    const user = await createVerifiedUser(t, 'rc');
    const { token, code } = await resetSecrets(user.email);

    const res = await reset({ email: ` ${user.email.toUpperCase()} `, code, newPassword: NEW_PASSWORD });
    expect(res).toMatchObject({ status: 200, data: { resetPassword: true } });
    expect(res.errors).toBeUndefined();
    expect(codes(await reset({ email: user.email, code, newPassword: 'yet-another-passphrase-8' }))).toEqual(['INVALID_TOKEN']);
    expect(codes(await reset({ token, newPassword: 'yet-another-passphrase-8' }))).toEqual(['INVALID_TOKEN']);

    expect((await logIn(user.email, NEW_PASSWORD)).errors).toBeUndefined();
    await t.inbox.waitFor(user.email, /password was changed/i);
  });

  it('takes either a token, or an email and a code: both or neither is BAD_USER_INPUT', async () => {
    const user = await createVerifiedUser(t, 'rb');
    const { token, code } = await resetSecrets(user.email);

    const inputs: Array<Record<string, string>> = [
      { token, email: user.email, code },
      { token, code },
      { token, email: user.email },
      {},
      { email: user.email },
      { code },
    ];
    for (const input of inputs) {
      const res = await reset({ ...input, newPassword: NEW_PASSWORD });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.data).toBeNull();
    }
    // None of those used the token up.
    expect((await reset({ token, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
  });

  it('retires the earlier link and code when a new reset is requested', async () => {
    const user = await createVerifiedUser(t, 'rn');
    const first = await resetSecrets(user.email);
    const second = await resetSecrets(user.email, 2);

    expect(codes(await reset({ token: first.token, newPassword: NEW_PASSWORD }))).toEqual(['INVALID_TOKEN']);
    expect(first.code).not.toBe(second.code); // one chance in a million that they collide
    expect(codes(await reset({ email: user.email, code: first.code, newPassword: NEW_PASSWORD }))).toEqual(['INVALID_TOKEN']);
    expect((await reset({ token: second.token, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
  });

  it('ends every session of the account', async () => {
    const user = await createVerifiedUser(t, 'rs');
    const other = (await logIn(user.email, user.password)).data!.logIn;
    const sessions = [user.tokens, other];
    for (const s of sessions) expect((await t.gql(ME, {}, { token: s.accessToken })).data!.me.id).toBe(user.id);

    const { token } = await resetSecrets(user.email);
    expect((await reset({ token, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });

    for (const s of sessions) {
      expect(codes(await t.gql(ME, {}, { token: s.accessToken }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await t.gql(REFRESH, { t: s.refreshToken }))).toEqual(['INVALID_TOKEN']);
    }
    expect(await sql(`select id from sessions where user_id = ? and revoked_at is null`, [user.id])).toEqual([]);
  });

  it('confirms an unverified email, since the secret was delivered there', async () => {
    const account = newAccount('rv');
    expect((await t.gql(SIGN_UP, { input: account })).errors).toBeUndefined();
    expect(codes(await logIn(account.username, account.password))).toEqual(['EMAIL_NOT_VERIFIED']);

    const { token } = await resetSecrets(account.email);
    expect((await reset({ token, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });

    const login = await logIn(account.username, NEW_PASSWORD);
    expect(login.errors).toBeUndefined();
    expect(login.data!.logIn.user.emailVerified).toBe(true);
  });

  it('checks the new password by the sign-up policy, and a rejected one leaves the link usable', async () => {
    const user = await createVerifiedUser(t, 'rp');
    const { token } = await resetSecrets(user.email);

    for (const newPassword of ['password123', 'qwertyuiop', 'short', user.email, user.username]) {
      const res = await reset({ token, newPassword });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions!.field).toBe('newPassword');
    }
    expect((await reset({ token, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
    expect((await logIn(user.username, NEW_PASSWORD)).errors).toBeUndefined();
  });

  it('checks the new password by the sign-up policy, and a rejected one leaves the code usable', async () => {
    const user = await createVerifiedUser(t, 'rq');
    const { code } = await resetSecrets(user.email);

    for (const newPassword of ['qwertyuiop', user.username]) {
      const res = await reset({ email: user.email, code, newPassword });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions!.field).toBe('newPassword');
    }
    expect((await reset({ email: user.email, code, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
  });

  it('lets exactly one of 20 concurrent resets with one link token succeed', async () => {
    const user = await createVerifiedUser(t, 'rx');
    const { token } = await resetSecrets(user.email);

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => reset({ token, newPassword: `${NEW_PASSWORD}-${i}` })),
    );

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const winners = results.flatMap((r, i) => (r.data?.resetPassword === true ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.flatMap(codes).sort()).toEqual(Array(19).fill('INVALID_TOKEN'));
    expect((await logIn(user.username, `${NEW_PASSWORD}-${winners[0]}`)).errors).toBeUndefined();
  });

  // The per-account limit on resetPassword must not be what stops these tries.
  describe('with the per-account limit on resetPassword raised', () => {
    beforeAll(() => t.restart({ RATE_LIMITS: `${RELAXED_IP_LIMITS},resetPassword.account=20/60` }));
    afterAll(() => t.restart({ RATE_LIMITS: RELAXED_IP_LIMITS }));

    it('kills the code after 3 wrong tries, so that even the right code then gives INVALID_TOKEN', async () => {
      const user = await createVerifiedUser(t, 'rw');
      const { token, code } = await resetSecrets(user.email);

      for (let i = 1; i <= 3; i++) {
        expect(codes(await reset({ email: user.email, code: otherCode(code, i), newPassword: NEW_PASSWORD }))).toEqual([
          'INVALID_TOKEN',
        ]);
      }
      expect(codes(await reset({ email: user.email, code, newPassword: NEW_PASSWORD }))).toEqual(['INVALID_TOKEN']);
      expect(codes(await logIn(user.username, NEW_PASSWORD))).toEqual(['INVALID_CREDENTIALS']);
      // The code is dead, not the link that came with it.
      expect((await reset({ token, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
    });

    it('still accepts the right code after 2 wrong tries', async () => {
      const user = await createVerifiedUser(t, 'ry');
      const { code } = await resetSecrets(user.email);

      for (let i = 1; i <= 2; i++) {
        expect(codes(await reset({ email: user.email, code: otherCode(code, i), newPassword: NEW_PASSWORD }))).toEqual([
          'INVALID_TOKEN',
        ]);
      }
      expect((await reset({ email: user.email, code, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
    });
  });

  it('stores the code as HMAC-SHA-256 under a secret derived from the signing key, not as a plain hash', async () => {
    const user = await createVerifiedUser(t, 'rh');
    const { code, token } = await resetSecrets(user.email);
    const [row] = await sql(`select id, code_hash from one_time_tokens where user_id = ? and purpose = 'reset_password'`, [user.id]);

    const plain = createHash('sha256').update(`${row!.id}:${code}`).digest('hex');
    expect(row!.code_hash).not.toBe(plain);
    // The secret: HKDF-SHA-256 of the active signing key's private part (the development key in DATA_DIR).
    const [key] = JSON.parse(fs.readFileSync(path.join(t.env.DATA_DIR!, 'signing-keys.json'), 'utf8')).keys;
    const secret = Buffer.from(hkdfSync('sha256', Buffer.from(key.d, 'base64url'), Buffer.alloc(0), 'posture/reset-code', 32));
    expect(row!.code_hash).toBe(createHmac('sha256', secret).update(`${row!.id}:${code}`).digest('hex'));

    expect((await reset({ email: user.email, code, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
    expect(codes(await reset({ token, newPassword: NEW_PASSWORD }))).toEqual(['INVALID_TOKEN']);
  });

  describe('after the code lifetime (10 minutes)', () => {
    it('answers an expired code with INVALID_TOKEN, while the link keeps its own lifetime (1 hour)', async () => {
      const user = await createVerifiedUser(t, 're');
      const { token, code } = await resetSecrets(user.email);
      t.clock.advance(10 * 60 + 30);

      expect(codes(await reset({ email: user.email, code, newPassword: NEW_PASSWORD }))).toEqual(['INVALID_TOKEN']);
      expect((await reset({ token, newPassword: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
    });
  });
});
