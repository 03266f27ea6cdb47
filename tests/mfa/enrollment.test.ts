import { TOTP, URI } from 'otpauth';
import { auditRows } from '../support/audit';
import { codes, firstCode, ok } from '../support/graphql';
import { bearer, createVerifiedUser, LOG_IN, startTestApp, withEnv, type TestApp } from '../support/test-app';
import { alignToStep, BEGIN, codeAt, CONFIRM, count, DISABLE, enroll, logIn, ME_TOTP, MFA_TEST_ENV, nextStep, REGENERATE, type TestUser } from './support';

// Turning two-factor on and off, and the recovery codes, as a signed-in account does it.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: MFA_TEST_ENV });
});
afterAll(() => t.stop());

const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/;

/** A second session of `user`, to see what enabling and disabling do to the others. */
async function secondSession(user: TestUser): Promise<string> {
  return ok(await t.gql(LOG_IN, { input: { usernameOrEmail: user.email, password: user.password } })).logIn.accessToken;
}

describe('beginTotpEnrollment', () => {
  it('gives a base32 secret, its otpauth URI (Posture, the email) and an SVG QR code, and enforces nothing yet', async () => {
    const user = await createVerifiedUser(t, 'beg');
    const enrollment = ok(await t.gql(BEGIN, {}, bearer(user))).beginTotpEnrollment;
    expect(enrollment.secret).toMatch(/^[A-Z2-7]{32}$/); // 20 bytes
    const parsed = URI.parse(enrollment.otpauthUrl) as TOTP;
    expect(parsed).toBeInstanceOf(TOTP);
    expect({ issuer: parsed.issuer, label: parsed.label, algorithm: parsed.algorithm, digits: parsed.digits, period: parsed.period }).toEqual({
      issuer: 'Posture',
      label: user.email,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    expect(parsed.secret.base32).toBe(enrollment.secret);
    expect(enrollment.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(enrollment.qrSvg.trim()).toMatch(/<\/svg>$/);

    // Pending: logIn still issues tokens, and the account says it is off.
    expect(ok(await logIn(t, user)).logIn.accessToken).toEqual(expect.any(String));
    expect(ok(await t.gql(ME_TOTP, {}, bearer(user))).me.totpEnabled).toBe(false);
    expect((await t.sql(`select totp_enabled_at from users where id = ?`, [user.id]))[0]!.totp_enabled_at).toBeNull();
  });

  it('replaces a pending secret when called again: a code of the first one no longer confirms', async () => {
    const user = await createVerifiedUser(t, 'rep');
    alignToStep(t);
    const first = ok(await t.gql(BEGIN, {}, bearer(user))).beginTotpEnrollment.secret;
    const second = ok(await t.gql(BEGIN, {}, bearer(user))).beginTotpEnrollment.secret;
    expect(second).not.toBe(first);
    expect(await count(t, 'totp_credentials', 'user_id = ?', [user.id])).toBe(1);
    expect(firstCode(await t.gql(CONFIRM, { code: codeAt(t, first) }, bearer(user)))).toBe('INVALID_CREDENTIALS');
    expect(ok(await t.gql(CONFIRM, { code: codeAt(t, second) }, bearer(user))).confirmTotpEnrollment.codes).toHaveLength(10);
  });

  it('is CONFLICT once two-factor is on, and the confirmed secret stays', async () => {
    const user = await createVerifiedUser(t, 'con');
    const { secret } = await enroll(t, user);
    const sealed = await t.sql(`select sealed_secret from totp_credentials where user_id = ?`, [user.id]);
    expect(firstCode(await t.gql(BEGIN, {}, bearer(user)))).toBe('CONFLICT');
    expect(firstCode(await t.gql(CONFIRM, { code: codeAt(t, secret) }, bearer(user)))).toBe('CONFLICT');
    expect(await t.sql(`select sealed_secret from totp_credentials where user_id = ?`, [user.id])).toEqual(sealed);
  });
});

describe('confirmTotpEnrollment', () => {
  it('without a pending enrollment is CONFLICT with reason NO_PENDING_ENROLLMENT', async () => {
    const user = await createVerifiedUser(t, 'nop');
    const res = await t.gql(CONFIRM, { code: '123456' }, bearer(user));
    expect(codes(res)).toEqual(['CONFLICT']);
    expect(res.errors![0]!.extensions).toMatchObject({ reason: 'NO_PENDING_ENROLLMENT' });
    expect(res.errors![0]!.message).toMatch(/beginTotpEnrollment/);
  });

  it('refuses a wrong or malformed code with INVALID_CREDENTIALS and turns nothing on', async () => {
    const user = await createVerifiedUser(t, 'wrc');
    alignToStep(t);
    const { secret } = ok(await t.gql(BEGIN, {}, bearer(user))).beginTotpEnrollment;
    const right = codeAt(t, secret);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    for (const code of [wrong, codeAt(t, secret, 2), codeAt(t, secret, -2), '', 'abcdef', '1'.repeat(65), `${right}0`]) {
      expect({ code, answer: codes(await t.gql(CONFIRM, { code }, bearer(user))) }).toEqual({ code, answer: ['INVALID_CREDENTIALS'] });
    }
    expect(codes(await t.gql(CONFIRM, { code: `12\u000034` }, bearer(user)))).toEqual(['BAD_USER_INPUT']);
    expect(ok(await t.gql(ME_TOTP, {}, bearer(user))).me.totpEnabled).toBe(false);
    // A code typed with a space still counts.
    expect(ok(await t.gql(CONFIRM, { code: `${right.slice(0, 3)} ${right.slice(3)}` }, bearer(user))).confirmTotpEnrollment.codes).toHaveLength(10);
  });

  it('turns two-factor on: ten recovery codes, the notice, the event, and the other sessions ended (this one stays)', async () => {
    const user = await createVerifiedUser(t, 'ena');
    const other = await secondSession(user);
    alignToStep(t);
    const { secret } = ok(await t.gql(BEGIN, {}, bearer(user))).beginTotpEnrollment;
    const recovery = ok(await t.gql(CONFIRM, { code: codeAt(t, secret) }, bearer(user))).confirmTotpEnrollment.codes as string[];
    expect(recovery).toHaveLength(10);
    for (const code of recovery) expect(code).toMatch(RECOVERY_CODE);
    expect(new Set(recovery).size).toBe(10);
    expect(await count(t, 'recovery_codes', 'user_id = ? and used_at is null', [user.id])).toBe(10);

    expect(ok(await t.gql(ME_TOTP, {}, bearer(user))).me).toEqual({ id: user.id, totpEnabled: true });
    expect(firstCode(await t.gql(ME_TOTP, {}, { token: other }))).toBe('UNAUTHENTICATED');

    const notice = await t.inbox.waitFor(user.email, /^Two-factor sign-in is on$/);
    expect(notice.text).toMatch(/other sessions were signed out/);
    expect(notice.text).toMatch(/reset-password|forgot-password/);
    const [event] = await auditRows(t, { action: 'mfa.enabled', targetId: user.id });
    expect(event).toMatchObject({ actor_id: user.id, target_type: 'user', changes: { revokedSessions: 1 } });
  });
});

describe('exportMyData', () => {
  it('says when two-factor was turned on, and holds neither the secret nor a recovery code', async () => {
    const user = await createVerifiedUser(t, 'xp');
    const off = ok(await t.gql(`{ exportMyData }`, {}, bearer(user))).exportMyData;
    expect(off.account.totpEnabledAt).toBeNull();
    const { secret, codes: recovery } = await enroll(t, user);
    const data = ok(await t.gql(`{ exportMyData }`, {}, bearer(user))).exportMyData;
    expect(data.account.totpEnabledAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    const text = JSON.stringify(data);
    expect(text).not.toContain(secret);
    for (const code of recovery) expect(text).not.toContain(code);
  });
});

describe('regenerateRecoveryCodes', () => {
  it('replaces every code with ten new ones, with a current code, and records it', async () => {
    const user = await createVerifiedUser(t, 'reg');
    const { secret, codes: old } = await enroll(t, user);
    expect(firstCode(await t.gql(REGENERATE, { code: '000000' }, bearer(user)))).toBe('INVALID_CREDENTIALS');
    const fresh = ok(await t.gql(REGENERATE, { code: codeAt(t, secret) }, bearer(user))).regenerateRecoveryCodes.codes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => old.includes(c))).toEqual([]);
    expect(await count(t, 'recovery_codes', 'user_id = ?', [user.id])).toBe(10);
    // An old code is no longer one; a new one is, once.
    expect(firstCode(await t.gql(REGENERATE, { code: old[0] }, bearer(user)))).toBe('INVALID_CREDENTIALS');
    const again = ok(await t.gql(REGENERATE, { code: fresh[0] }, bearer(user))).regenerateRecoveryCodes.codes;
    expect(again).toHaveLength(10);
    expect((await auditRows(t, { action: 'mfa.recovery_codes_regenerated', targetId: user.id })).map((r) => r.changes)).toEqual([
      { factor: 'totp' },
      { factor: 'recovery_code' },
    ]);
    expect((await auditRows(t, { action: 'mfa.failed', targetId: user.id })).map((r) => r.changes)).toEqual([
      { operation: 'regenerateRecoveryCodes' },
      { operation: 'regenerateRecoveryCodes' },
    ]);
  });

  it('is CONFLICT while two-factor is off', async () => {
    const user = await createVerifiedUser(t, 'rgo');
    expect(firstCode(await t.gql(REGENERATE, { code: '123456' }, bearer(user)))).toBe('CONFLICT');
  });
});

describe('disableTotp', () => {
  it('turns two-factor off with a current code: the secret and codes go, the notice, the event, the other sessions end', async () => {
    const user = await createVerifiedUser(t, 'dis');
    const { secret } = await enroll(t, user);
    const other = await (async () => {
      nextStep(t);
      const res = await logIn(t, user);
      const challenge = res.errors![0]!.extensions!.challenge as string;
      return ok(await t.gql(`mutation ($c: String!, $k: String!) { completeMfaLogIn(challenge: $c, code: $k) { accessToken } }`, { c: challenge, k: codeAt(t, secret) }))
        .completeMfaLogIn.accessToken as string;
    })();
    nextStep(t);
    expect(firstCode(await t.gql(DISABLE, { code: '999999' }, bearer(user)))).toBe('INVALID_CREDENTIALS');
    expect(ok(await t.gql(DISABLE, { code: codeAt(t, secret) }, bearer(user))).disableTotp).toBe(true);

    expect(ok(await t.gql(ME_TOTP, {}, bearer(user))).me.totpEnabled).toBe(false);
    expect(firstCode(await t.gql(ME_TOTP, {}, { token: other }))).toBe('UNAUTHENTICATED');
    expect(await count(t, 'totp_credentials', 'user_id = ?', [user.id])).toBe(0);
    expect(await count(t, 'recovery_codes', 'user_id = ?', [user.id])).toBe(0);
    // logIn issues tokens again.
    expect(ok(await logIn(t, user)).logIn.accessToken).toEqual(expect.any(String));

    const notice = await t.inbox.waitFor(user.email, /^Two-factor sign-in is off$/);
    expect(notice.text).toMatch(/was turned off for your Posture account at \d{4}-\d\d-\d\dT/);
    expect(notice.text).not.toMatch(/administrator/);
    const [event] = await auditRows(t, { action: 'mfa.disabled', targetId: user.id });
    expect(event).toMatchObject({ actor_id: user.id, changes: { factor: 'totp', revokedSessions: 1 } });
    expect(await auditRows(t, { action: 'mfa.failed', targetId: user.id })).toEqual([
      expect.objectContaining({ actor_id: user.id, changes: { operation: 'disableTotp' } }),
    ]);
    // Off is off: a second disable is CONFLICT, and enrolling anew works.
    expect(firstCode(await t.gql(DISABLE, { code: codeAt(t, secret) }, bearer(user)))).toBe('CONFLICT');
    await enroll(t, user);
  });

  it('takes a recovery code in place of a TOTP code', async () => {
    const user = await createVerifiedUser(t, 'dir');
    const { codes: recovery } = await enroll(t, user);
    expect(ok(await t.gql(DISABLE, { code: recovery[3]!.toUpperCase() }, bearer(user))).disableTotp).toBe(true);
    expect((await auditRows(t, { action: 'mfa.disabled', targetId: user.id }))[0]!.changes).toMatchObject({ factor: 'recovery_code' });
  });
});

describe('the code-taking mutations', () => {
  it('are limited per account by default (5 a minute)', async () => {
    const user = await createVerifiedUser(t, 'lim');
    ok(await t.gql(BEGIN, {}, bearer(user)));
    await withEnv(t, { RATE_LIMITS: MFA_TEST_ENV.RATE_LIMITS.replace(/,confirmTotpEnrollment\.user=100000\/60/, '') }, async () => {
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(firstCode(await t.gql(CONFIRM, { code: '000000' }, bearer(user))));
      expect(answers).toEqual([...Array(5).fill('INVALID_CREDENTIALS'), 'RATE_LIMITED']);
    });
  });

  it('are one per request', async () => {
    const user = await createVerifiedUser(t, 'one');
    const res = await t.gql(`mutation { a: confirmTotpEnrollment(code: "123456") { codes } b: confirmTotpEnrollment(code: "654321") { codes } }`, {}, bearer(user));
    expect(res.status).toBe(400);
    expect(codes(res)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors!.map((e) => e.message)).toContain('confirmTotpEnrollment may be called only once per request.');
  });
});

