import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSigningKey } from '../../src/modules/auth/signing-keys';
import {
  ASSESSMENT_TEST_ENV,
  bestAnswers,
  captureLead,
  LEAD_ONLY_LIMITS,
  LOG_IN_WITH_LINK,
  loginLinkToken,
  START,
  SUBMIT,
  TEMPLATE,
} from '../assessments/support';
import { eventually } from '../support/eventually';
import { codes, ok, postGraphQL } from '../support/graphql';
import { startInstance, type Instance } from '../support/instances';
import { authorize, complete as completeOidc, oidcEnv, providerAccount, REDIRECT_URI, START_OIDC, startProvider } from '../oidc/support';
import { codeAt, complete as completeMfa, enroll, MFA_RELAXED_LIMITS, newChallenge } from '../mfa/support';
import { SlowSmtpServer } from '../support/slow-smtp';
import { TestInbox } from '../support/smtp';
import {
  CHEAP_HASHING,
  createTestDatabase,
  createVerifiedUser,
  LOG_IN,
  ME,
  newAccount,
  REFRESH,
  relaxedLimits,
  SIGN_UP,
  startTestApp,
  type TestApp,
  type TestDatabase,
} from '../support/test-app';

// The README's promise: several instances can share one PostgreSQL and one Redis. Two instances on
// one database need a PostgreSQL server (the embedded PGlite serves a single connection); the
// shared log-in limit also needs a Redis server.
const canRun = !process.env.POSTURE_TEST_EMBEDDED_URL;
const withRedis = process.env.REDIS_URL ? it : it.skip;
if (!canRun) console.info('tests/server/multi-instance.test.ts skipped (it needs DATABASE_URL)');
else if (!process.env.REDIS_URL) console.info('tests/server/multi-instance.test.ts: the shared log-in limit is skipped (it needs REDIS_URL)');

(canRun ? describe : describe.skip)('two instances on one PostgreSQL and one Redis', () => {
  let db: TestDatabase;
  let inbox: TestInbox;
  /** What every instance of this file shares besides the database and the inbox: keys, the Redis prefix. */
  let common: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    inbox = await new TestInbox().start();
    common = {
      JWT_SIGNING_KEYS: JSON.stringify([await generateSigningKey()]),
      REDIS_KEY_PREFIX: `posture-test:${randomBytes(6).toString('hex')}:`,
      ...CHEAP_HASHING,
      MAIL_POLL_INTERVAL: '1s',
      MAIL_RETRY_DELAY: '1s',
      // Shared like the signing keys: a TOTP secret sealed by one instance must open on the other.
      TOTP_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
  });
  afterAll(async () => {
    await inbox?.stop();
    await db?.drop();
  });

  const running: Array<{ stop(): Promise<unknown> }> = [];
  afterEach(async () => {
    for (const instance of running.splice(0).reverse()) await instance.stop();
  });
  /** An instance in this process (its clock and services at hand), stopped after the test. */
  async function inProcess(env: Record<string, string> = {}): Promise<TestApp> {
    const t = await startTestApp({ db, inbox, env: { ...common, ...env } });
    running.push(t);
    return t;
  }
  /** An instance in a process of its own, which can be killed; stopped after the test. */
  async function child(env: Record<string, string>): Promise<Instance> {
    const instance = await startInstance(env);
    running.push(instance);
    return instance;
  }

  it('a lead captured on A takes its assessment on B, the link followed on B ends its session on A, and submissions on both score once', async () => {
    const env = { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: LEAD_ONLY_LIMITS };
    const a = await inProcess(env);
    const b = await inProcess(env);
    const lead = await captureLead(a);
    const template = ok(await b.gql(TEMPLATE, { slug: 'smb-baseline' })).assessmentTemplate;
    const id = ok(await b.gql(START, { slug: 'smb-baseline' }, { token: lead.token })).startAssessment.assessment.id;
    // The same submission on both instances at once: one scoring, one result.
    const submitted = await Promise.all(
      [a, b, a, b].map((t) => t.gql(SUBMIT, { id, answers: bestAnswers(template) }, { token: lead.token })),
    );
    const results = submitted.map((r) => ok(r).submitAssessment);
    expect(new Set(results.map((r) => `${r.completedAt}|${r.attestation}`)).size).toBe(1);

    const account = ok(await b.gql(LOG_IN_WITH_LINK, { t: await loginLinkToken(a, lead.email) })).logInWithLink;
    expect(codes(await a.gql(`{ myAssessments { totalCount } }`, {}, { token: lead.token }))).toEqual(['UNAUTHENTICATED']);
    expect(ok(await a.gql(`{ myAssessments { totalCount } }`, {}, { token: account.accessToken })).myAssessments.totalCount).toBe(1);
  });

  it('two-factor: a secret enrolled on A works on B, and one recovery code used on both at once wins once', async () => {
    const env = { RATE_LIMITS: relaxedLimits(...MFA_RELAXED_LIMITS) };
    const a = await inProcess(env);
    const b = await inProcess(env);
    const user = await createVerifiedUser(a);
    const { secret, codes: recovery } = await enroll(a, user);

    // 10 completions on each instance, each with its own challenge, all with one recovery code.
    const [onA, onB] = [await newChallenge(a, user), await newChallenge(b, user)];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? completeMfa(b, onB, recovery[0]!) : completeMfa(a, onA, recovery[0]!))),
    );
    expect(answers.filter((r) => !r.errors).length).toBe(1);
    // The losers: the code is spent (INVALID_CREDENTIALS), or the winner's challenge is (INVALID_TOKEN).
    for (const r of answers.filter((x) => x.errors)) expect(['INVALID_CREDENTIALS', 'INVALID_TOKEN']).toContain(codes(r)[0]);

    // B opens the secret A sealed: a code of a step after the ones A used signs in there.
    b.clock.advance(120);
    ok(await completeMfa(b, await newChallenge(b, user), codeAt(b, secret)));
  });

  it('OpenID Connect: a sign-in started on A completes on B, once', async () => {
    const provider = await startProvider();
    running.push(provider);
    const a = await inProcess(oidcEnv(provider));
    const b = await inProcess(oidcEnv(provider));
    const account = providerAccount();
    const started = ok(await a.gql(START_OIDC, { p: 'test', r: REDIRECT_URI })).startOidcLogin;
    await provider.nextLogin(account);
    const callback = await authorize(started.authorizationUrl);
    const signedIn = ok(await completeOidc(b, callback)).completeOidcLogin;
    expect(signedIn.user.email).toBe(account.email);
    expect(codes(await completeOidc(a, callback))).toEqual(['INVALID_TOKEN']);
  });

  it('a log-out on A is refused on B at the next request', async () => {
    const a = await inProcess();
    const b = await inProcess();
    const user = await createVerifiedUser(a);
    const { accessToken, refreshToken } = user.tokens;
    // B takes A's tokens (and has now verified this one once).
    expect((await b.gql(ME, {}, { token: accessToken })).data!.me.id).toBe(user.id);

    expect((await a.gql(`mutation { logOut }`, {}, { token: accessToken })).data).toEqual({ logOut: true });
    expect(codes(await b.gql(ME, {}, { token: accessToken }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await b.gql(REFRESH, { t: refreshToken }))).toEqual(['INVALID_TOKEN']);
  });

  withRedis('a log-in limit is reached by A and B together', async () => {
    const a = await inProcess();
    const b = await inProcess();
    const user = await createVerifiedUser(a);
    const logIn = (t: TestApp, password: string) => t.gql(LOG_IN, { input: { usernameOrEmail: user.username, password } });

    // Five wrong passwords a minute per account (the default), whichever instance takes them.
    for (const t of [a, b, a, b, a]) expect(codes(await logIn(t, 'not-the-password-1'))).toEqual(['INVALID_CREDENTIALS']);
    for (const t of [b, a]) expect(codes(await logIn(t, 'not-the-password-1'))).toEqual(['RATE_LIMITED']);
    // Until the window passes, the right password is refused too, on either.
    for (const t of [a, b]) expect(codes(await logIn(t, user.password))).toEqual(['RATE_LIMITED']);
    // The limit is the account's: another one logs in on both.
    const other = await createVerifiedUser(b);
    for (const t of [a, b]) {
      expect((await t.gql(LOG_IN, { input: { usernameOrEmail: other.username, password: other.password } })).errors).toBeUndefined();
    }
  });

  it('refresh token reuse is detected across them, and ends the session on both', async () => {
    const a = await inProcess();
    const b = await inProcess();
    const user = await createVerifiedUser(a);
    const spent = user.tokens.refreshToken;
    const rotated = (await a.gql(REFRESH, { t: spent })).data!.refreshSession;

    // Within the grace window, a client's retry through B is answered with the same successor.
    expect((await b.gql(REFRESH, { t: spent })).data!.refreshSession.refreshToken).toBe(rotated.refreshToken);

    // Past it (on the clocks of both), the spent token presented to B is reuse.
    for (const t of [a, b]) t.clock.advance(31);
    expect(codes(await b.gql(REFRESH, { t: spent }))).toEqual(['INVALID_TOKEN']);
    expect(codes(await a.gql(REFRESH, { t: rotated.refreshToken }))).toEqual(['INVALID_TOKEN']);
    expect(codes(await a.gql(ME, {}, { token: rotated.accessToken }))).toEqual(['UNAUTHENTICATED']);
    expect(await a.sql(`select revoked_reason from sessions where user_id = ?`, [user.id])).toEqual([
      { revoked_reason: 'refresh_token_reuse' },
    ]);
  });

  it('mail queued through both goes out exactly once, also when one is killed (-9) in the middle of sending', async () => {
    // K runs in its own process, to be killed; its SMTP relay stalls on demand. B sends to the inbox.
    const relay = await new SlowSmtpServer(0).start();
    running.push(relay);
    const b = await inProcess();
    const k = await child({ ...b.env, SMTP_URL: relay.url });
    const signUp = async (via: TestApp | Instance) => {
      const account = newAccount('mi');
      const res = await postGraphQL(via.url, SIGN_UP, { input: account });
      expect(res.errors).toBeUndefined();
      return account.email;
    };
    /** The addresses whose email has not gone out exactly once, through K's relay or to B's inbox. */
    const notOnce = (emails: string[]) =>
      emails
        .map((to) => ({ to, relay: relay.accepted.filter((m) => m.to === to).length, inbox: inbox.to(to).length }))
        .filter((d) => d.relay + d.inbox !== 1);

    try {
      // Both running: each message goes out once, and both workers take part.
      const first: string[] = [];
      for (let i = 0; i < 10; i++) first.push(await signUp(i % 2 ? k : b));
      await eventually(() => expect(notOnce(first)).toEqual([]), 15_000);
      expect(relay.accepted.length).toBeGreaterThan(0);
      expect(first.some((to) => inbox.to(to).length > 0)).toBe(true);

      // K's relay stalls; B's worker pauses, so that K's worker claims what both queue next.
      relay.hang();
      await b.app.mailWorker.stop();
      const second: string[] = [];
      for (let i = 0; i < 10; i++) second.push(await signUp(i % 2 ? k : b));
      await eventually(() => expect(relay.held).toHaveLength(1), 10_000); // K is sending one, and waits
      const claimedByK = (await b.sql<{ recipient: string }>(`select recipient from outbox_emails where lease_token is not null`)).map(
        (r) => r.recipient,
      );
      expect(claimedByK).toContain(relay.held[0]!.to);

      await k.kill();
      b.app.mailWorker.start();
      // B sends what was never claimed at once, and what K had claimed once K's lease lapses.
      await eventually(() => expect(notOnce(second)).toEqual([]), 30_000);
      await sleep(2500); // room for a duplicate to show up
      expect(notOnce([...first, ...second])).toEqual([]);
      expect(second.filter((to) => inbox.to(to).length !== 1)).toEqual([]);
      expect(relay.held).toHaveLength(1); // the stalled send never completed
      // A claim counts a try: what K had claimed was tried once more, by B; the rest once.
      const rows = await b.sql<{ recipient: string; status: string; attempts: number }>(
        `select recipient, status, attempts from outbox_emails where recipient in (${second.map(() => '?').join(', ')})`,
        second,
      );
      expect(Object.fromEntries(rows.map((r) => [r.recipient, [r.status, r.attempts]]))).toEqual(
        Object.fromEntries(second.map((to) => [to, ['sent', claimedByK.includes(to) ? 2 : 1]])),
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- K's output ---\n${k.output()}`);
    }
  }, 60_000);

  it('readiness turns 503 on an instance that is shutting down, while the other serves on', async () => {
    const leaving = await inProcess({ SHUTDOWN_DELAY: '2s' });
    const staying = await inProcess();
    const user = await createVerifiedUser(leaving);
    for (const t of [leaving, staying]) expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

    const stopping = leaving.app.stop();
    expect((await fetch(`${leaving.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${staying.url}/readyz`)).status).toBe(200);
    // The session started on the instance that is leaving goes on, on the other.
    expect((await staying.gql(ME, {}, { token: user.tokens.accessToken })).data!.me.id).toBe(user.id);
    const refreshed = (await staying.gql(REFRESH, { t: user.tokens.refreshToken })).data!.refreshSession;

    await stopping;
    await expect(fetch(`${leaving.url}/readyz`)).rejects.toThrow();
    expect((await fetch(`${staying.url}/readyz`)).status).toBe(200);
    expect((await staying.gql(ME, {}, { token: refreshed.accessToken })).data!.me.id).toBe(user.id);
  });

  it('the cleanup job, run by both at the same moment, deletes each expired row once and fails on neither', async () => {
    const a = await inProcess();
    const b = await inProcess();
    const [{ id: userId }] = await a.sql<{ id: string }>(
      `insert into users (id, created_at, updated_at, email, username, name, password_hash)
       values (gen_random_uuid(), now(), now(), 'cleanup@example.com', 'cleanup_user', 'Cleanup', 'not-a-hash') returning id`,
    );
    const count = async (from: string) => Number((await a.sql<{ n: string }>(`select count(*) as n from ${from}`))[0]!.n);
    const mine = {
      sessions: `sessions where user_id = '${userId}'`,
      tokens: `refresh_tokens rt join sessions s on s.id = rt.session_id where s.user_id = '${userId}'`,
      sealed: `refresh_tokens rt join sessions s on s.id = rt.session_id where s.user_id = '${userId}' and rt.sealed_successor is not null`,
      oneTime: `one_time_tokens where user_id = '${userId}'`,
      emails: `outbox_emails where recipient like '%@cleanup.test'`,
      reservations: `username_reservations where username like 'cl\\_%'`,
    };
    /** Rows past their retention and rows still needed, as in tests/maintenance/cleanup.test.ts, many of each. */
    async function seed(round: number) {
      /** `n` sessions, each with one refresh token; times relative to now, null for none. */
      const sessions = (n: number, times: { revoked: string | null; expires: string; rotated: string | null }) =>
        a.sql(
          `with s as (insert into sessions (id, created_at, user_id, expires_at, revoked_at)
                      select gen_random_uuid(), now() - interval '60 days', ?, now() + ?::interval, now() + ?::interval
                        from generate_series(1, ?)
                      returning id)
           insert into refresh_tokens (id, created_at, session_id, token_hash, expires_at, rotated_at, sealed_successor)
           select gen_random_uuid(), now(), id, encode(sha256(gen_random_uuid()::text::bytea), 'hex'), now() + interval '1 day',
                  now() + ?::interval, case when ?::text is null then null else 'sealed' end from s`,
          [userId, times.expires, times.revoked, n, times.rotated, times.rotated],
        );
      await sessions(120, { revoked: '-31 days', expires: '1 day', rotated: null }); // ended a month ago: deleted
      await sessions(60, { revoked: '-29 days', expires: '1 day', rotated: null }); // ended lately: kept
      await sessions(40, { revoked: null, expires: '-31 days', rotated: null }); // expired a month ago: deleted
      // Live sessions with a rotated token: its sealed successor goes a day after the rotation.
      await sessions(50, { revoked: null, expires: '7 days', rotated: '-2 days' });
      await sessions(30, { revoked: null, expires: '7 days', rotated: '-1 hour' });

      const oneTime = (n: number, expiredFor: string) =>
        a.sql(
          `insert into one_time_tokens (id, created_at, user_id, purpose, email, token_hash, expires_at)
           select gen_random_uuid(), now(), ?, 'password_reset', 'cleanup@example.com', encode(sha256(gen_random_uuid()::text::bytea), 'hex'),
                  now() - ?::interval from generate_series(1, ?)`,
          [userId, expiredFor, n],
        );
      await oneTime(100, '8 days');
      await oneTime(40, '6 days');

      const emails = (n: number, status: string, age: string, deferred: boolean) =>
        a.sql(
          `insert into outbox_emails (id, created_at, template, recipient, payload, status, attempts, available_at, sent_at)
           select gen_random_uuid(), now() - ?::interval, 'verify-email', 'r' || i || '@cleanup.test',
                  case when ? then jsonb_build_object('deferred', 'auth.password-reset', 'to', 'r' || i || '@cleanup.test') end,
                  ?, 1, now() + interval '1 day', case when ? = 'sent' then now() - ?::interval end
             from generate_series(1, ?) i`,
          [age, deferred, status, status, age, n],
        );
      await emails(100, 'sent', '31 days', false); // deleted
      await emails(30, 'sent', '29 days', false);
      await emails(50, 'failed', '25 hours', true); // a deferred request never settled: deleted
      await emails(20, 'pending', '1 hour', true);
      await emails(10, 'failed', '40 days', false); // kept for an operator to look at

      await a.sql(
        `insert into username_reservations (username, expires_at)
         select 'cl_' || ? || '_' || i, now() + case when i <= 80 then interval '-1 minute' else interval '1 day' end from generate_series(1, 100) i`,
        [round],
      );
      return { sessions: 160, 'sealed successors': 50, 'one-time tokens': 100, 'sent emails': 100, 'deferred emails': 50, 'username reservations': 80 };
    }

    for (let round = 1; round <= 3; round++) {
      const expired = await seed(round);
      const passes = await Promise.all([a.app.cleanupJob.run(), b.app.cleanupJob.run()]);
      expect(passes).not.toContain(null);
      // Each expired row deleted (or each successor cleared) by exactly one of the two.
      const together = Object.fromEntries(Object.keys(expired).map((name) => [name, passes[0]![name]! + passes[1]![name]!]));
      expect(together).toEqual(expired);
      // What is still needed stays: every round's.
      expect(await count(mine.sessions)).toBe(140 * round);
      expect(await count(mine.tokens)).toBe(140 * round);
      expect(await count(mine.sealed)).toBe(30 * round);
      expect(await count(mine.oneTime)).toBe(40 * round);
      expect(await count(mine.emails)).toBe(60 * round);
      expect(await count(mine.reservations)).toBe(20 * round);
    }
    expect(await count(`users where id = '${userId}'`)).toBe(1);
  });
});
