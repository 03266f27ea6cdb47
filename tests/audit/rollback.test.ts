import { codes, ok } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { CHEAP_HASHING, createSuperuser, createVerifiedUser, LOG_IN, ME, newAccount, REFRESH, relaxedLimits, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';
import { ASSESSMENT_TEST_ENV, bestAnswers, captureLead, RELAXED_LEAD_LIMITS, START, SUBMIT, TEMPLATE } from '../assessments/support';
import { agent, countEvents, eventsOf } from './support';

// An event commits with the change it records: a change that fails after its event was queued
// leaves no event, and a use raced by many lands one change and one event.

const RELAXED = relaxedLimits(...RELAXED_LEAD_LIMITS, 'changePassword.user=1000/60', 'logIn.account=1000/60');
const SLUG = 'smb-baseline';
const VERIFY = `mutation ($t: String!) { verifyEmail(token: $t) }`;
const CHANGE_PASSWORD = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken } }`;
const REQUEST_RESET = `mutation ($e: String!) { requestPasswordReset(email: $e) }`;
const RESET = `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }`;
const STATUS = `query ($id: ID!) { assessment(id: $id) { id status } }`;

let t: TestApp;
let admin: Awaited<ReturnType<typeof createSuperuser>>;
beforeAll(async () => {
  t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: RELAXED, ...CHEAP_HASHING } });
  admin = await createSuperuser(t);
});
afterAll(() => t.stop());

const logIn = (name: string, password: string, step = 'log-in') => t.gql(LOG_IN, { input: { usernameOrEmail: name, password } }, { headers: agent(step) });

/**
 * Runs `fn` while every commit that wrote a row of `table` matching `condition` fails: a deferred
 * constraint trigger raises at COMMIT, after every statement of the transaction (its audit event
 * included) has run.
 */
async function withFailingCommit<T>(table: string, condition: string, fn: () => Promise<T>): Promise<T> {
  const name = `audit_test_fail_${table}`;
  await t.sql(`create or replace function ${name}() returns trigger language plpgsql as $$ begin raise exception 'commit refused by the test'; end $$`);
  await t.sql(
    `create constraint trigger ${name} after insert or update on ${table} deferrable initially deferred for each row when (${condition}) execute function ${name}()`,
  );
  try {
    return await fn();
  } finally {
    await t.sql(`drop trigger ${name} on ${table}`);
    await t.sql(`drop function ${name}()`);
  }
}

async function signedUpUnverified() {
  const account = newAccount('rb');
  const id = ok(await t.gql(SIGN_UP, { input: account })).signUp.user.id as string;
  const token = linkToken(await t.inbox.waitFor(account.email, /confirm/i), 'verify-email');
  return { ...account, id, token };
}

describe('a change refused after its event was queued leaves no event', () => {
  it('verifyEmail of an address the account no longer has', async () => {
    const u = await signedUpUnverified();
    await t.sql(`update users set email = ? where id = ?`, [`moved-${u.email}`, u.id]);
    expect(codes(await t.gql(VERIFY, { t: u.token }, { headers: agent('verify-moved') }))).toEqual(['INVALID_TOKEN']);
    expect(await countEvents(t, 'user.verified', { targetId: u.id })).toBe(0);
    const [row] = await t.sql<{ email_verified_at: unknown }>(`select email_verified_at from users where id = ?`, [u.id]);
    expect(row!.email_verified_at).toBeNull();
  });

  it('resetPassword for an account that is gone: no event, and the token is not spent', async () => {
    const u = await createVerifiedUser(t, 'rg');
    ok(await t.gql(REQUEST_RESET, { e: u.email }));
    const token = linkToken(await t.inbox.waitFor(u.email, /reset your password/i), 'reset-password');
    await t.sql(`update users set status = 'deleted', deleted_at = now() where id = ?`, [u.id]);
    expect(codes(await t.gql(RESET, { input: { token, newPassword: `${u.password}-new` } }))).toEqual(['INVALID_TOKEN']);
    expect(await countEvents(t, 'user.password_reset', { targetId: u.id })).toBe(0);
    const [row] = await t.sql<{ used_at: unknown }>(`select used_at from one_time_tokens where user_id = ? and purpose = 'reset_password'`, [u.id]);
    expect(row!.used_at).toBeNull();
  });

  it('changePassword raced by itself: twenty at once, one change and one event', async () => {
    const u = await createVerifiedUser(t, 'rc');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.gql(CHANGE_PASSWORD, { input: { currentPassword: u.password, newPassword: `${u.password}-${i}` } }, { token: u.tokens.accessToken }),
      ),
    );
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    // The losers lost the conditional update (or, later, found their session ended by the winner).
    for (const r of results.filter((x) => x.errors)) expect(['INVALID_CREDENTIALS', 'UNAUTHENTICATED', 'RATE_LIMITED']).toContain(codes(r)[0]);
    expect(await countEvents(t, 'user.password_changed', { targetId: u.id })).toBe(1);
  });
});

describe('a change whose commit fails leaves no event', () => {
  it('signUp', async () => {
    const account = newAccount('rs');
    const before = await countEvents(t, 'user.signed_up');
    const res = await withFailingCommit('users', `new.email = '${account.email}'`, () => t.gql(SIGN_UP, { input: account }, { headers: agent('sign-up-refused') }));
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await t.sql(`select id from users where email = ?`, [account.email])).toEqual([]);
    expect(await countEvents(t, 'user.signed_up')).toBe(before);
    // The log as staff read it shows no event from the refused sign-up.
    expect((await eventsOf(t, admin, { action: 'user.signed_up' })).filter((e) => e.userAgent === 'posture-audit-test/sign-up-refused')).toEqual([]);
  });

  it('logIn (one statement with its session): no session and no user.logged_in; the failed attempt is not taken for a wrong password', async () => {
    const u = await createVerifiedUser(t, 'rl');
    const before = await countEvents(t, 'user.logged_in', { targetId: u.id });
    const res = await withFailingCommit('sessions', `new.user_id = '${u.id}' and new.revoked_at is null`, () => logIn(u.email, u.password, 'log-in-refused'));
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await countEvents(t, 'user.logged_in', { targetId: u.id })).toBe(before);
    expect(await countEvents(t, 'user.login_failed', { targetId: u.id })).toBe(0);
    expect(await t.sql(`select id from sessions where user_id = ? and user_agent = ?`, [u.id, 'posture-audit-test/log-in-refused'])).toEqual([]);
  });

  it('changePassword: the old password still works', async () => {
    const u = await createVerifiedUser(t, 'rp');
    const res = await withFailingCommit('users', `new.id = '${u.id}'`, () =>
      t.gql(CHANGE_PASSWORD, { input: { currentPassword: u.password, newPassword: `${u.password}-new` } }, { token: u.tokens.accessToken }),
    );
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await countEvents(t, 'user.password_changed', { targetId: u.id })).toBe(0);
    expect(ok(await t.gql(ME, {}, { token: u.tokens.accessToken })).me.id).toBe(u.id);
    expect(ok(await logIn(u.email, u.password)).logIn.user.id).toBe(u.id);
  });

  it('logOutEverywhere: the sessions live on', async () => {
    const u = await createVerifiedUser(t, 'ro');
    const res = await withFailingCommit('sessions', `new.user_id = '${u.id}'`, () => t.gql(`mutation { logOutEverywhere }`, {}, { token: u.tokens.accessToken }));
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await countEvents(t, 'session.revoked', { targetId: u.id })).toBe(0);
    expect(ok(await t.gql(ME, {}, { token: u.tokens.accessToken })).me.id).toBe(u.id);
  });

  it('submitAssessment (prepared statements): still in progress, no assessment.completed', async () => {
    const u = await createVerifiedUser(t, 'ra');
    const answers = bestAnswers(ok(await t.gql(TEMPLATE, { slug: SLUG })).assessmentTemplate);
    const id = ok(await t.gql(START, { slug: SLUG }, { token: u.tokens.accessToken })).startAssessment.assessment.id as string;
    const res = await withFailingCommit('assessments', `new.id = '${id}' and new.status = 'COMPLETED'`, () =>
      t.gql(SUBMIT, { id, answers }, { token: u.tokens.accessToken }),
    );
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await countEvents(t, 'assessment.completed', { targetId: id })).toBe(0);
    expect(ok(await t.gql(STATUS, { id }, { token: u.tokens.accessToken })).assessment.status).toBe('IN_PROGRESS');

    // And once the commit goes through: the completion and its one event.
    ok(await t.gql(SUBMIT, { id, answers }, { token: u.tokens.accessToken }));
    expect(await countEvents(t, 'assessment.completed', { targetId: id })).toBe(1);
  });
});

describe('twenty concurrent uses of one secret: one change, one event', () => {
  it('verifyEmail with one token', async () => {
    const u = await signedUpUnverified();
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(VERIFY, { t: u.token })));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    for (const r of results.filter((x) => x.errors)) expect(codes(r)).toEqual(['INVALID_TOKEN']);
    expect(await countEvents(t, 'user.verified', { targetId: u.id })).toBe(1);
  });

  it('a spent refresh token replayed past its grace window', async () => {
    const u = await createVerifiedUser(t, 'rr');
    ok(await t.gql(REFRESH, { t: u.tokens.refreshToken }));
    t.clock.advance(31);
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(REFRESH, { t: u.tokens.refreshToken })));
    for (const r of results) expect(codes(r)).toEqual(['INVALID_TOKEN']);
    expect(await countEvents(t, 'session.reuse_detected', { actorId: u.id })).toBe(1);
  });

  it('submitAssessment by a lead', async () => {
    const lead = await captureLead(t);
    const answers = bestAnswers(ok(await t.gql(TEMPLATE, { slug: SLUG })).assessmentTemplate);
    const id = ok(await t.gql(START, { slug: SLUG }, { token: lead.token })).startAssessment.assessment.id as string;
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(SUBMIT, { id, answers }, { token: lead.token })));
    for (const r of results) expect(ok(r).submitAssessment.status).toBe('COMPLETED');
    expect(await countEvents(t, 'assessment.completed', { targetId: id })).toBe(1);
  });

  it('logOut with one refresh token', async () => {
    const u = await createVerifiedUser(t, 'rx');
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(`mutation ($t: String) { logOut(refreshToken: $t) }`, { t: u.tokens.refreshToken })));
    for (const r of results) expect(ok(r).logOut).toBe(true);
    expect(await countEvents(t, 'session.logged_out', { actorId: u.id })).toBe(1);
  });
});
