import { firstCode, ok } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { bearer, createSuperuser, createVerifiedUser, LOG_IN, ME, newAccount, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';
import { captureLead, LOG_IN_WITH_LINK } from '../assessments/support';
import {
  ACCOUNT_TEST_ENV,
  auditEvents,
  CONFIRM_EMAIL,
  countRows,
  DELETE_ME,
  EXPORT,
  MY_SESSIONS,
  PUBLIC_USER,
  REVOKE_SESSION,
  UPDATE_ME,
  userRow,
} from './support';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: ACCOUNT_TEST_ENV });
});
afterAll(() => t.stop());

const logIn = (usernameOrEmail: string, password: string, headers: Record<string, string> = {}) =>
  t.gql(LOG_IN, { input: { usernameOrEmail, password } }, { headers });
const updateMe = (token: string, input: Record<string, unknown>) => t.gql(UPDATE_ME, { input }, { token });

describe('user(username)', () => {
  it('shows only the username, name and avatar of a live account, in any case', async () => {
    const ada = await createVerifiedUser(t, 'pub');
    ok(await updateMe(ada.tokens.accessToken, { avatarUrl: 'https://img.example.com/ada.png' }));
    const res = await t.gql(PUBLIC_USER, { u: ` ${ada.username.toUpperCase()} ` });
    expect(res.data).toEqual({ user: { username: ada.username, name: ada.name, avatarUrl: 'https://img.example.com/ada.png' } });
    // The type has nothing else to ask for.
    const more = await t.gql(`query ($u: String!) { user(username: $u) { username email } }`, { u: ada.username });
    expect(firstCode(more)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers null for unknown, malformed, disabled and deleted accounts', async () => {
    const disabled = await createVerifiedUser(t, 'pubd');
    const deleted = await createVerifiedUser(t, 'pubx');
    await t.sql(`update users set status = 'disabled' where id = ?`, [disabled.id]);
    ok(await t.gql(DELETE_ME, { p: deleted.password }, bearer(deleted)));
    for (const u of ['nobody_here', 'not a name!', '', 'x'.repeat(300), disabled.username, deleted.username]) {
      expect(await t.gql(PUBLIC_USER, { u })).toMatchObject({ status: 200, data: { user: null } });
    }
  });
});

describe('updateMe', () => {
  it('changes name, username and avatar, and nothing else; role, tier and verification are not in the input', async () => {
    const ada = await createVerifiedUser(t, 'upd');
    const fresh = newAccount('upn');
    const res = ok(await updateMe(ada.tokens.accessToken, { name: '  Ada Lovelace ', username: fresh.username.toUpperCase(), avatarUrl: 'https://a.example/x.png' }));
    expect(res.updateMe).toMatchObject({ id: ada.id, name: 'Ada Lovelace', username: fresh.username, avatarUrl: 'https://a.example/x.png', email: ada.email });
    expect((await t.gql(ME, {}, bearer(ada))).data!.me).toMatchObject({ name: 'Ada Lovelace', username: fresh.username });

    // Mass assignment: fields the input does not declare are refused by GraphQL before anything runs.
    for (const extra of [{ isSuperuser: true }, { tierId: '00000000-0000-4000-8000-000000000002' }, { emailVerified: false }, { status: 'ACTIVE' }, { convertedLeadId: 'x' }]) {
      const refused = await updateMe(ada.tokens.accessToken, { name: 'Mallory', ...extra });
      expect(refused.status).toBe(400);
      expect(firstCode(refused)).toBe('BAD_USER_INPUT');
    }
    const row = await userRow(t, ada.id);
    expect(row).toMatchObject({ name: 'Ada Lovelace', is_superuser: false, tier_id: '00000000-0000-4000-8000-000000000001', status: 'active' });
    expect(row.email_verified_at).not.toBeNull();
  });

  it('refuses a taken or reserved username with CONFLICT naming the field, and bad values with BAD_USER_INPUT', async () => {
    const ada = await createVerifiedUser(t, 'updc');
    const bob = await createVerifiedUser(t, 'updb');
    const taken = await updateMe(ada.tokens.accessToken, { username: bob.username });
    expect(taken.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', field: 'username' });
    await t.sql(`insert into username_reservations (username, expires_at) values ('held_name', now() + interval '1 day')`);
    expect((await updateMe(ada.tokens.accessToken, { username: 'held_name' })).errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', field: 'username' });

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ username: 'Not Valid!' }, 'username'],
      [{ name: 'x' }, 'name'],
      [{ name: 'Ada\u202eevil' }, 'name'],
      [{ name: 'Ada\u0007' }, 'name'],
      [{ name: 'Ada\u0000' }, 'name'],
      [{ email: 'not-an-email' }, 'email'],
      [{ avatarUrl: 'http://plain.example/x.png' }, 'avatarUrl'],
      [{ avatarUrl: 'javascript:alert(1)' }, 'avatarUrl'],
      [{ avatarUrl: 'https://user:pw@example.com/x.png' }, 'avatarUrl'],
      [{ avatarUrl: `https://example.com/${'a'.repeat(2100)}` }, 'avatarUrl'],
    ];
    for (const [input, field] of bad) {
      const res = await updateMe(ada.tokens.accessToken, input);
      expect({ input, ext: res.errors?.[0]?.extensions }).toMatchObject({ input, ext: { code: 'BAD_USER_INPUT', field } });
    }
    expect(await userRow(t, ada.id)).toMatchObject({ username: ada.username, name: ada.name, avatar_url: null });
    // null and "" clear the avatar.
    ok(await updateMe(ada.tokens.accessToken, { avatarUrl: 'https://a.example/y.png' }));
    expect(ok(await updateMe(ada.tokens.accessToken, { avatarUrl: null })).updateMe.avatarUrl).toBeNull();
  });
});

describe('an email change', () => {
  it('waits for the link mailed to the new address, notifies the old one, and then kills older links', async () => {
    const ada = await createVerifiedUser(t, 'em');
    // A verification link sent to the old address before the change.
    ok(await t.gql(`mutation ($e: String!) { resendVerificationEmail(email: $e) }`, { e: ada.email }));
    await t.sql(`update users set email_verified_at = null where id = ?`, [ada.id]);
    ok(await t.gql(`mutation ($e: String!) { resendVerificationEmail(email: $e) }`, { e: ada.email }));
    const oldLink = linkToken(await t.inbox.waitFor(ada.email, /confirm your email/i, { count: 2 }), 'verify-email');
    await t.sql(`update users set email_verified_at = now() where id = ?`, [ada.id]);

    const next = newAccount('emn').email;
    const res = ok(await updateMe(ada.tokens.accessToken, { email: next.toUpperCase() }));
    expect(res.updateMe.email).toBe(ada.email); // pending
    const notice = await t.inbox.waitFor(ada.email, /change of your email/i);
    expect(notice.text).toContain(next);
    const confirm = await t.inbox.waitFor(next, /confirm your new email/i);
    const token = linkToken(confirm, 'confirm-email-change');
    expect((await userRow(t, ada.id)).email).toBe(ada.email);

    // Needs no session; 20 at once: one wins.
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(CONFIRM_EMAIL, { t: token })));
    expect(results.map((r) => r.status).every((s) => s === 200)).toBe(true);
    const won = results.filter((r) => !r.errors);
    expect(won).toHaveLength(1);
    expect(won[0]!.data!.confirmEmailChange).toMatchObject({ id: ada.id, email: next, emailVerified: true });
    expect(results.filter((r) => r.errors).map(firstCode)).toEqual(Array(19).fill('INVALID_TOKEN'));

    expect((await userRow(t, ada.id)).email).toBe(next);
    expect(ok(await logIn(next, ada.password)).logIn.user.id).toBe(ada.id);
    expect(firstCode(await logIn(ada.email, ada.password))).toBe('INVALID_CREDENTIALS');
    // The verification link proved the old address only.
    expect(firstCode(await t.gql(`mutation ($t: String!) { verifyEmail(token: $t) }`, { t: oldLink }))).toBe('INVALID_TOKEN');

    const [event] = await auditEvents(t, 'user.email_changed', ada.id);
    expect(event).toMatchObject({ actor_id: ada.id, changes: { email: { before: ada.email, after: next } } });
  });

  it('to an address in use answers the same, mails that address that it has an account, and issues no token', async () => {
    const ada = await createVerifiedUser(t, 'emt');
    const bob = await createVerifiedUser(t, 'emb');
    const free = newAccount('emf').email;
    const toTaken = await updateMe(ada.tokens.accessToken, { email: bob.email });
    const toFree = await updateMe(ada.tokens.accessToken, { email: free });
    expect(toTaken.errors).toBeUndefined();
    expect(toTaken.data).toEqual(toFree.data);
    const mail = await t.inbox.waitFor(bob.email, /move an account to your email/i);
    expect(mail.text).not.toMatch(/token=/);
    expect(await countRows(t, 'one_time_tokens', `purpose = 'change_email' and email = ?`, [bob.email])).toBe(0);
    // The later request replaced the earlier one: only the newest pending change lives.
    expect(await countRows(t, 'one_time_tokens', `purpose = 'change_email' and user_id = ? and used_at is null`, [ada.id])).toBe(1);
    expect((await userRow(t, bob.id)).email).toBe(bob.email);
  });

  it('is CONFLICT at confirmation when the address has an account by then, and the link stays usable', async () => {
    const ada = await createVerifiedUser(t, 'emc');
    const target = newAccount('emr');
    ok(await updateMe(ada.tokens.accessToken, { email: target.email }));
    const token = linkToken(await t.inbox.waitFor(target.email, /confirm your new email/i), 'confirm-email-change');
    ok(await t.gql(SIGN_UP, { input: target }));
    const res = await t.gql(CONFIRM_EMAIL, { t: token });
    expect(res.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', field: 'email' });
    expect((await userRow(t, ada.id)).email).toBe(ada.email);
    expect(await countRows(t, 'one_time_tokens', `purpose = 'change_email' and user_id = ? and used_at is null`, [ada.id])).toBe(1);
    expect(await auditEvents(t, 'user.email_changed', ada.id)).toEqual([]);
  });

  it('refuses unknown, malformed and overlong tokens, and links of other purposes', async () => {
    const ada = await createVerifiedUser(t, 'emk');
    ok(await t.gql(`mutation ($e: String!) { requestPasswordReset(email: $e) }`, { e: ada.email }));
    const resetToken = linkToken(await t.inbox.waitFor(ada.email, /reset/i), 'reset-password');
    for (const token of ['', 'nope', 'x'.repeat(5000), resetToken, 'a\u0000b']) {
      const res = await t.gql(CONFIRM_EMAIL, { t: token });
      expect(res.status).toBeLessThan(500);
      expect(['INVALID_TOKEN', 'BAD_USER_INPUT']).toContain(firstCode(res));
    }
  });
});

describe('sessions', () => {
  it('lists the live sessions with the current one marked, and revokes one of them', async () => {
    const ada = await createVerifiedUser(t, 'ses');
    const second = ok(await logIn(ada.username, ada.password, { 'user-agent': 'Second Browser/1.0' })).logIn;
    const sessions = ok(await t.gql(MY_SESSIONS, {}, bearer(ada))).mySessions as Array<Record<string, any>>;
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const other = sessions.find((s) => !s.current)!;
    expect(other).toMatchObject({ userAgent: 'Second Browser/1.0', ip: expect.stringContaining('127.0.0.1') });

    expect(ok(await t.gql(REVOKE_SESSION, { id: other.id }, bearer(ada))).revokeSession).toBe(true);
    expect(firstCode(await t.gql(ME, {}, { token: second.accessToken }))).toBe('UNAUTHENTICATED');
    expect(ok(await t.gql(MY_SESSIONS, {}, bearer(ada))).mySessions).toHaveLength(1);
    expect(await auditEvents(t, 'session.revoked', other.id)).toEqual([expect.objectContaining({ actor_id: ada.id })]);
    // Once revoked, it is not found again.
    expect(firstCode(await t.gql(REVOKE_SESSION, { id: other.id }, bearer(ada)))).toBe('NOT_FOUND');
  });

  it("refuses someone else's session and malformed ids with NOT_FOUND, and ends nothing", async () => {
    const ada = await createVerifiedUser(t, 'sea');
    const bob = await createVerifiedUser(t, 'seb');
    const bobSession = (ok(await t.gql(MY_SESSIONS, {}, bearer(bob))).mySessions as Array<{ id: string }>)[0]!.id;
    for (const id of [bobSession, bobSession.toUpperCase(), 'not-a-uuid', '00000000-0000-0000-0000-000000000000', `${bobSession}' or '1'='1`]) {
      expect(await t.gql(REVOKE_SESSION, { id }, bearer(ada))).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND', field: 'id' } }] });
    }
    expect(firstCode(await t.gql(REVOKE_SESSION, { id: `${bobSession}\u0000` }, bearer(ada)))).toBe('BAD_USER_INPUT');
    expect(ok(await t.gql(ME, {}, bearer(bob))).me.id).toBe(bob.id);
  });
});

describe('exportMyData', () => {
  it('returns everything stored about the caller and no secret', async () => {
    const ada = await createVerifiedUser(t, 'exp');
    ok(await t.gql(`mutation { updateProfile(input: { companyName: "Analytical Engines", jobTitle: "Countess" }) { companyName } }`, {}, bearer(ada)));
    ok(await t.gql(`mutation { startAssessment(templateSlug: "smb-baseline") { assessment { id } } }`, {}, bearer(ada)));
    ok(await updateMe(ada.tokens.accessToken, { email: newAccount('expn').email }));
    const data = ok(await t.gql(EXPORT, {}, bearer(ada))).exportMyData;
    expect(data.account).toMatchObject({ id: ada.id, email: ada.email, username: ada.username, hasPassword: true, tierName: 'free' });
    expect(data.profile).toMatchObject({ companyName: 'Analytical Engines', jobTitle: 'Countess' });
    expect(data.sessions).toHaveLength(1);
    expect(data.assessments).toEqual([expect.objectContaining({ templateSlug: 'smb-baseline', status: 'IN_PROGRESS' })]);
    expect(data.emailTokens.map((x: any) => x.purpose).sort()).toEqual(['change_email', 'verify_email']);
    const text = JSON.stringify(data);
    const row = await t.sql<{ password_hash: string }>(`select password_hash from users where id = ?`, [ada.id]);
    expect(text).not.toContain(row[0]!.password_hash);
    expect(text).not.toMatch(/argon2|token_?hash|tokenHash|codeHash|passwordHash|sealed/i);
  });
});

describe('deleteMe', () => {
  it('takes any password the account could set: control characters are part of a password, only NUL is refused', async () => {
    const ada = await createVerifiedUser(t, 'delc');
    const password = `bell\u0007 and\u001b escape ${ada.password}`;
    const changed = await t.gql(
      `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken } }`,
      { input: { currentPassword: ada.password, newPassword: password } },
      bearer(ada),
    );
    const token = ok(changed).changePassword.accessToken as string;
    expect(firstCode(await t.gql(DELETE_ME, { p: `${password}\u0000` }, { token }))).toBe('BAD_USER_INPUT');
    expect(ok(await t.gql(DELETE_ME, { p: password }, { token })).deleteMe).toBe(true);
    expect((await userRow(t, ada.id)).status).toBe('deleted');
  });

  it('needs the password when the account has one, then ends every session and login', async () => {
    const ada = await createVerifiedUser(t, 'del');
    const second = ok(await logIn(ada.username, ada.password)).logIn;
    const missing = await t.gql(DELETE_ME, {}, bearer(ada));
    expect(missing.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    expect(firstCode(await t.gql(DELETE_ME, { p: 'wrong password here' }, bearer(ada)))).toBe('INVALID_CREDENTIALS');
    expect((await userRow(t, ada.id)).status).toBe('active');

    expect(ok(await t.gql(DELETE_ME, { p: ada.password }, bearer(ada))).deleteMe).toBe(true);
    const row = await userRow(t, ada.id);
    expect(row).toMatchObject({ status: 'deleted', email: ada.email, username: ada.username });
    expect(row.deleted_at).not.toBeNull();
    for (const token of [ada.tokens.accessToken, second.accessToken]) expect(firstCode(await t.gql(ME, {}, { token }))).toBe('UNAUTHENTICATED');
    expect(await countRows(t, 'sessions', 'user_id = ? and revoked_at is null', [ada.id])).toBe(0);
    expect(firstCode(await t.gql(`mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, { t: second.refreshToken }))).toBe('INVALID_TOKEN');
    expect(firstCode(await logIn(ada.username, ada.password))).toBe('INVALID_CREDENTIALS');
    expect(await auditEvents(t, 'user.deleted', ada.id)).toEqual([expect.objectContaining({ actor_id: ada.id })]);
  });

  it('holds the email and username: signUp answers as for an address in use and mails nothing', async () => {
    const ada = await createVerifiedUser(t, 'delh');
    ok(await t.gql(DELETE_ME, { p: ada.password }, bearer(ada)));
    const mailBefore = await countRows(t, 'outbox_emails', 'recipient = ?', [ada.email]);
    const again = { ...newAccount('delh'), email: ada.email };
    const res = await t.gql(SIGN_UP, { input: again });
    expect(res.errors).toBeUndefined();
    expect(res.data!.signUp.user).toMatchObject({ email: ada.email, username: again.username, emailVerified: false });
    expect(await countRows(t, 'users', 'email = ?', [ada.email])).toBe(1);
    // Its username too, like any taken one.
    expect(firstCode(await t.gql(SIGN_UP, { input: { ...newAccount('delh'), username: ada.username } }))).toBe('CONFLICT');
    // The chosen username is held, as for any address in use.
    expect(firstCode(await t.gql(SIGN_UP, { input: { ...newAccount('delh'), username: again.username } }))).toBe('CONFLICT');
    // The mail of a sign-up commits with it, so none queued now means none sent.
    expect(await countRows(t, 'outbox_emails', 'recipient = ?', [ada.email])).toBe(mailBefore);
  });

  it("meets a lead with the deleted account's address with INVALID_TOKEN at its login link, and makes no account", async () => {
    const ada = await createVerifiedUser(t, 'dell');
    ok(await t.gql(DELETE_ME, { p: ada.password }, bearer(ada)));
    const lead = await captureLead(t, { email: ada.email });
    const link = linkToken(await t.inbox.waitFor(ada.email, /save your posture results/i), 'login');
    const res = await t.gql(LOG_IN_WITH_LINK, { t: link });
    expect(firstCode(res)).toBe('INVALID_TOKEN');
    expect(await countRows(t, 'users', 'email = ?', [ada.email])).toBe(1);
    expect((await userRow(t, ada.id)).status).toBe('deleted');
    expect(await t.sql(`select converted_user_id from leads where id = ?`, [lead.leadId])).toEqual([{ converted_user_id: null }]);
  });

  it('needs no password for an account made by a login link', async () => {
    const ada = await createVerifiedUser(t, 'deln');
    await t.sql(`update users set password_hash = null where id = ?`, [ada.id]);
    expect(ok(await t.gql(DELETE_ME, {}, bearer(ada))).deleteMe).toBe(true);
    expect((await userRow(t, ada.id)).status).toBe('deleted');
  });

  it('is CONFLICT for the last live superuser, who stays', async () => {
    const admin = await createSuperuser(t, 'dels');
    // Make this one the only live superuser.
    await t.sql(`update users set is_superuser = false where id <> ?`, [admin.id]);
    expect(firstCode(await t.gql(DELETE_ME, { p: admin.password }, bearer(admin)))).toBe('CONFLICT');
    expect((await userRow(t, admin.id)).status).toBe('active');
    const other = await createSuperuser(t, 'dels');
    expect(ok(await t.gql(DELETE_ME, { p: admin.password }, bearer(admin))).deleteMe).toBe(true);
    expect(firstCode(await t.gql(DELETE_ME, { p: other.password }, bearer(other)))).toBe('CONFLICT');
  });
});
