import { createHash } from 'node:crypto';
import { eventually } from '../support/eventually';
import { codes } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { createVerifiedUser, LOG_IN, newAccount, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const VERIFY = `mutation ($t: String!) { verifyEmail(token: $t) }`;
const RESEND = `mutation ($e: String!) { resendVerificationEmail(email: $e) }`;
const REQUEST_RESET = `mutation ($e: String!) { requestPasswordReset(email: $e) }`;

const sql = (query: string, params: unknown[] = []) => t.sql(query, params);
const outboxTemplates = async (to: string) =>
  (await sql(`select template from outbox_emails where recipient = ? order by created_at`, [to])).map((r) => r.template as string);
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** The outbox templates for an address once the mail worker has decided its deferred requests (after the answer). */
async function settledTemplates(to: string): Promise<string[]> {
  await eventually(async () => {
    const [row] = await sql(`select count(*)::int as n from outbox_emails where recipient = ? and payload ->> 'deferred' is not null`, [to]);
    expect(row!.n).toBe(0);
  });
  return outboxTemplates(to);
}

/** Signs up an unverified account and returns it with the token of its verification email. */
async function unverifiedAccount(prefix: string) {
  const account = newAccount(prefix);
  const res = await t.gql(SIGN_UP, { input: account });
  expect(res.errors).toBeUndefined();
  const mail = await t.inbox.waitFor(account.email, /confirm your email/i);
  return { ...account, id: res.data!.signUp.user.id as string, token: linkToken(mail, 'verify-email') };
}

const verify = (token: string) => t.gql(VERIFY, { t: token });

describe('verifyEmail', () => {
  it('confirms the address once; the same token then gives INVALID_TOKEN', async () => {
    const account = await unverifiedAccount('ve');

    expect(await verify(account.token)).toMatchObject({ status: 200, data: { verifyEmail: true } });
    const login = await t.gql(LOG_IN, { input: { usernameOrEmail: account.username, password: account.password } });
    expect(login.errors).toBeUndefined();
    expect(login.data!.logIn.user.emailVerified).toBe(true);

    const again = await verify(account.token);
    expect(codes(again)).toEqual(['INVALID_TOKEN']);
    expect(again.data).toBeNull();
  });

  it('answers an unknown token with INVALID_TOKEN', async () => {
    for (const token of ['', 'not-a-token', 'A'.repeat(43)]) {
      expect(codes(await verify(token))).toEqual(['INVALID_TOKEN']);
    }
  });

  it('does not accept a password-reset token', async () => {
    const account = await unverifiedAccount('vp');
    expect((await t.gql(REQUEST_RESET, { e: account.email })).data).toEqual({ requestPasswordReset: true });
    const reset = await t.inbox.waitFor(account.email, /reset your password/i);

    expect(codes(await verify(linkToken(reset, 'reset-password')))).toEqual(['INVALID_TOKEN']);
    expect((await sql(`select email_verified_at from users where id = ?`, [account.id]))[0]!.email_verified_at).toBeNull();
  });

  it('stores tokens only as SHA-256 hashes', async () => {
    const account = await unverifiedAccount('vh');
    const rows = await sql(`select * from one_time_tokens where user_id = ?`, [account.id]);

    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(sha256(account.token));
    expect(JSON.stringify(rows)).not.toContain(account.token);
    const anywhere = await sql(`select count(*)::int as n from one_time_tokens t where position(? in t::text) > 0`, [account.token]);
    expect(anywhere[0]!.n).toBe(0);
  });

  it('lets exactly one of 20 concurrent redemptions of a token succeed, and the rest get INVALID_TOKEN', async () => {
    const account = await unverifiedAccount('vc');
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(account.token)));

    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.filter((r) => r.data?.verifyEmail === true)).toHaveLength(1);
    expect(results.flatMap(codes).sort()).toEqual(Array(19).fill('INVALID_TOKEN'));
  });
});

describe('resendVerificationEmail', () => {
  it('answers true for an unknown email and mails nothing', async () => {
    const email = newAccount('vu').email;
    expect(await t.gql(RESEND, { e: email })).toMatchObject({ status: 200, data: { resendVerificationEmail: true } });
    expect(await settledTemplates(email)).toEqual([]);
    expect(t.inbox.to(email)).toEqual([]);
  });

  it('answers true for a verified account and mails nothing', async () => {
    const user = await createVerifiedUser(t, 'vv');
    const res = await t.gql(RESEND, { e: user.email.toUpperCase() });
    expect(res).toMatchObject({ status: 200, data: { resendVerificationEmail: true } });
    expect(res.errors).toBeUndefined();
    expect(await settledTemplates(user.email)).toEqual(['verify-email']);
    expect(t.inbox.to(user.email)).toHaveLength(1);
  });

  it('answers true for a deleted unverified account and mails nothing', async () => {
    const account = await unverifiedAccount('vd');
    await sql(`update users set deleted_at = now() where id = ?`, [account.id]);
    expect((await t.gql(RESEND, { e: account.email })).data).toEqual({ resendVerificationEmail: true });
    expect(await settledTemplates(account.email)).toEqual(['verify-email']);
    expect(t.inbox.to(account.email)).toHaveLength(1);
  });

  it('answers true for an unverified account and mails it a fresh link that works', async () => {
    const account = await unverifiedAccount('vr');
    const res = await t.gql(RESEND, { e: `  ${account.email.toUpperCase()} ` });
    expect(res).toMatchObject({ status: 200, data: { resendVerificationEmail: true } });
    expect(res.errors).toBeUndefined();

    const mail = await t.inbox.waitFor(account.email, /confirm your email/i, { count: 2 });
    const token = linkToken(mail, 'verify-email');
    expect(token).not.toBe(account.token);
    expect(mail.text).toContain(`http://posture.test/verify-email?token=${token}`);
    expect(await verify(token)).toMatchObject({ data: { verifyEmail: true } });
  });
});

// Last: it moves the file's clock past the verification lifetime.
describe('after the verification lifetime (24 hours)', () => {
  it('answers an expired token with INVALID_TOKEN', async () => {
    const account = await unverifiedAccount('vx');
    t.clock.advance(24 * 3600 + 60);
    expect(codes(await verify(account.token))).toEqual(['INVALID_TOKEN']);
    const [row] = await sql(`select used_at, expires_at < ? as expired from one_time_tokens where token_hash = ?`, [
      t.clock.now(),
      sha256(account.token),
    ]);
    expect(row).toEqual({ used_at: null, expired: true });
    expect((await sql(`select email_verified_at from users where id = ?`, [account.id]))[0]!.email_verified_at).toBeNull();
  });
});
