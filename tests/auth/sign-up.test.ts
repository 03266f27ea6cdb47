import { codes } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { createVerifiedUser, LOG_IN, newAccount, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const VERIFY = `mutation ($t: String!) { verifyEmail(token: $t) }`;

const sql = (query: string, params: unknown[] = []) => t.sql(query, params);

const usersWithEmail = (email: string) => sql(`select id, username, name, deleted_at from users where email = ? order by created_at`, [email]);
const outboxTemplates = async (to: string) =>
  (await sql(`select template from outbox_emails where recipient = ? order by created_at`, [to])).map((r) => r.template as string);

const signUp = (input: Record<string, string>) => t.gql(SIGN_UP, { input });

/** The field named by a sign-up rejected as BAD_USER_INPUT. */
async function rejectedField(input: Record<string, string>): Promise<unknown> {
  const res = await signUp(input);
  expect(res.status).toBe(200);
  expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  return res.errors![0]!.extensions!.field;
}

describe('signUp', () => {
  it('creates an unverified account with the email and username trimmed and lower-cased, and emails a verification link', async () => {
    const account = newAccount('su');
    const res = await signUp({
      ...account,
      email: `  ${account.email.toUpperCase()}\t`,
      username: ` ${account.username.toUpperCase()} `,
      name: `  ${account.name}  `,
    });

    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data!.signUp.user).toMatchObject({
      email: account.email,
      username: account.username,
      name: account.name,
      emailVerified: false,
      isSuperuser: false,
    });
    const [row] = await sql(`select id, email, username, email_verified_at, password_hash from users where id = ?`, [
      res.data!.signUp.user.id,
    ]);
    expect(row).toMatchObject({ email: account.email, username: account.username, email_verified_at: null });
    expect(row!.password_hash).toMatch(/^\$argon2id\$/);

    const mail = await t.inbox.waitFor(account.email, /confirm your email/i);
    expect(mail.text).toContain(`http://posture.test/verify-email?token=${linkToken(mail, 'verify-email')}`);
  });

  describe('input rules', () => {
    it.each([
      ['not an address', 'not-an-email'],
      ['no domain', 'ada@'],
      ['no dot in the domain', 'ada@example'],
      ['a space inside', 'ada lovelace@example.com'],
      ['blank', '   '],
    ])('rejects an email with %s (field email)', async (_label, email) => {
      expect(await rejectedField({ ...newAccount('se'), email })).toBe('email');
    });

    it.each([
      ['one character', 'a'],
      ['21 characters', 'a'.repeat(21)],
      ['a hyphen', 'ada-lovelace'],
      ['a space inside', 'ada lovelace'],
      ['a dot', 'ada.l'],
      ['a non-ASCII letter', 'émile_2'],
    ])('rejects a username with %s (field username)', async (_label, username) => {
      expect(await rejectedField({ ...newAccount('sn'), username })).toBe('username');
    });

    it('accepts usernames of 2 and 20 characters of [a-z0-9_]', async () => {
      for (const username of ['q7', 'abcdefghij_123456789']) {
        const res = await signUp({ ...newAccount('sl'), username });
        expect(res.errors).toBeUndefined();
        expect(res.data!.signUp.user.username).toBe(username);
      }
    });

    it.each([
      ['one character', 'A'],
      ['one character padded with spaces', '   A   '],
      ['51 characters', 'x'.repeat(51)],
    ])('rejects a name with %s (field name)', async (_label, name) => {
      expect(await rejectedField({ ...newAccount('sm'), name })).toBe('name');
    });

    it('accepts names of 2 and 50 characters', async () => {
      for (const name of ['Al', 'é'.repeat(50)]) {
        const res = await signUp({ ...newAccount('sa'), name });
        expect(res.errors).toBeUndefined();
        expect(res.data!.signUp.user.name).toBe(name);
      }
    });

    it.each([
      ['of 7 characters', 'k7#Qz!p'],
      ['of 1025 characters', 'k'.repeat(1025)],
      ['of 7 emoji (14 UTF-16 units)', '🔑🐢🌵🎻🧊🚲🦉'],
      ['of 1025 emoji', '🔑'.repeat(1025)],
      ['on the common list (password123)', 'password123'],
      ['on the common list (qwertyuiop)', 'qwertyuiop'],
    ])('rejects a password %s (field password)', async (_label, password) => {
      expect(await rejectedField({ ...newAccount('sp'), password })).toBe('password');
    });

    it('rejects a password equal to the email or the username (field password)', async () => {
      const a = newAccount('sq');
      expect(await rejectedField({ ...a, password: a.email })).toBe('password');
      const b = { ...newAccount('sq'), username: 'long_enough_name' };
      expect(await rejectedField({ ...b, password: b.username })).toBe('password');
      expect(await usersWithEmail(a.email)).toHaveLength(0);
      expect(await usersWithEmail(b.email)).toHaveLength(0);
    });

    it('accepts passwords of 8 and 1024 characters of any kind', async () => {
      for (const password of ['k7#Qz!pW', 'k'.repeat(1023) + '!', '🔑🐢🌵🎻🧊🚲🦉🍋', '🔑'.repeat(1024)]) {
        const res = await signUp({ ...newAccount('sk'), password });
        expect(res.errors).toBeUndefined();
      }
    });

    it('does not truncate long passwords: two 100-character passwords differing only at the end are different', async () => {
      const base = 'correct-horse-battery-staple-'.repeat(4).slice(0, 99);
      const account = { ...newAccount('st'), password: `${base}A` };
      expect((await signUp(account)).errors).toBeUndefined();
      const mail = await t.inbox.waitFor(account.email, /confirm your email/i);
      expect((await t.gql(VERIFY, { t: linkToken(mail, 'verify-email') })).data).toEqual({ verifyEmail: true });

      const wrong = await t.gql(LOG_IN, { input: { usernameOrEmail: account.username, password: `${base}B` } });
      expect(codes(wrong)).toEqual(['INVALID_CREDENTIALS']);
      const right = await t.gql(LOG_IN, { input: { usernameOrEmail: account.username, password: account.password } });
      expect(right.errors).toBeUndefined();
      expect(right.data!.logIn.user.username).toBe(account.username);
    });
  });

  describe('usernames', () => {
    it('answers a taken username with CONFLICT on field username, whatever its case or spacing', async () => {
      const owner = newAccount('sc');
      expect((await signUp(owner)).errors).toBeUndefined();
      const res = await signUp({ ...newAccount('sc'), username: `  ${owner.username.toUpperCase()} ` });
      expect(codes(res)).toEqual(['CONFLICT']);
      expect(res.errors![0]!.extensions!.field).toBe('username');
      expect(res.data).toBeNull();
    });
  });

  describe('an email that already has an account', () => {
    it('answers exactly like a new sign-up, creates no account and tells the owner instead', async () => {
      const owner = await createVerifiedUser(t, 'so');
      const fresh = await signUp(newAccount('sf'));
      const intruder = { ...newAccount('si'), email: `  ${owner.email.toUpperCase()} ` };

      const res = await signUp(intruder);

      expect(res.status).toBe(fresh.status);
      expect(res.errors).toBeUndefined();
      const user = res.data!.signUp.user;
      expect(Object.keys(user).sort()).toEqual(Object.keys(fresh.data!.signUp.user).sort());
      expect(user).toMatchObject({
        email: owner.email,
        username: intruder.username,
        name: intruder.name,
        emailVerified: false,
        isSuperuser: false,
      });
      expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(user.id).not.toBe(owner.id);

      const rows = await usersWithEmail(owner.email);
      expect(rows).toEqual([expect.objectContaining({ id: owner.id, username: owner.username, name: owner.name })]);
      expect(await sql(`select id from users where username = ?`, [intruder.username])).toHaveLength(0);

      const notice = await t.inbox.waitFor(owner.email, /someone tried to sign up/i);
      expect(notice.text).toContain(owner.name);
      expect(await outboxTemplates(owner.email)).toEqual(['verify-email', 'sign-up-attempt']);
      // The owner can still log in with their own password, and the intruder's does not work.
      const ownLogin = await t.gql(LOG_IN, { input: { usernameOrEmail: owner.email, password: owner.password } });
      expect(ownLogin.errors).toBeUndefined();
      const intruderLogin = await t.gql(LOG_IN, { input: { usernameOrEmail: owner.email, password: intruder.password } });
      expect(codes(intruderLogin)).toEqual(['INVALID_CREDENTIALS']);
    });

    it('reserves the username it was given, so that using it again is a CONFLICT as for a real account', async () => {
      const owner = newAccount('sr');
      expect((await signUp(owner)).errors).toBeUndefined();
      const probe = { ...newAccount('sr'), email: owner.email };
      expect((await signUp(probe)).errors).toBeUndefined();

      const again = await signUp({ ...newAccount('sr'), username: probe.username });
      const real = await signUp({ ...newAccount('sr'), username: owner.username });
      expect(codes(again)).toEqual(['CONFLICT']);
      expect(again.errors![0]).toEqual(real.errors![0]);
      expect(again.errors![0]!.extensions!.field).toBe('username');
    });

    it('ends with one account when 10 sign-ups with one email race, each answered as a success', async () => {
      const email = newAccount('sx').email;
      const results = await Promise.all(Array.from({ length: 10 }, () => signUp({ ...newAccount('sx'), email })));

      for (const res of results) {
        expect(res.status).toBe(200);
        expect(res.errors).toBeUndefined();
        expect(res.data!.signUp.user.email).toBe(email);
      }
      expect(await usersWithEmail(email)).toHaveLength(1);
      const templates = await outboxTemplates(email);
      expect(templates.filter((x) => x === 'verify-email')).toHaveLength(1);
      expect(templates.filter((x) => x === 'sign-up-attempt')).toHaveLength(9);
    });

    it('keeps the email of a deleted account held until it is purged: a sign-up answers as for an address in use and makes nothing', async () => {
      const old = newAccount('sd');
      const first = await signUp(old);
      await sql(`update users set status = 'deleted', deleted_at = now() where id = ?`, [first.data!.signUp.user.id]);

      const next = { ...newAccount('sd'), email: old.email };
      const res = await signUp(next);

      expect(res.errors).toBeUndefined();
      expect(res.data!.signUp.user).toMatchObject({ email: old.email, username: next.username, emailVerified: false });
      const rows = await usersWithEmail(old.email);
      expect(rows).toEqual([expect.objectContaining({ id: first.data!.signUp.user.id, username: old.username })]);
    });
  });
});
