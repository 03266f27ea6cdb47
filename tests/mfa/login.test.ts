import { randomBytes } from 'node:crypto';
import { captureLead, LOG_IN_WITH_LINK } from '../assessments/support';
import { auditRows } from '../support/audit';
import { codes, firstCode, ok } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { bearer, createSuperuser, startTestApp, type TestApp } from '../support/test-app';
import { challengeOf, codeAt, complete, count, createMfaUser, logIn, MFA_TEST_ENV, newChallenge, nextStep, alignToStep } from './support';

// The second step on every way in: MFA_REQUIRED with a challenge instead of tokens, then
// completeMfaLogIn with a TOTP or recovery code.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: MFA_TEST_ENV });
});
afterAll(() => t.stop());

const sessionsOf = (userId: string) => count(t, 'sessions', 'user_id = ?', [userId]);
const wrongOf = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

describe('logIn with two-factor on', () => {
  it('answers MFA_REQUIRED with a challenge and no tokens; completeMfaLogIn with a code starts the session', async () => {
    const user = await createMfaUser(t, 'li');
    const before = await sessionsOf(user.id);
    const res = await logIn(t, user);
    expect(res.data).toBeNull();
    expect(codes(res)).toEqual(['MFA_REQUIRED']);
    const challenge = challengeOf(res);
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(res)).not.toMatch(/accessToken|refreshToken/);
    expect(await sessionsOf(user.id)).toBe(before);
    // Stored hashed, for 5 minutes, for the password way in.
    const [row] = await t.sql(`select token_hash, via, failed_attempts, used_at, extract(epoch from expires_at - created_at) as ttl from mfa_challenges where user_id = ?`, [user.id]);
    expect(row).toMatchObject({ via: 'password', failed_attempts: 0, used_at: null });
    expect(Number(row!.ttl)).toBe(300);
    expect(row!.token_hash).not.toBe(challenge);

    const payload = ok(await complete(t, challenge, codeAt(t, user.secret))).completeMfaLogIn;
    expect(payload.user).toMatchObject({ id: user.id, totpEnabled: true });
    expect(ok(await t.gql(`{ me { id } }`, {}, { token: payload.accessToken })).me.id).toBe(user.id);
    expect(ok(await t.gql(`mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, { t: payload.refreshToken })).refreshSession.accessToken).toEqual(expect.any(String));
    expect(await sessionsOf(user.id)).toBe(before + 1);
    const loggedIn = await auditRows(t, { action: 'user.logged_in', targetId: user.id });
    expect(loggedIn.at(-1)!.changes).toEqual({ sessionId: expect.any(String) });
  });

  it('spends a challenge once: a second use, even with a new code, is INVALID_TOKEN', async () => {
    const user = await createMfaUser(t, 'su');
    const challenge = await newChallenge(t, user);
    ok(await complete(t, challenge, codeAt(t, user.secret)));
    nextStep(t);
    expect(firstCode(await complete(t, challenge, codeAt(t, user.secret)))).toBe('INVALID_TOKEN');
    expect(firstCode(await complete(t, challenge, user.codes[0]!))).toBe('INVALID_TOKEN');
  });

  it('refuses a code already used, in another challenge of the same step', async () => {
    const user = await createMfaUser(t, 'ru');
    const code = codeAt(t, user.secret);
    ok(await complete(t, await newChallenge(t, user), code));
    expect(firstCode(await complete(t, await newChallenge(t, user), code))).toBe('INVALID_CREDENTIALS');
    // Nor any code of that step or an earlier one, once a later step is used.
    const challenge = await newChallenge(t, user);
    ok(await complete(t, challenge, codeAt(t, user.secret, 1)));
    expect(firstCode(await complete(t, await newChallenge(t, user), codeAt(t, user.secret)))).toBe('INVALID_CREDENTIALS');
  });

  it('accepts a code of the previous and of the next step, and refuses one two steps away either side', async () => {
    const user = await createMfaUser(t, 'win');
    alignToStep(t);
    expect(firstCode(await complete(t, await newChallenge(t, user), codeAt(t, user.secret, -2)))).toBe('INVALID_CREDENTIALS');
    expect(firstCode(await complete(t, await newChallenge(t, user), codeAt(t, user.secret, 2)))).toBe('INVALID_CREDENTIALS');
    ok(await complete(t, await newChallenge(t, user), codeAt(t, user.secret, -1)));
    nextStep(t);
    nextStep(t);
    alignToStep(t);
    ok(await complete(t, await newChallenge(t, user), codeAt(t, user.secret, 1)));
  });

  it('kills a challenge after 5 wrong codes: the right code is then INVALID_TOKEN; each failure is recorded', async () => {
    const user = await createMfaUser(t, 'kil');
    const challenge = await newChallenge(t, user);
    const right = codeAt(t, user.secret);
    const wrong = [wrongOf(right), '000000', 'abcde-fghjk', 'not a code', '1'.repeat(70)];
    for (const code of wrong) expect({ code, answer: codes(await complete(t, challenge, code)) }).toEqual({ code, answer: ['INVALID_CREDENTIALS'] });
    expect(firstCode(await complete(t, challenge, right))).toBe('INVALID_TOKEN');
    const [row] = await t.sql(`select failed_attempts, used_at from mfa_challenges where user_id = ?`, [user.id]);
    expect(row).toEqual({ failed_attempts: 5, used_at: null });
    const failures = await auditRows(t, { action: 'mfa.failed', targetId: user.id });
    expect(failures.map((f) => f.changes)).toEqual([1, 2, 3, 4, 5].map((attempts) => ({ via: 'password', attempts, challengeDead: attempts === 5 })));
    for (const f of failures) expect(f).toMatchObject({ actor_id: null, target_type: 'user', ip: expect.any(String) });
    // The code was not spent: a new challenge takes it.
    ok(await complete(t, await newChallenge(t, user), right));
  });

  it('tells the account when a sign-in with its password dies at the second step, at most once an hour', async () => {
    const user = await createMfaUser(t, 'alr');
    const killChallenge = async () => {
      const challenge = await newChallenge(t, user);
      for (let i = 0; i < 5; i++) expect(codes(await complete(t, challenge, wrongOf(codeAt(t, user.secret))))).toEqual(['INVALID_CREDENTIALS']);
    };
    // Four wrong codes are a person fumbling: no mail yet.
    const fumbled = await newChallenge(t, user);
    for (let i = 0; i < 4; i++) await complete(t, fumbled, wrongOf(codeAt(t, user.secret)));
    await killChallenge();
    const mail = await t.inbox.waitFor(user.email, /second step/i);
    expect(mail.text).toMatch(/password/i);
    expect(mail.text).toContain('http://posture.test/forgot-password');
    expect(mail.text).not.toMatch(/\b\d{6}\b/); // no code, and no challenge, in it
    // A second dead challenge within the hour sends nothing more; an hour later, one more.
    await killChallenge();
    expect(await count(t, 'outbox_emails', `recipient = ? and template = 'second-step-failed'`, [user.email])).toBe(1);
    t.clock.advance(3601);
    await killChallenge();
    expect(await count(t, 'outbox_emails', `recipient = ? and template = 'second-step-failed'`, [user.email])).toBe(2);
  });

  it('refuses an expired, unknown or malformed challenge with INVALID_TOKEN', async () => {
    const user = await createMfaUser(t, 'exp');
    const challenge = await newChallenge(t, user);
    t.clock.advance(5 * 60 + 1);
    expect(firstCode(await complete(t, challenge, codeAt(t, user.secret)))).toBe('INVALID_TOKEN');
    for (const bad of [randomBytes(32).toString('base64url'), 'short', '', 'x'.repeat(300)]) {
      expect({ bad, answer: codes(await complete(t, bad, codeAt(t, user.secret))) }).toEqual({ bad, answer: ['INVALID_TOKEN'] });
    }
    expect(codes(await complete(t, `${challenge.slice(0, 10)}\u0000`, '123456'))).toEqual(['BAD_USER_INPUT']);
  });

  it('takes each recovery code once, in any case and with or without its dash', async () => {
    const user = await createMfaUser(t, 'rec');
    const [a, b, c] = user.codes as [string, string, string];
    ok(await complete(t, await newChallenge(t, user), a));
    expect(firstCode(await complete(t, await newChallenge(t, user), a))).toBe('INVALID_CREDENTIALS');
    ok(await complete(t, await newChallenge(t, user), b.toUpperCase().replace('-', '')));
    ok(await complete(t, await newChallenge(t, user), ` ${c.replace('-', ' ')} `));
    expect(await count(t, 'recovery_codes', 'user_id = ? and used_at is not null', [user.id])).toBe(3);
    expect(await count(t, 'recovery_codes', 'user_id = ? and used_at is null', [user.id])).toBe(7);
  });

  it('dies with the account: a disabled account, or one whose two-factor staff turned off, cannot pass its challenge', async () => {
    const admin = await createSuperuser(t, 'lia');
    const user = await createMfaUser(t, 'dea');
    const challenge = await newChallenge(t, user);
    await t.sql(`update users set status = 'disabled' where id = ?`, [user.id]);
    expect(firstCode(await complete(t, challenge, codeAt(t, user.secret)))).toBe('INVALID_TOKEN');
    await t.sql(`update users set status = 'active' where id = ?`, [user.id]);

    const second = await newChallenge(t, user);
    ok(await t.gql(`mutation ($id: ID!) { adminDisableTotp(userId: $id) }`, { id: user.id }, bearer(admin)));
    expect(firstCode(await complete(t, second, codeAt(t, user.secret)))).toBe('INVALID_TOKEN');
  });
});

describe('logInWithLink with two-factor on', () => {
  it('spends the link and converts the leads, but answers MFA_REQUIRED with no tokens; the challenge then signs in', async () => {
    const user = await createMfaUser(t, 'lnk');
    const lead = await captureLead(t, { email: user.email });
    const token = linkToken(await t.inbox.waitFor(user.email, /Save your Posture results/), 'login');
    const before = await sessionsOf(user.id);

    const res = await t.gql(LOG_IN_WITH_LINK, { t: token });
    expect(res.data).toBeNull();
    expect(codes(res)).toEqual(['MFA_REQUIRED']);
    const challenge = challengeOf(res);
    expect(await sessionsOf(user.id)).toBe(before);
    // The conversion committed all the same.
    const [leadRow] = await t.sql(`select converted_at, converted_user_id from leads where id = ?`, [lead.leadId]);
    expect(leadRow).toEqual({ converted_at: expect.anything(), converted_user_id: user.id });
    expect(await count(t, 'lead_sessions', 'lead_id = ? and revoked_at is null', [lead.leadId])).toBe(0);
    expect((await t.sql(`select via from mfa_challenges where user_id = ? order by created_at desc limit 1`, [user.id]))[0]).toEqual({ via: 'link' });
    // The link is spent.
    expect(firstCode(await t.gql(LOG_IN_WITH_LINK, { t: token }))).toBe('INVALID_TOKEN');

    const payload = ok(await complete(t, challenge, codeAt(t, user.secret))).completeMfaLogIn;
    expect(payload.user.id).toBe(user.id);
    expect(await sessionsOf(user.id)).toBe(before + 1);
  });

  it('answers MFA_REQUIRED for a requested login link too', async () => {
    const user = await createMfaUser(t, 'rql');
    ok(await t.gql(`mutation ($e: String!) { requestLoginLink(email: $e) }`, { e: user.email }));
    const token = linkToken(await t.inbox.waitFor(user.email, /^Sign in to Posture$/), 'login');
    const challenge = challengeOf(await t.gql(LOG_IN_WITH_LINK, { t: token }));
    ok(await complete(t, challenge, user.codes[9]!));
  });
});
