import { codes, ok } from '../support/graphql';
import { linkToken, resetCode } from '../support/smtp';
import { CHEAP_HASHING, createSuperuser, createVerifiedUser, LOG_IN, newAccount, REFRESH, relaxedLimits, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';
import { ASSESSMENT_TEST_ENV, bestAnswers, captureLead, RELAXED_LEAD_LIMITS, START, SUBMIT, TEMPLATE } from '../assessments/support';
import { agent, AUDIT_LOG, countEvents, eventsOf, type AuditEventNode } from './support';

// Each event of the account, session and assessment flows, driven through the API with a user
// agent naming the step, then read back through auditLog by a superuser.

const SLUG = 'smb-baseline';
const VERIFY = `mutation ($t: String!) { verifyEmail(token: $t) }`;
const LOG_OUT = `mutation ($t: String) { logOut(refreshToken: $t) }`;
const LOG_OUT_EVERYWHERE = `mutation { logOutEverywhere }`;
const CHANGE_PASSWORD = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken refreshToken } }`;
const REQUEST_RESET = `mutation ($e: String!) { requestPasswordReset(email: $e) }`;
const RESET = `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }`;

let t: TestApp;
let admin: Awaited<ReturnType<typeof createSuperuser>>;
/** Every secret the tests handle: none may appear anywhere in the log. */
const secrets: string[] = [];

beforeAll(async () => {
  t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: relaxedLimits(...RELAXED_LEAD_LIMITS), ...CHEAP_HASHING } });
  admin = await createSuperuser(t);
});
afterAll(() => t.stop());

/** A verified, logged-in user whose password and tokens join the secrets. */
async function user(prefix: string) {
  const u = await createVerifiedUser(t, prefix);
  secrets.push(u.password, u.tokens.accessToken, u.tokens.refreshToken);
  return u;
}

function expectEvent(
  event: AuditEventNode | undefined,
  e: { action: string; actorId: string | null; targetType: string | null; targetId: string | null; step: string },
) {
  expect(event).toMatchObject({
    action: e.action,
    actorId: e.actorId,
    actor: e.actorId ? { id: e.actorId } : null,
    targetType: e.targetType,
    targetId: e.targetId,
    ip: '127.0.0.1',
    userAgent: `posture-audit-test/${e.step}`,
  });
  expect(Number.isNaN(Date.parse(event!.at))).toBe(false);
}

/** The one event of `action` sent by `step`'s client. */
async function eventOfStep(action: string, step: string, filter: Record<string, unknown> = {}): Promise<AuditEventNode> {
  const found = (await eventsOf(t, admin, { action, ...filter })).filter((e) => e.userAgent === `posture-audit-test/${step}`);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const sessionIds = async (userId: string) =>
  (await t.sql<{ id: string }>(`select id from sessions where user_id = ? order by created_at`, [userId])).map((r) => r.id);

describe('sign-up and verification', () => {
  it('user.signed_up: the new account, acting for itself; an address already in use records nothing', async () => {
    const account = newAccount('su');
    secrets.push(account.password);
    const id = ok(await t.gql(SIGN_UP, { input: account }, { headers: agent('sign-up') })).signUp.user.id as string;
    const event = await eventOfStep('user.signed_up', 'sign-up', { targetId: id });
    expectEvent(event, { action: 'user.signed_up', actorId: id, targetType: 'user', targetId: id, step: 'sign-up' });
    expect(event.changes).toBeNull();

    const before = await countEvents(t, 'user.signed_up');
    const again = { ...newAccount('sx'), email: account.email };
    secrets.push(again.password);
    const fake = ok(await t.gql(SIGN_UP, { input: again }, { headers: agent('sign-up-again') })).signUp.user.id as string;
    expect(await countEvents(t, 'user.signed_up')).toBe(before);
    expect(await eventsOf(t, admin, { targetId: fake })).toEqual([]);
  });

  it('user.verified: the account whose link was followed', async () => {
    const account = newAccount('ve');
    secrets.push(account.password);
    const id = ok(await t.gql(SIGN_UP, { input: account })).signUp.user.id as string;
    const token = linkToken(await t.inbox.waitFor(account.email, /confirm/i), 'verify-email');
    secrets.push(token);
    expect(ok(await t.gql(VERIFY, { t: token }, { headers: agent('verify') })).verifyEmail).toBe(true);
    expectEvent(await eventOfStep('user.verified', 'verify', { targetId: id }), {
      action: 'user.verified',
      actorId: id,
      targetType: 'user',
      targetId: id,
      step: 'verify',
    });
  });
});

describe('logIn', () => {
  it('user.logged_in: the account as actor and target, with the session it started', async () => {
    const u = await user('li');
    const tokens = ok(await t.gql(LOG_IN, { input: { usernameOrEmail: u.email, password: u.password } }, { headers: agent('log-in') })).logIn;
    secrets.push(tokens.accessToken, tokens.refreshToken);
    const event = await eventOfStep('user.logged_in', 'log-in', { targetId: u.id });
    expectEvent(event, { action: 'user.logged_in', actorId: u.id, targetType: 'user', targetId: u.id, step: 'log-in' });
    const sessions = await sessionIds(u.id);
    expect(sessions).toHaveLength(2);
    expect(event.changes).toEqual({ sessionId: sessions[1] });
  });

  it('user.login_failed: no actor, the account as target when there is one, and the reason; never the password or the name typed', async () => {
    const [wrong, disabled, passwordless] = await Promise.all([user('lw'), user('ld'), user('lp')]);
    const unverified = newAccount('lu');
    secrets.push(unverified.password);
    const unverifiedId = ok(await t.gql(SIGN_UP, { input: unverified })).signUp.user.id as string;
    await t.sql(`update users set status = 'disabled' where id = ?`, [disabled.id]);
    await t.sql(`update users set password_hash = null where id = ?`, [passwordless.id]);
    const unknownName = 'nobody-audit-test@example.com';
    const tooLong = 'x'.repeat(1100);

    const cases = [
      { step: 'fail-unknown', name: unknownName, password: 'some password 1', code: 'INVALID_CREDENTIALS', target: null, reason: 'unknown_account' },
      { step: 'fail-wrong', name: wrong.username, password: `${wrong.password}-not`, code: 'INVALID_CREDENTIALS', target: wrong.id, reason: 'wrong_password' },
      { step: 'fail-disabled', name: disabled.email, password: disabled.password, code: 'INVALID_CREDENTIALS', target: disabled.id, reason: 'not_active' },
      { step: 'fail-no-password', name: passwordless.email, password: passwordless.password, code: 'INVALID_CREDENTIALS', target: passwordless.id, reason: 'no_password' },
      { step: 'fail-unverified', name: unverified.email, password: unverified.password, code: 'EMAIL_NOT_VERIFIED', target: unverifiedId, reason: 'not_verified' },
      { step: 'fail-too-long', name: wrong.email, password: tooLong, code: 'INVALID_CREDENTIALS', target: null, reason: 'password_too_long' },
    ];
    for (const c of cases) {
      secrets.push(c.password);
      const res = await t.gql(LOG_IN, { input: { usernameOrEmail: c.name, password: c.password } }, { headers: agent(c.step) });
      expect(codes(res)).toEqual([c.code]);
      const event = await eventOfStep('user.login_failed', c.step);
      expectEvent(event, { action: 'user.login_failed', actorId: null, targetType: c.target ? 'user' : null, targetId: c.target, step: c.step });
      expect(event.changes).toEqual({ reason: c.reason });
    }
    const log = JSON.stringify(await eventsOf(t, admin, { action: 'user.login_failed' }));
    expect(log).not.toContain(unknownName);
    expect(log).not.toContain(wrong.username);
    // Nothing but the event was written: no session for any of them.
    for (const id of [wrong.id, disabled.id, passwordless.id, unverifiedId]) expect((await sessionIds(id)).length).toBeLessThanOrEqual(1);
  });
});

describe('sessions', () => {
  it('session.reuse_detected: the replayed session, its account as actor', async () => {
    const u = await user('rr');
    const rotated = ok(await t.gql(REFRESH, { t: u.tokens.refreshToken })).refreshSession;
    secrets.push(rotated.accessToken, rotated.refreshToken);
    t.clock.advance(31); // past the grace window
    expect(codes(await t.gql(REFRESH, { t: u.tokens.refreshToken }, { headers: agent('reuse') }))).toEqual(['INVALID_TOKEN']);
    const [sessionId] = await sessionIds(u.id);
    expectEvent(await eventOfStep('session.reuse_detected', 'reuse'), {
      action: 'session.reuse_detected',
      actorId: u.id,
      targetType: 'session',
      targetId: sessionId!,
      step: 'reuse',
    });
    // A replay of a family already ended is refused without another event.
    expect(codes(await t.gql(REFRESH, { t: u.tokens.refreshToken }, { headers: agent('reuse') }))).toEqual(['INVALID_TOKEN']);
    expect(await countEvents(t, 'session.reuse_detected', { targetId: sessionId })).toBe(1);
  });

  it('session.logged_out: the session ended, once, whether named by its refresh token or by the access token sent', async () => {
    const u = await user('lo');
    const [first] = await sessionIds(u.id);
    expect(ok(await t.gql(LOG_OUT, { t: u.tokens.refreshToken }, { headers: agent('log-out') })).logOut).toBe(true);
    expectEvent(await eventOfStep('session.logged_out', 'log-out', { targetId: first }), {
      action: 'session.logged_out',
      actorId: u.id,
      targetType: 'session',
      targetId: first!,
      step: 'log-out',
    });
    expect(ok(await t.gql(LOG_OUT, { t: u.tokens.refreshToken }, { headers: agent('log-out') })).logOut).toBe(true);
    expect(await countEvents(t, 'session.logged_out', { targetId: first })).toBe(1);

    const second = ok(await t.gql(LOG_IN, { input: { usernameOrEmail: u.email, password: u.password } })).logIn;
    secrets.push(second.accessToken, second.refreshToken);
    expect(ok(await t.gql(LOG_OUT, {}, { token: second.accessToken, headers: agent('log-out-bearer') })).logOut).toBe(true);
    const [, secondId] = await sessionIds(u.id);
    expectEvent(await eventOfStep('session.logged_out', 'log-out-bearer', { targetId: secondId }), {
      action: 'session.logged_out',
      actorId: u.id,
      targetType: 'session',
      targetId: secondId!,
      step: 'log-out-bearer',
    });
  });

  it('session.revoked: logOutEverywhere, one event with the count of sessions ended', async () => {
    const u = await user('le');
    const second = ok(await t.gql(LOG_IN, { input: { usernameOrEmail: u.email, password: u.password } })).logIn;
    secrets.push(second.accessToken, second.refreshToken);
    expect(ok(await t.gql(LOG_OUT_EVERYWHERE, {}, { token: u.tokens.accessToken, headers: agent('everywhere') })).logOutEverywhere).toBe(true);
    const event = await eventOfStep('session.revoked', 'everywhere', { targetId: u.id });
    expectEvent(event, { action: 'session.revoked', actorId: u.id, targetType: 'user', targetId: u.id, step: 'everywhere' });
    expect(event.changes).toEqual({ count: 2 });
  });
});

describe('passwords', () => {
  it('user.password_changed: the account, by itself', async () => {
    const u = await user('pc');
    const newPassword = `${u.password}-next`;
    secrets.push(newPassword);
    const res = ok(
      await t.gql(CHANGE_PASSWORD, { input: { currentPassword: u.password, newPassword } }, { token: u.tokens.accessToken, headers: agent('change') }),
    );
    secrets.push(res.changePassword.accessToken, res.changePassword.refreshToken);
    const event = await eventOfStep('user.password_changed', 'change', { targetId: u.id });
    expectEvent(event, { action: 'user.password_changed', actorId: u.id, targetType: 'user', targetId: u.id, step: 'change' });
    expect(event.changes).toBeNull();
  });

  it('user.password_reset: by the link and by the code, the account whose secret it was', async () => {
    const u = await user('pr');
    expect(ok(await t.gql(REQUEST_RESET, { e: u.email })).requestPasswordReset).toBe(true);
    const token = linkToken(await t.inbox.waitFor(u.email, /reset your password/i), 'reset-password');
    const byLink = `${u.password}-link`;
    secrets.push(token, byLink);
    expect(ok(await t.gql(RESET, { input: { token, newPassword: byLink } }, { headers: agent('reset-link') })).resetPassword).toBe(true);
    expectEvent(await eventOfStep('user.password_reset', 'reset-link', { targetId: u.id }), {
      action: 'user.password_reset',
      actorId: u.id,
      targetType: 'user',
      targetId: u.id,
      step: 'reset-link',
    });

    expect(ok(await t.gql(REQUEST_RESET, { e: u.email })).requestPasswordReset).toBe(true);
    const code = resetCode(await t.inbox.waitFor(u.email, /reset your password/i, { count: 2 }));
    const byCode = `${u.password}-code`;
    secrets.push(byCode);
    expect(ok(await t.gql(RESET, { input: { email: u.email, code, newPassword: byCode } }, { headers: agent('reset-code') })).resetPassword).toBe(true);
    const event = await eventOfStep('user.password_reset', 'reset-code', { targetId: u.id });
    expectEvent(event, { action: 'user.password_reset', actorId: u.id, targetType: 'user', targetId: u.id, step: 'reset-code' });
    expect(JSON.stringify(event)).not.toContain(`"${code}"`);
  });
});

describe('assessments', () => {
  let answers: unknown[];
  beforeAll(async () => {
    answers = bestAnswers(ok(await t.gql(TEMPLATE, { slug: SLUG })).assessmentTemplate);
  });

  async function takeOne(token: string, step: string) {
    const id = ok(await t.gql(START, { slug: SLUG }, { token })).startAssessment.assessment.id as string;
    const result = ok(await t.gql(SUBMIT, { id, answers }, { token, headers: agent(step) })).submitAssessment;
    return { id, result };
  }

  it('assessment.completed by an account: the account as actor, the assessment as target, once however often it is submitted', async () => {
    const u = await user('ac');
    const { id, result } = await takeOne(u.tokens.accessToken, 'submit-user');
    const event = await eventOfStep('assessment.completed', 'submit-user', { targetId: id });
    expectEvent(event, { action: 'assessment.completed', actorId: u.id, targetType: 'assessment', targetId: id, step: 'submit-user' });
    expect(event.changes).toEqual({ percentageScore: result.percentageScore, riskLevel: result.riskLevel });
    expect(event.changes).not.toHaveProperty('attestation');

    ok(await t.gql(SUBMIT, { id, answers }, { token: u.tokens.accessToken, headers: agent('submit-user') }));
    expect(await countEvents(t, 'assessment.completed', { targetId: id })).toBe(1);
  });

  it('assessment.completed by a lead: no actor, the lead named in changes', async () => {
    const lead = await captureLead(t);
    secrets.push(lead.token);
    const { id, result } = await takeOne(lead.token, 'submit-lead');
    const event = await eventOfStep('assessment.completed', 'submit-lead', { targetId: id });
    expectEvent(event, { action: 'assessment.completed', actorId: null, targetType: 'assessment', targetId: id, step: 'submit-lead' });
    expect(event.changes).toEqual({ percentageScore: result.percentageScore, riskLevel: result.riskLevel, leadId: lead.leadId });
    expect(JSON.stringify(event)).not.toContain(lead.email);
  });
});

describe('the whole log', () => {
  it('holds no secret: no password, token, hash or attestation, and no secret-named field in any changes', async () => {
    const pages: unknown[] = [];
    let after: string | null = null;
    for (;;) {
      const res: Record<string, any> = ok(await t.gql(AUDIT_LOG, { first: 50, after }, { token: admin.tokens.accessToken }));
      pages.push(res.auditLog);
      if (!res.auditLog.pageInfo.hasNextPage) break;
      after = res.auditLog.pageInfo.endCursor;
    }
    const log = JSON.stringify(pages);
    expect(secrets.length).toBeGreaterThan(30);
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/\$argon2/);
    const keys = (await t.sql<{ k: string }>(`select distinct jsonb_object_keys(changes) as k from audit_events where changes is not null`)).map((r) => r.k);
    expect(keys.filter((k) => /password|hash|token|secret|code|key|attestation/i.test(k))).toEqual([]);
  });
});
