import { setTimeout as sleep } from 'node:timers/promises';
import { linkToken, resetCode } from '../support/smtp';
import { median, timedPoster } from '../support/timing';
import { CHEAP_HASHING, createVerifiedUser, newAccount, RELAXED_IP_LIMITS, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';

// Per-account limits off and per-IP limits raised: a thousand calls for one address must all be answered.
const RATE_LIMITS = `${RELAXED_IP_LIMITS},requestPasswordReset.account=off,resendVerificationEmail.account=off,requestLoginLink.account=off`;
const WARM_UP = 50;
// 500 of each: on a busy machine one call's time varies by tens of milliseconds, and the medians
// must still settle well within 1 ms of each other when nothing differs.
const CALLS = 1000;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMITS, ...CHEAP_HASHING } });
});
afterAll(() => t.stop());

const poster = timedPoster(() => t.url);
afterAll(() => poster.close());
const timedCall = poster.call;

/** Waits until the mail worker has settled every request so far, so that its work does not overlap the next call. */
async function settled(): Promise<void> {
  for (;;) {
    const [row] = await t.sql<{ n: number }>(`select count(*)::int as n from outbox_emails where status = 'pending'`);
    if (row!.n === 0) return;
    await sleep(2);
  }
}

/**
 * Calls `field` for an address with an account and one without, interleaved, and returns the
 * median wall time of each after a warm-up. The order is ABBA, so each kind of call follows each
 * kind equally often.
 */
async function medians(field: string, existing: string, unknown: string) {
  const query = `mutation ($e: String!) { ${field}(email: $e) }`;
  const times = { existing: [] as number[], unknown: [] as number[] };
  for (let i = 0; i < WARM_UP + CALLS; i++) {
    const which = (i + 1) & 2 ? 'unknown' : 'existing';
    const { ms, body } = await timedCall(query, { e: which === 'existing' ? existing : unknown });
    expect(JSON.parse(body)).toEqual({ data: { [field]: true } });
    if (i >= WARM_UP) times[which].push(ms);
    await settled();
  }
  const result = { existing: median(times.existing), unknown: median(times.unknown) };
  console.log(`${field}: median of ${CALLS / 2} calls each: existing ${result.existing.toFixed(2)} ms, unknown ${result.unknown.toFixed(2)} ms`);
  return result;
}

const outbox = (recipient: string) =>
  t.sql<{ template: string; status: string }>(`select template, status from outbox_emails where recipient = ?`, [recipient]);

describe('requestPasswordReset, resendVerificationEmail and requestLoginLink do not tell by their timing whether an account exists', () => {
  let user: Awaited<ReturnType<typeof createVerifiedUser>>;
  let unverified: ReturnType<typeof newAccount>;
  const unknown = newAccount('tu').email;

  beforeAll(async () => {
    user = await createVerifiedUser(t, 'tr');
    unverified = newAccount('tv');
    expect((await t.gql(SIGN_UP, { input: unverified })).errors).toBeUndefined();
    await t.inbox.waitFor(unverified.email, /confirm your email/i);
  });

  describe('answer times', () => {
    // Mail goes to the (silent) log rather than SMTP and rate-limit counters stay in memory, so that
    // less background work and fewer round trips add noise; the work being compared is unchanged.
    beforeAll(() => t.restart({ SMTP_URL: '', REDIS_URL: '' }));
    afterAll(() => t.restart({ SMTP_URL: t.inbox.url, REDIS_URL: process.env.REDIS_URL ?? '' }));

    it.each([
      ['requestPasswordReset', () => user.email, 'password-reset'],
      ['resendVerificationEmail', () => unverified.email, 'verify-email'],
      ['requestLoginLink', () => user.email, 'login-link'],
    ])('%s: the medians for an account and for an unknown address differ by less than 1 ms', async (field, existing, template) => {
      const m = await medians(field, existing(), unknown);
      expect(Math.abs(m.existing - m.unknown)).toBeLessThan(1);
      expect(Math.abs(m.existing - m.unknown)).toBeLessThan(m.unknown / 2);

      // Every call for the account produced its email; none for the unknown address left anything.
      const rows = (await outbox(existing())).filter((r) => r.template === template);
      expect(rows.filter((r) => r.status === 'sent').length).toBeGreaterThanOrEqual((WARM_UP + CALLS) / 2);
      expect(await outbox(unknown)).toEqual([]);
    }, 300_000);
  });

  it('still mails the account its link and code, after the answer, and mails an unknown address nothing', async () => {
    const before = t.inbox.to(user.email).length;
    expect((await t.gql(`mutation ($e: String!) { resendVerificationEmail(email: $e) }`, { e: unverified.email })).errors).toBeUndefined();
    const verification = await t.inbox.waitFor(unverified.email, /confirm your email/i, { count: 2 });
    expect(linkToken(verification, 'verify-email')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const e of [user.email, unknown]) {
      expect((await t.gql(`mutation ($e: String!) { requestPasswordReset(email: $e) }`, { e })).data).toEqual({ requestPasswordReset: true });
      expect((await t.gql(`mutation ($e: String!) { resendVerificationEmail(email: $e) }`, { e })).data).toEqual({
        resendVerificationEmail: true,
      });
    }
    const mail = await t.inbox.waitFor(user.email, /reset your password/i, { count: 1 });
    expect(linkToken(mail, 'reset-password')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(resetCode(mail)).toMatch(/^\d{6}$/);
    await settled();
    expect(t.inbox.to(user.email)).toHaveLength(before + 1); // verified already: no verification email
    expect(t.inbox.to(unknown)).toEqual([]);
    expect(await outbox(unknown)).toEqual([]);
  });
});
