import { createVerifiedUser, REFRESH, startTestApp, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const count = async (table: string, where = 'true') =>
  Number((await t.sql<{ n: string }>(`select count(*) as n from ${table} where ${where}`))[0]!.n);

describe('the cleanup job', () => {
  it('deletes what has outlived its use and keeps what is still needed', async () => {
    const old = await createVerifiedUser(t, 'old');
    const live = await createVerifiedUser(t, 'live');
    await t.gql(REFRESH, { t: live.tokens.refreshToken }); // a rotated token of a live session
    await t.gql(`mutation ($e: String!) { requestPasswordReset(email: $e) }`, { e: live.email });
    await t.inbox.waitFor(live.email, /reset/i);

    // Two captures: one lead session ended long ago and its link long expired, the other live.
    const CAPTURE = `mutation ($e: String!) { captureLead(input: { email: $e }) { leadId } }`;
    const oldLead = (await t.gql(CAPTURE, { e: 'old-lead@example.com' })).data!.captureLead.leadId as string;
    const liveLead = (await t.gql(CAPTURE, { e: 'live-lead@example.com' })).data!.captureLead.leadId as string;
    await t.sql(`update lead_sessions set expires_at = now() - interval '31 days' where lead_id = ?`, [oldLead]);
    await t.sql(`update login_links set expires_at = now() - interval '8 days' where lead_id = ?`, [oldLead]);

    // Age some rows past their retention.
    await t.sql(`update sessions set revoked_at = now() - interval '31 days' where user_id = ?`, [old.id]);
    await t.sql(`update one_time_tokens set expires_at = now() - interval '8 days' where user_id = ?`, [old.id]);
    await t.sql(`update outbox_emails set sent_at = now() - interval '31 days' where recipient = ?`, [old.email]);
    await t.sql(`update refresh_tokens set rotated_at = now() - interval '2 days' where rotated_at is not null`);
    await t.sql(`insert into username_reservations (username, expires_at) values ('gone_res', now() - interval '1 minute'), ('kept_res', now() + interval '1 day')`);
    // OpenID Connect states: one expired two hours ago, one still under way.
    for (const [hash, expiry] of [['a'.repeat(64), `now() - interval '2 hours'`], ['b'.repeat(64), `now() + interval '5 minutes'`]]) {
      await t.sql(
        `insert into oidc_login_states (id, state_hash, provider, redirect_uri, sealed, created_at, expires_at)
         values (gen_random_uuid(), ?, 'test', 'http://app.test/cb', 'x', now(), ${expiry})`,
        [hash],
      );
    }
    // Two-factor: a challenge that expired two days ago and a live one; an enrollment left pending
    // for two days, and a confirmed one as old.
    for (const [hash, expiry] of [['c'.repeat(64), `now() - interval '2 days'`], ['d'.repeat(64), `now() + interval '5 minutes'`]]) {
      await t.sql(
        `insert into mfa_challenges (id, created_at, user_id, token_hash, via, expires_at) values (gen_random_uuid(), now(), ?, ?, 'password', ${expiry})`,
        [live.id, hash],
      );
    }
    for (const [userId, confirmed] of [[old.id, 'null'], [live.id, `now() - interval '2 days'`]]) {
      await t.sql(
        `insert into totp_credentials (id, created_at, user_id, sealed_secret, confirmed_at) values (gen_random_uuid(), now() - interval '2 days', ?, 'v1.x', ${confirmed})`,
        [userId],
      );
    }
    // Deferred email requests that were never settled: one a day old, one recent (not yet due, so the worker leaves it).
    for (const [to, age, status] of [['stale@example.com', '25 hours', 'failed'], ['recent@example.com', '1 hour', 'pending']]) {
      await t.sql(
        `insert into outbox_emails (id, created_at, template, recipient, payload, status, attempts, available_at)
         values (gen_random_uuid(), now() - ?::interval, 'auth.password-reset', ?, ?, ?, 0, now() + interval '1 day')`,
        [age, to, JSON.stringify({ deferred: 'auth.password-reset', to }), status],
      );
    }

    expect(await t.app.cleanupJob.run()).toEqual({
      sessions: 1,
      'sealed successors': 1,
      'one-time tokens': 1,
      'lead sessions': 1,
      'login links': 1,
      'mfa challenges': 1,
      'pending totp enrollments': 1,
      'oidc login states': 1,
      'sent emails': 1,
      'deferred emails': 1,
      'username reservations': 1,
      'deleted accounts': 0,
    });

    expect(await count('sessions', `user_id = '${old.id}'`)).toBe(0);
    expect(await count('refresh_tokens rt join sessions s on s.id = rt.session_id', `s.user_id = '${old.id}'`)).toBe(0);
    expect(await count('sessions', `user_id = '${live.id}'`)).toBe(1);
    // Rotated tokens of a live session stay (reuse detection needs them); their sealed successor goes.
    expect(await count('refresh_tokens rt join sessions s on s.id = rt.session_id', `s.user_id = '${live.id}'`)).toBe(2);
    expect(await count('refresh_tokens', 'sealed_successor is not null')).toBe(0);
    expect(await count('one_time_tokens', `user_id = '${old.id}'`)).toBe(0);
    expect(await count('one_time_tokens', `user_id = '${live.id}'`)).toBe(2);
    expect(await count('outbox_emails', `recipient = '${old.email}'`)).toBe(0);
    expect(await count('outbox_emails', `recipient = '${live.email}'`)).toBe(2);
    expect(await count('outbox_emails', `recipient = 'stale@example.com'`)).toBe(0);
    expect(await count('outbox_emails', `recipient = 'recent@example.com'`)).toBe(1);
    expect(await count('username_reservations')).toBe(1);
    expect(await count('mfa_challenges', `token_hash = '${'d'.repeat(64)}'`)).toBe(1);
    expect(await count('mfa_challenges')).toBe(1);
    expect(await count('totp_credentials', `user_id = '${live.id}'`)).toBe(1);
    expect(await count('totp_credentials')).toBe(1);
    expect(await count('users')).toBe(2);
    // The leads themselves stay (staff's data); only what let them act expired.
    expect(await count('lead_sessions', `lead_id = '${oldLead}'`)).toBe(0);
    expect(await count('login_links', `lead_id = '${oldLead}'`)).toBe(0);
    expect(await count('lead_sessions', `lead_id = '${liveLead}'`)).toBe(1);
    expect(await count('login_links', `lead_id = '${liveLead}'`)).toBe(1);
    expect(await count('leads')).toBe(2);
    expect(await count('oidc_login_states')).toBe(1);
  });

  it('answers null when a pass fails, and the next pass runs', async () => {
    await t.sql(`insert into username_reservations (username, expires_at) values ('late_res', now() - interval '1 minute')`);
    await t.sql(`alter table username_reservations rename to username_reservations_x`);
    try {
      expect(await t.app.cleanupJob.run()).toBeNull();
    } finally {
      await t.sql(`alter table username_reservations_x rename to username_reservations`);
    }
    expect(await t.app.cleanupJob.run()).toMatchObject({ sessions: 0, 'username reservations': 1 });
    expect(await count('username_reservations', `username = 'late_res'`)).toBe(0);
  });
});
