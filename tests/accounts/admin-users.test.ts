import { firstCode, ok } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { bearer, createSuperuser, createVerifiedUser, LOG_IN, ME, newAccount, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';
import { captureLead, LOG_IN_WITH_LINK, loginLinkToken, START } from '../assessments/support';
import {
  ACCOUNT_TEST_ENV,
  ADMIN_USER,
  auditEvents,
  countRows,
  CREATE_USER,
  DELETE_USER,
  RESET_PASSWORD,
  RESTORE_USER,
  REVOKE_SESSIONS,
  UPDATE_USER,
  USERS,
  userRow,
} from './support';

const FREE = '00000000-0000-4000-8000-000000000001';
const PREMIUM = '00000000-0000-4000-8000-000000000002';

let t: TestApp;
let admin: Awaited<ReturnType<typeof createSuperuser>>;
beforeAll(async () => {
  t = await startTestApp({ env: ACCOUNT_TEST_ENV });
  admin = await createSuperuser(t, 'boss');
});
afterAll(() => t.stop());

const asAdmin = (query: string, variables: Record<string, unknown> = {}) => t.gql(query, variables, bearer(admin));
const logIn = (usernameOrEmail: string, password: string) => t.gql(LOG_IN, { input: { usernameOrEmail, password } });
const update = (id: string, input: Record<string, unknown>) => asAdmin(UPDATE_USER, { id, input });

describe('users', () => {
  it('searches email, username and name, filters, counts and pages with opaque cursors', async () => {
    const tag = `zq${Date.now().toString(36).slice(-5)}`;
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createVerifiedUser(t, `${tag}${i}`));
    await t.sql(`update users set name = 'Grace Hopper' where id = ?`, [made[4]!.id]);
    await t.sql(`update users set status = 'disabled' where id = ?`, [made[1]!.id]);
    await t.sql(`update users set email_verified_at = null where id = ?`, [made[2]!.id]);
    await t.sql(`update users set tier_id = ? where id = ?`, [PREMIUM, made[3]!.id]);

    const page1 = ok(await asAdmin(USERS, { first: 2, filter: { search: tag.toUpperCase() } })).users;
    expect(page1.totalCount).toBe(5); // made[4]'s name no longer carries the tag, but its email and username do
    expect(page1.edges).toHaveLength(2);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = ok(await asAdmin(USERS, { first: 10, after: page1.pageInfo.endCursor, filter: { search: tag } })).users;
    const ids = [...page1.edges, ...page2.edges].map((e: any) => e.node.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const only = async (filter: Record<string, unknown>) =>
      (ok(await asAdmin(USERS, { first: 100, filter: { search: tag, ...filter } })).users.edges as any[]).map((e) => e.node.id).sort();
    expect(await only({ status: 'DISABLED' })).toEqual([made[1]!.id]);
    expect(await only({ status: 'UNVERIFIED' })).toEqual([made[2]!.id]);
    expect(await only({ emailVerified: false })).toEqual([made[2]!.id]);
    expect(await only({ tierId: PREMIUM })).toEqual([made[3]!.id]);
    expect(await only({ tierId: 'not-a-uuid' })).toEqual([]);
    expect(await only({ isSuperuser: true })).toEqual([]);
    expect(await only({ status: 'ACTIVE' })).toEqual([made[0]!.id, made[3]!.id, made[4]!.id].sort());
    expect((ok(await asAdmin(USERS, { filter: { search: 'grace hop' } })).users.edges as any[]).map((e) => e.node.id)).toContain(made[4]!.id);
    // % and _ are searched for as themselves.
    expect(ok(await asAdmin(USERS, { filter: { search: '%' } })).users.totalCount).toBe(0);

    expect(await asAdmin(USERS, { first: 101 })).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'first' } }] });
    expect(await asAdmin(USERS, { first: -1 })).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'first' } }] });
    for (const after of ['garbage', Buffer.from('2026-01-01|not-a-uuid').toString('base64url'), Buffer.from("x'; drop table users;--|a").toString('base64url')]) {
      expect(await asAdmin(USERS, { after })).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }] });
    }
  });
});

describe('adminUser', () => {
  it('shows the account with its status, tier, profile, sessions, assessments and last login', async () => {
    const ada = await createVerifiedUser(t, 'view');
    ok(await t.gql(START, { slug: 'smb-baseline' }, bearer(ada)));
    const view = ok(await asAdmin(ADMIN_USER, { id: ada.id })).adminUser;
    expect(view).toMatchObject({
      status: 'ACTIVE',
      deletedAt: null,
      user: { id: ada.id, email: ada.email },
      tier: { id: FREE, name: 'free' },
      profile: { assessmentLimit: expect.any(Number), assessmentsRemaining: expect.any(Number) },
      sessions: [{ current: false, ip: expect.stringContaining('127.0.0.1') }],
      assessments: { totalCount: 1, edges: [{ node: { status: 'IN_PROGRESS' } }] },
    });
    expect(new Date(view.lastLogInAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    for (const id of ['not-a-uuid', '00000000-0000-0000-0000-000000000000']) expect(firstCode(await asAdmin(ADMIN_USER, { id }))).toBe('NOT_FOUND');
  });
});

describe('adminCreateUser and its invitation', () => {
  it('makes an unverified account without a password; the invitation sets one, verifies the address, and works once', async () => {
    const fresh = newAccount('inv');
    const created = ok(await asAdmin(CREATE_USER, { input: { email: fresh.email, username: fresh.username, name: fresh.name, tierId: PREMIUM } })).adminCreateUser;
    expect(created).toMatchObject({ email: fresh.email, username: fresh.username, emailVerified: false, isSuperuser: false });
    expect(await userRow(t, created.id)).toMatchObject({ password_hash: null, tier_id: PREMIUM });
    const token = linkToken(await t.inbox.waitFor(fresh.email, /invited/i), 'accept-invitation');
    expect(firstCode(await logIn(fresh.username, fresh.password))).toBe('INVALID_CREDENTIALS');

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.gql(RESET_PASSWORD, { input: { token, newPassword: `${fresh.password}-${i}` } })));
    const won = results.filter((r) => !r.errors);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.errors).map(firstCode)).toEqual(Array(19).fill('INVALID_TOKEN'));
    const index = results.indexOf(won[0]!);
    const login = ok(await logIn(fresh.email, `${fresh.password}-${index}`)).logIn;
    expect(login.user).toMatchObject({ id: created.id, emailVerified: true });
    expect(await auditEvents(t, 'admin.adminCreateUser', created.id)).toEqual([
      expect.objectContaining({ actor_id: admin.id, changes: expect.objectContaining({ email: { before: null, after: fresh.email } }) }),
    ]);
  });

  it('refuses taken emails and usernames (CONFLICT naming the field), unknown tiers, bad values and undeclared fields', async () => {
    const ada = await createVerifiedUser(t, 'invc');
    const fresh = newAccount('invd');
    const base = { email: fresh.email, username: fresh.username, name: fresh.name };
    expect((await asAdmin(CREATE_USER, { input: { ...base, email: ada.email.toUpperCase() } })).errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', field: 'email' });
    expect((await asAdmin(CREATE_USER, { input: { ...base, username: ada.username } })).errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', field: 'username' });
    for (const tierId of ['not-a-uuid', '00000000-0000-4000-8000-0000000000ff']) {
      expect((await asAdmin(CREATE_USER, { input: { ...base, tierId } })).errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'tierId' });
    }
    expect((await asAdmin(CREATE_USER, { input: { ...base, name: 'x\u0000y' } })).errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const extra = await asAdmin(CREATE_USER, { input: { ...base, password: 'chosen by staff', emailVerified: true } });
    expect(extra.status).toBe(400);
    expect(firstCode(extra)).toBe('BAD_USER_INPUT');
    expect(await countRows(t, 'users', 'email = ?', [fresh.email])).toBe(0);
  });
});

describe('adminUpdateUser', () => {
  it('changes the fields given; a tier change and an override bite on the next request, and the audit shows before and after', async () => {
    const ada = await createVerifiedUser(t, 'upd');
    const PROFILE = `{ me { profile { assessmentLimit } } }`;
    const before = ok(await t.gql(PROFILE, {}, bearer(ada))).me.profile.assessmentLimit;
    const next = newAccount('updn');
    const res = ok(await update(ada.id, { name: 'Ada King', username: next.username, email: next.email, tierId: PREMIUM })).adminUpdateUser;
    expect(res).toMatchObject({ name: 'Ada King', username: next.username, email: next.email });
    const premium = ok(await t.gql(PROFILE, {}, bearer(ada))).me.profile.assessmentLimit;
    const [{ assessment_limit: premiumLimit }] = await t.sql(`select assessment_limit from tiers where id = ?`, [PREMIUM]);
    expect(premium).toBe(premiumLimit);
    expect(premium).not.toBe(before);
    ok(await update(ada.id, { assessmentLimit: 7 }));
    expect(ok(await t.gql(PROFILE, {}, bearer(ada))).me.profile.assessmentLimit).toBe(7);
    ok(await update(ada.id, { assessmentLimit: null }));
    expect(ok(await t.gql(PROFILE, {}, bearer(ada))).me.profile.assessmentLimit).toBe(premium);

    const [first] = await auditEvents(t, 'admin.adminUpdateUser', ada.id);
    expect(first).toMatchObject({
      actor_id: admin.id,
      changes: { name: { before: ada.name, after: 'Ada King' }, email: { before: ada.email, after: next.email }, tierId: { before: FREE, after: PREMIUM } },
    });
    expect(JSON.stringify(first!.changes)).not.toMatch(/password|hash/i);
    // The session survives such changes.
    expect(ok(await t.gql(ME, {}, bearer(ada))).me.email).toBe(next.email);
  });

  it('disabling ends the live session on its next request and refuses login; enabling lets it log in again', async () => {
    const ada = await createVerifiedUser(t, 'dis');
    expect(ok(await t.gql(ME, {}, bearer(ada))).me.id).toBe(ada.id);
    ok(await update(ada.id, { disabled: true }));
    expect(firstCode(await t.gql(ME, {}, bearer(ada)))).toBe('UNAUTHENTICATED');
    expect(firstCode(await logIn(ada.username, ada.password))).toBe('INVALID_CREDENTIALS');
    expect(ok(await asAdmin(ADMIN_USER, { id: ada.id })).adminUser.status).toBe('DISABLED');
    ok(await update(ada.id, { disabled: false }));
    expect(ok(await logIn(ada.username, ada.password)).logIn.user.id).toBe(ada.id);
  });

  it('refuses bad values, taken names, unknown ids and tiers, deleted accounts and undeclared fields, changing nothing', async () => {
    const ada = await createVerifiedUser(t, 'upb');
    const bob = await createVerifiedUser(t, 'upc');
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [ada.id, { username: bob.username }, { code: 'CONFLICT', field: 'username' }],
      [ada.id, { email: bob.email }, { code: 'CONFLICT', field: 'email' }],
      [ada.id, { tierId: '00000000-0000-4000-8000-0000000000ff' }, { code: 'NOT_FOUND', field: 'tierId' }],
      [ada.id, { assessmentLimit: -1 }, { code: 'BAD_USER_INPUT', field: 'assessmentLimit' }],
      [ada.id, { name: '\u202e' }, { code: 'BAD_USER_INPUT', field: 'name' }],
      ['not-a-uuid', { name: 'Some One' }, { code: 'NOT_FOUND' }],
      ['00000000-0000-0000-0000-000000000000', { name: 'Some One' }, { code: 'NOT_FOUND' }],
    ];
    for (const [id, input, ext] of cases) expect((await update(id, input)).errors![0]!.extensions).toMatchObject(ext);
    const undeclared = await update(ada.id, { name: 'Mallory', passwordHash: 'x' });
    expect(firstCode(undeclared)).toBe('BAD_USER_INPUT');
    expect(await userRow(t, ada.id)).toMatchObject({ name: ada.name, username: ada.username, email: ada.email, tier_id: FREE });

    ok(await asAdmin(DELETE_USER, { id: bob.id }));
    expect(firstCode(await update(bob.id, { name: 'Back Again' }))).toBe('CONFLICT');
  });
});

describe('delete and restore', () => {
  it('soft delete: login fails and the address is held; restore: login works', async () => {
    const ada = await createVerifiedUser(t, 'sd');
    expect(ok(await asAdmin(DELETE_USER, { id: ada.id })).adminDeleteUser).toBe(true);
    expect(firstCode(await t.gql(ME, {}, bearer(ada)))).toBe('UNAUTHENTICATED');
    expect(firstCode(await logIn(ada.username, ada.password))).toBe('INVALID_CREDENTIALS');
    expect(ok(await asAdmin(ADMIN_USER, { id: ada.id })).adminUser).toMatchObject({ status: 'DELETED', deletedAt: expect.any(String) });
    expect(await auditEvents(t, 'user.deleted', ada.id)).toEqual([expect.objectContaining({ actor_id: admin.id })]);
    // A repeat is a no-op.
    expect(ok(await asAdmin(DELETE_USER, { id: ada.id })).adminDeleteUser).toBe(true);

    const restored = ok(await asAdmin(RESTORE_USER, { id: ada.id })).adminRestoreUser;
    expect(restored).toMatchObject({ id: ada.id, email: ada.email, username: ada.username });
    expect(ok(await logIn(ada.username, ada.password)).logIn.user.id).toBe(ada.id);
    expect(firstCode(await t.gql(ME, {}, bearer(ada)))).toBe('UNAUTHENTICATED'); // its old sessions stay ended
    expect(await auditEvents(t, 'user.restored', ada.id)).toHaveLength(1);
    expect(await auditEvents(t, 'admin.adminRestoreUser', ada.id)).toHaveLength(1);
  });

  it("hard delete removes the account's sessions, tokens, profile and assessments, keeps other people's data, and erases it from the audit", async () => {
    // An account made by a login link, with a lead it converted from and an assessment taken as that lead.
    const lead = await captureLead(t, { fullName: 'Erased Person', companyName: 'Gone AS' });
    ok(await t.gql(START, { slug: 'smb-baseline' }, { token: lead.token }));
    const session = ok(await t.gql(LOG_IN_WITH_LINK, { t: await loginLinkToken(t, lead.email) })).logInWithLink;
    const gone = { id: session.user.id as string, tokens: session as Record<string, string> };
    ok(await t.gql(`mutation { updateProfile(input: { jobTitle: "Tester" }) { jobTitle } }`, {}, bearer(gone)));
    ok(await t.gql(`mutation ($e: String!) { requestPasswordReset(email: $e) }`, { e: lead.email }));
    await t.inbox.waitFor(lead.email, /reset/i);
    await t.sql(`update users set is_superuser = true where id = ?`, [gone.id]); // it may not shield itself that way
    ok(await update(gone.id, { name: 'Erased Person' }));
    await t.sql(`update users set is_superuser = false where id = ?`, [gone.id]);

    const kept = await createVerifiedUser(t, 'keep');
    ok(await t.gql(START, { slug: 'smb-baseline' }, bearer(kept)));
    ok(await t.gql(`mutation { updateProfile(input: { jobTitle: "Stays" }) { jobTitle } }`, {}, bearer(kept)));
    const countsOf = async (id: string) => ({
      sessions: await countRows(t, 'sessions', 'user_id = ?', [id]),
      refresh: await countRows(t, 'refresh_tokens r join sessions s on s.id = r.session_id', 's.user_id = ?', [id]),
      profiles: await countRows(t, 'profiles', 'user_id = ?', [id]),
      assessments: await countRows(t, 'assessments', 'user_id = ?', [id]),
    });
    const keptBefore = await countsOf(kept.id);
    expect(Object.values(await countsOf(gone.id)).every((n) => n > 0)).toBe(true);

    expect(ok(await asAdmin(DELETE_USER, { id: gone.id, hard: true })).adminDeleteUser).toBe(true);

    expect(await countRows(t, 'users', 'id = ?', [gone.id])).toBe(0);
    expect(await countsOf(gone.id)).toEqual({ sessions: 0, refresh: 0, profiles: 0, assessments: 0 });
    expect(await countRows(t, 'one_time_tokens', 'user_id = ?', [gone.id])).toBe(0);
    expect(await countRows(t, 'outbox_emails', 'recipient = ?', [lead.email])).toBe(0);
    expect(await countRows(t, 'login_links', 'email = ?', [lead.email])).toBe(0);
    // The lead stays as staff's record, without the link to the account.
    expect(await t.sql(`select converted_user_id from leads where id = ?`, [lead.leadId])).toEqual([{ converted_user_id: null }]);
    expect(await countsOf(kept.id)).toEqual(keptBefore);
    expect(ok(await t.gql(ME, {}, bearer(kept))).me.id).toBe(kept.id);
    expect(firstCode(await t.gql(ME, {}, bearer(gone)))).toBe('UNAUTHENTICATED');

    // The events about it stay, with nothing personal in them.
    const events = await t.sql<Record<string, any>>(`select action, ip, user_agent, changes from audit_events where target_id = ? order by created_at`, [gone.id]);
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['admin.adminUpdateUser', 'user.deleted', 'admin.adminDeleteUser']));
    for (const e of events) {
      expect(JSON.stringify(e)).not.toContain(lead.email);
      expect(JSON.stringify(e)).not.toContain('Erased Person');
    }
    expect(events.find((e) => e.action === 'admin.adminDeleteUser')!.changes).toEqual({ hard: true });
    // The address is free at once.
    const again = { ...newAccount('again'), email: lead.email };
    ok(await t.gql(SIGN_UP, { input: again }));
    expect(await countRows(t, 'users', 'email = ?', [lead.email])).toBe(1);
    expect(firstCode(await asAdmin(DELETE_USER, { id: gone.id, hard: true }))).toBe('NOT_FOUND');
  });

  it('purges accounts deleted more than ACCOUNT_RETENTION_DAYS ago in the cleanup job, freeing their address', async () => {
    const old = await createVerifiedUser(t, 'purge');
    const recent = await createVerifiedUser(t, 'purgr');
    ok(await asAdmin(DELETE_USER, { id: old.id }));
    ok(await asAdmin(DELETE_USER, { id: recent.id }));
    await t.sql(`update users set deleted_at = now() - interval '31 days' where id = ?`, [old.id]);
    await t.sql(`update users set deleted_at = now() - interval '29 days' where id = ?`, [recent.id]);

    const counts = await t.app.cleanupJob.run();
    expect(counts).toMatchObject({ 'deleted accounts': 1 });
    expect(await countRows(t, 'users', 'id = ?', [old.id])).toBe(0);
    expect(await countRows(t, 'users', 'id = ?', [recent.id])).toBe(1);
    expect(await auditEvents(t, 'user.deleted', old.id)).toEqual(
      expect.arrayContaining([expect.objectContaining({ actor_id: null, changes: { purged: true } })]),
    );
    ok(await t.gql(SIGN_UP, { input: { ...newAccount('purgn'), email: old.email, username: old.username } }));
    expect((await t.sql(`select count(*)::int as n from users where email = ? and deleted_at is null`, [old.email]))[0]!.n).toBe(1);
    // Restorable until then.
    expect(ok(await asAdmin(RESTORE_USER, { id: recent.id })).adminRestoreUser.id).toBe(recent.id);
    expect(firstCode(await asAdmin(RESTORE_USER, { id: old.id }))).toBe('NOT_FOUND');
  });
});

describe('adminRevokeSessions', () => {
  it('ends every live session and answers how many', async () => {
    const ada = await createVerifiedUser(t, 'rev');
    const second = ok(await logIn(ada.username, ada.password)).logIn;
    expect(ok(await asAdmin(REVOKE_SESSIONS, { id: ada.id })).adminRevokeSessions).toBe(2);
    for (const token of [ada.tokens.accessToken, second.accessToken]) expect(firstCode(await t.gql(ME, {}, { token }))).toBe('UNAUTHENTICATED');
    expect(ok(await asAdmin(REVOKE_SESSIONS, { id: ada.id })).adminRevokeSessions).toBe(0);
    expect(firstCode(await asAdmin(REVOKE_SESSIONS, { id: 'nope' }))).toBe('NOT_FOUND');
    expect((await auditEvents(t, 'admin.adminRevokeSessions', ada.id)).map((e) => e.changes)).toEqual([{ revokedSessions: 2 }, { revokedSessions: 0 }]);
  });
});

describe('the last superuser', () => {
  const liveSuperusers = async () => countRows(t, 'users', `is_superuser and status = 'active' and deleted_at is null`);

  it('can be neither demoted, disabled nor deleted (soft or hard), and demotion ends sessions otherwise', async () => {
    const a = await createSuperuser(t, 'lsa');
    await t.sql(`update users set is_superuser = false where id <> ?`, [a.id]);
    const asA = (q: string, v: Record<string, unknown>) => t.gql(q, v, bearer(a));
    for (const [q, v] of [
      [UPDATE_USER, { id: a.id, input: { isSuperuser: false } }],
      [UPDATE_USER, { id: a.id, input: { disabled: true } }],
      [DELETE_USER, { id: a.id }],
      [DELETE_USER, { id: a.id, hard: true }],
    ] as const) {
      expect(firstCode(await asA(q, v))).toBe('CONFLICT');
    }
    expect(await userRow(t, a.id)).toMatchObject({ is_superuser: true, status: 'active', deleted_at: null });

    const b = await createSuperuser(t, 'lsb');
    ok(await asA(UPDATE_USER, { id: b.id, input: { isSuperuser: false } }));
    expect(firstCode(await t.gql(ME, {}, bearer(b)))).toBe('UNAUTHENTICATED'); // demotion ended its sessions
    expect(await liveSuperusers()).toBe(1);
    // A disabled superuser does not count as one left.
    await t.sql(`update users set is_superuser = true, status = 'disabled' where id = ?`, [b.id]);
    expect(firstCode(await asA(UPDATE_USER, { id: a.id, input: { isSuperuser: false } }))).toBe('CONFLICT');
    await t.sql(`update users set is_superuser = false, status = 'active' where id = ?`, [b.id]);
  });

  it('holds when two superusers demote each other at once', async () => {
    for (let round = 0; round < 3; round++) {
      const a = await createSuperuser(t, 'race');
      const b = await createSuperuser(t, 'race');
      await t.sql(`update users set is_superuser = false where id not in (?, ?)`, [a.id, b.id]);
      const [ra, rb] = await Promise.all([
        t.gql(UPDATE_USER, { id: b.id, input: { isSuperuser: false } }, bearer(a)),
        t.gql(UPDATE_USER, { id: a.id, input: { isSuperuser: false } }, bearer(b)),
      ]);
      expect([ra, rb].filter((r) => !r.errors)).toHaveLength(1);
      expect(['CONFLICT', 'FORBIDDEN', 'UNAUTHENTICATED']).toContain(firstCode([ra, rb].find((r) => r.errors)!));
      expect(await liveSuperusers()).toBe(1);
    }
    // And when both delete each other.
    const a = await createSuperuser(t, 'race');
    const b = await createSuperuser(t, 'race');
    await t.sql(`update users set is_superuser = false where id not in (?, ?)`, [a.id, b.id]);
    await Promise.all([t.gql(DELETE_USER, { id: b.id }, bearer(a)), t.gql(DELETE_USER, { id: a.id }, bearer(b))]);
    expect(await liveSuperusers()).toBe(1);
    // Restore the file's own administrator for anything after.
    await t.sql(`update users set is_superuser = true where id = ?`, [admin.id]);
  });
});
