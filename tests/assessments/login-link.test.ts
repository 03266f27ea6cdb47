import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { codes, firstCode, type GraphQLResponse, ok } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { CHEAP_HASHING, createVerifiedUser, LOG_IN, ME, newAccount, relaxedLimits, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';
import { ASSESSMENT_TEST_ENV, captureLead, leadEmail, LOG_IN_WITH_LINK, RELAXED_LEAD_LIMITS, START } from './support';

// logInWithLink and requestLoginLink: a link proves the address. It signs in the account with the
// address (taking it from whoever made it without proving it) or makes one, moves the address's lead
// assessments to it and ends their lead sessions. And changePassword for an account made this way.

const LEAD_SUBJECT = /^Save your Posture results$/;
const SIGN_IN_SUBJECT = /^Sign in to Posture$/;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: relaxedLimits(...RELAXED_LEAD_LIMITS), ...CHEAP_HASHING } });
});
afterAll(() => t.stop());

const count = async (query: string, params: unknown[] = []) => (await t.sql<{ n: number }>(`select count(*)::int as n from ${query}`, params))[0]!.n;
const MINE = `{ myAssessments { totalCount edges { node { id } } } }`;
const ASSESSMENT = `query ($id: ID!) { assessment(id: $id) { id } }`;
const REQUEST_LINK = `mutation ($e: String!) { requestLoginLink(email: $e) }`;
const CHANGE_PASSWORD = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken refreshToken user { id email } } }`;
const VERIFY = `mutation ($t: String!) { verifyEmail(token: $t) }`;
const PROFILE = `{ me { id name username email emailVerified profile { fullName companyName jobTitle phone companySize industry } } }`;

const newPassword = () => `pw-${randomBytes(9).toString('base64url')}`;
const idsOf = (connection: { edges: Array<{ node: { id: string } }> }) => connection.edges.map((e) => e.node.id).sort();

/** The login-link token of the `count`-th email to `email` with this subject. */
async function linkFor(email: string, subject = LEAD_SUBJECT, count = 1): Promise<string> {
  return linkToken(await t.inbox.waitFor(email, subject, { count }), 'login');
}

const logInWithLink = (token: string) => t.gql(LOG_IN_WITH_LINK, { t: token });

async function startAssessment(token: string): Promise<string> {
  return ok(await t.gql(START, { slug: 'smb-baseline' }, { token })).startAssessment.assessment.id;
}

/** Waits until the mail worker has settled everything queued so far. */
async function settled(): Promise<void> {
  for (;;) {
    if ((await count(`outbox_emails where status = 'pending'`)) === 0) return;
    await sleep(5);
  }
}

function expectLimited(res: GraphQLResponse) {
  expect(codes(res)).toEqual(['RATE_LIMITED']);
  expect(res.status).toBe(429);
  expect(res.data ?? null).toBeNull();
}

describe('a link for an address with a verified account', () => {
  it('signs into that account, attaches the lead assessment, converts the lead and ends its session; the lead never sees the account', async () => {
    const user = await createVerifiedUser(t, 'lv');
    const own = await startAssessment(user.tokens.accessToken);

    const lead = await captureLead(t, { email: user.email.toUpperCase() });
    const leadAssessment = await startAssessment(lead.token);
    expect(leadAssessment).not.toBe(own);

    // Before the link: the lead session sees its own assessment only, and nothing of the account.
    expect(ok(await t.gql(ME, {}, { token: lead.token })).me).toBeNull();
    const leadMine = ok(await t.gql(MINE, {}, { token: lead.token })).myAssessments;
    expect(leadMine.totalCount).toBe(1);
    expect(idsOf(leadMine)).toEqual([leadAssessment]);
    const foreign = await t.gql(ASSESSMENT, { id: own }, { token: lead.token });
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    expect(foreign.data?.assessment ?? null).toBeNull();
    // …and the account none of the lead's.
    expect(idsOf(ok(await t.gql(MINE, {}, { token: user.tokens.accessToken })).myAssessments)).toEqual([own]);
    expect(codes(await t.gql(ASSESSMENT, { id: leadAssessment }, { token: user.tokens.accessToken }))).toEqual(['NOT_FOUND']);

    const login = ok(await logInWithLink(await linkFor(user.email))).logInWithLink;
    expect(login.user).toMatchObject({ id: user.id, email: user.email, username: user.username, emailVerified: true });
    expect(await count(`users where email = ?`, [user.email])).toBe(1);

    const mine = ok(await t.gql(MINE, {}, { token: login.accessToken })).myAssessments;
    expect(mine.totalCount).toBe(2);
    expect(idsOf(mine)).toEqual([own, leadAssessment].sort());
    expect(ok(await t.gql(ASSESSMENT, { id: leadAssessment }, { token: login.accessToken })).assessment.id).toBe(leadAssessment);

    const [row] = await t.sql(`select converted_user_id, converted_at from leads where id = ?`, [lead.leadId]);
    expect(row!.converted_user_id).toBe(user.id);
    expect(row!.converted_at).not.toBeNull();
    expect(await count(`lead_sessions where lead_id = ? and revoked_at is null`, [lead.leadId])).toBe(0);
    expect(firstCode(await t.gql(MINE, {}, { token: lead.token }))).toBe('UNAUTHENTICATED');
    expect(firstCode(await t.gql(ASSESSMENT, { id: leadAssessment }, { token: lead.token }))).toBe('UNAUTHENTICATED');
    // The account's earlier session is untouched.
    expect(ok(await t.gql(ME, {}, { token: user.tokens.accessToken })).me.id).toBe(user.id);
    // Its password still works.
    expect(ok(await t.gql(LOG_IN, { input: { usernameOrEmail: user.email, password: user.password } })).logIn.user.id).toBe(user.id);
  });
});

describe('no pre-hijacking', () => {
  it("takes an unverified account from whoever made it: same id, verified, the attacker's password and link void, no password", async () => {
    const attacker = newAccount('ph');
    const signUp = await t.gql(SIGN_UP, { input: attacker });
    expect(signUp.errors).toBeUndefined();
    const accountId = signUp.data!.signUp.user.id as string;
    const attackerLink = linkToken(await t.inbox.waitFor(attacker.email, /confirm your email/i), 'verify-email');

    // The victim, owner of the address, takes an assessment and follows the emailed link.
    const lead = await captureLead(t, { email: attacker.email, fullName: 'Victim Person', companyName: 'Victim AS' });
    const assessment = await startAssessment(lead.token);
    const login = ok(await logInWithLink(await linkFor(attacker.email))).logInWithLink;
    expect(login.user).toMatchObject({ id: accountId, email: attacker.email, emailVerified: true });
    expect(await count(`users where email = ?`, [attacker.email])).toBe(1);
    expect(idsOf(ok(await t.gql(MINE, {}, { token: login.accessToken })).myAssessments)).toEqual([assessment]);
    const [row] = await t.sql(`select password_hash, email_verified_at from users where id = ?`, [accountId]);
    expect(row!.password_hash).toBeNull();
    expect(row!.email_verified_at).not.toBeNull();

    // The attacker's password no longer logs in, by email or username; the earlier verification link is void.
    for (const usernameOrEmail of [attacker.email, attacker.username]) {
      expect(codes(await t.gql(LOG_IN, { input: { usernameOrEmail, password: attacker.password } }))).toEqual(['INVALID_CREDENTIALS']);
    }
    expect(codes(await t.gql(VERIFY, { t: attackerLink }))).toEqual(['INVALID_TOKEN']);

    // The account has no password: changePassword without currentPassword sets one, once.
    const password = newPassword();
    const changed = ok(await t.gql(CHANGE_PASSWORD, { input: { newPassword: password } }, { token: login.accessToken })).changePassword;
    expect(changed.user.id).toBe(accountId);
    const again = await t.gql(CHANGE_PASSWORD, { input: { newPassword: newPassword() } }, { token: changed.accessToken });
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(again.errors![0]!.extensions!.field).toBe('currentPassword');
    expect(ok(await t.gql(LOG_IN, { input: { usernameOrEmail: attacker.email, password } })).logIn.user.id).toBe(accountId);
    expect(codes(await t.gql(LOG_IN, { input: { usernameOrEmail: attacker.email, password: attacker.password } }))).toEqual([
      'INVALID_CREDENTIALS',
    ]);
  });
});

describe('conversion', () => {
  it('moves the assessments of every unconverted lead with the address and ends every one of their sessions', async () => {
    const email = leadEmail('two');
    const first = await captureLead(t, { email });
    const second = await captureLead(t, { email: email.toUpperCase() });
    const a = await startAssessment(first.token);
    const b = await startAssessment(second.token);
    expect(a).not.toBe(b);
    // Each lead sees only its own.
    expect(idsOf(ok(await t.gql(MINE, {}, { token: first.token })).myAssessments)).toEqual([a]);
    expect(idsOf(ok(await t.gql(MINE, {}, { token: second.token })).myAssessments)).toEqual([b]);
    expect(codes(await t.gql(ASSESSMENT, { id: b }, { token: first.token }))).toEqual(['NOT_FOUND']);

    // Only the first capture's link is followed.
    const login = ok(await logInWithLink(await linkFor(email, LEAD_SUBJECT, 1))).logInWithLink;
    const mine = ok(await t.gql(MINE, {}, { token: login.accessToken })).myAssessments;
    expect(mine.totalCount).toBe(2);
    expect(idsOf(mine)).toEqual([a, b].sort());
    for (const lead of [first, second]) {
      expect(firstCode(await t.gql(MINE, {}, { token: lead.token }))).toBe('UNAUTHENTICATED');
    }
    const rows = await t.sql(`select converted_user_id from leads where email = ?`, [email]);
    expect(rows).toEqual([{ converted_user_id: login.user.id }, { converted_user_id: login.user.id }]);
    expect(await count(`lead_sessions s join leads l on l.id = s.lead_id where l.email = ? and s.revoked_at is null`, [email])).toBe(0);

    // The second capture's link still signs in, to the same account, and moves nothing more.
    const later = ok(await logInWithLink(await linkFor(email, LEAD_SUBJECT, 2))).logInWithLink;
    expect(later.user.id).toBe(login.user.id);
    expect(ok(await t.gql(MINE, {}, { token: later.accessToken })).myAssessments.totalCount).toBe(2);
  });

  it('leaves the leads of other addresses alone', async () => {
    const email = leadEmail('mine');
    const other = await captureLead(t, { email: leadEmail('theirs') });
    const otherAssessment = await startAssessment(other.token);
    await captureLead(t, { email });
    const login = ok(await logInWithLink(await linkFor(email))).logInWithLink;
    expect(ok(await t.gql(MINE, {}, { token: login.accessToken })).myAssessments.totalCount).toBe(0);
    expect(idsOf(ok(await t.gql(MINE, {}, { token: other.token })).myAssessments)).toEqual([otherAssessment]);
    expect(codes(await t.gql(ASSESSMENT, { id: otherAssessment }, { token: login.accessToken }))).toEqual(['NOT_FOUND']);
  });
});

describe('links', () => {
  it('are single-use', async () => {
    const { email } = await captureLead(t);
    const token = await linkFor(email);
    const login = ok(await logInWithLink(token)).logInWithLink;
    expect(login.user.email).toBe(email);
    const again = await logInWithLink(token);
    expect(codes(again)).toEqual(['INVALID_TOKEN']);
    expect(again.data ?? null).toBeNull();
  });

  it('are followed once of 20 at the same time: one success, INVALID_TOKEN for the rest, one account', async () => {
    const { email } = await captureLead(t);
    const token = await linkFor(email);
    const results = await Promise.all(Array.from({ length: 20 }, () => logInWithLink(token)));
    const succeeded = results.filter((r) => !r.errors);
    expect(succeeded).toHaveLength(1);
    expect(results.filter((r) => r.errors).map((r) => codes(r))).toEqual(Array.from({ length: 19 }, () => ['INVALID_TOKEN']));
    expect(await count(`users where email = ?`, [email])).toBe(1);
    expect(await count(`sessions s join users u on u.id = s.user_id where u.email = ?`, [email])).toBe(1);
  });

  it('for one new address, followed at the same time, make one account and sign both in to it', async () => {
    const email = leadEmail('race');
    await captureLead(t, { email });
    await captureLead(t, { email });
    const tokens = [await linkFor(email, LEAD_SUBJECT, 1), await linkFor(email, LEAD_SUBJECT, 2)];
    const results = await Promise.all(tokens.map((token) => logInWithLink(token)));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(results[0]!.data!.logInWithLink.user.id).toBe(results[1]!.data!.logInWithLink.user.id);
    expect(await count(`users where email = ?`, [email])).toBe(1);
  });

  it.each([
    ['empty', ''],
    ['one character', 'x'],
    ['15 characters', 'a'.repeat(15)],
    ['43 characters of nothing', 'a'.repeat(43)],
    ['random', randomBytes(32).toString('base64url')],
    ['too long', 'a'.repeat(300)],
    ['SQL', `' or 1=1 -- ${'x'.repeat(20)}`],
  ])('refuse a garbage token (%s) with INVALID_TOKEN', async (_label, token) => {
    const users = await count('users');
    const res = await logInWithLink(token);
    expect(codes(res)).toEqual(['INVALID_TOKEN']);
    expect(res.data ?? null).toBeNull();
    expect(await count('users')).toBe(users);
  });

  it('refuse a real token with one character changed', async () => {
    const { email } = await captureLead(t);
    const token = await linkFor(email);
    const altered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(codes(await logInWithLink(altered))).toEqual(['INVALID_TOKEN']);
    expect(await count(`users where email = ?`, [email])).toBe(0);
    expect(ok(await logInWithLink(token)).logInWithLink.user.email).toBe(email);
  });
});

describe('a new account from a link', () => {
  it('is verified, named from the lead, its username from the email, its profile from the form', async () => {
    const local = `Jo.Ann-${randomBytes(3).toString('hex')}`;
    const base = local.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
    const email = `${local}@x-example.com`;
    const form = { fullName: 'Jo Ann Berg', companyName: 'Berg AS', jobTitle: 'Daglig leder', phone: '+47 22 00 00 00', companySize: '51-200', industry: 'Finance' };
    await captureLead(t, { email, ...form, locale: 'nb' });
    const normalized = email.toLowerCase();
    const token = linkToken(await t.inbox.waitFor(normalized, /^Lagre resultatene dine fra Posture$/), 'login');
    const login = ok(await logInWithLink(token)).logInWithLink;
    expect(login.user).toMatchObject({ email: normalized, emailVerified: true, name: 'Jo Ann Berg', username: base, isSuperuser: false });
    expect(login.user.username).toMatch(/^[a-z0-9_]{2,20}$/);
    const me = ok(await t.gql(PROFILE, {}, { token: login.accessToken })).me;
    expect(me).toMatchObject({ id: login.user.id, name: 'Jo Ann Berg', username: base, emailVerified: true });
    expect(me.profile).toEqual(form);
    const [row] = await t.sql(`select password_hash from users where id = ?`, [login.user.id]);
    expect(row!.password_hash).toBeNull();

    // Another domain, the same local part: a different username, of the same form.
    const twin = `${local}@y-example.com`.toLowerCase();
    await captureLead(t, { email: twin });
    const twinLogin = ok(await logInWithLink(await linkFor(twin))).logInWithLink;
    expect(twinLogin.user.username).not.toBe(login.user.username);
    expect(twinLogin.user.username).toMatch(/^[a-z0-9_]{2,20}$/);
    expect(twinLogin.user.username.startsWith(base)).toBe(true);
    expect([...twinLogin.user.name].length).toBeGreaterThanOrEqual(2);

    // Its profile's language is the lead's: a requested link comes in Norwegian.
    expect(ok(await t.gql(REQUEST_LINK, { e: normalized })).requestLoginLink).toBe(true);
    const nb = await t.inbox.waitFor(normalized, /^Logg inn på Posture$/);
    expect(linkToken(nb, 'login')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a@x.com and a@y.com get different usernames', async () => {
    const tag = randomBytes(2).toString('hex');
    const [x, y] = [`a@x${tag}.com`, `a@y${tag}.com`];
    const usernames: string[] = [];
    for (const email of [x, y]) {
      await captureLead(t, { email });
      usernames.push(ok(await logInWithLink(await linkFor(email))).logInWithLink.user.username);
    }
    expect(usernames[0]).not.toBe(usernames[1]);
    for (const u of usernames) expect(u).toMatch(/^[a-z0-9_]{2,20}$/);
  });
});

describe('requestLoginLink', () => {
  it("always answers true; mails an account's address a sign-in link that signs into it", async () => {
    const user = await createVerifiedUser(t, 'rq');
    expect(ok(await t.gql(REQUEST_LINK, { e: `  ${user.email.toUpperCase()} ` })).requestLoginLink).toBe(true);
    const mail = await t.inbox.waitFor(user.email, SIGN_IN_SUBJECT);
    expect(mail.text).toContain(`Hello ${user.name},`);
    const token = linkToken(mail, 'login');
    expect(mail.text).toContain(`http://posture.test/login?token=${token}`);
    const login = ok(await logInWithLink(token)).logInWithLink;
    expect(login.user.id).toBe(user.id);
  });

  it("mails an unconverted lead's address its link", async () => {
    const lead = await captureLead(t);
    const assessment = await startAssessment(lead.token);
    expect(ok(await t.gql(REQUEST_LINK, { e: lead.email })).requestLoginLink).toBe(true);
    const token = await linkFor(lead.email, LEAD_SUBJECT, 2);
    const login = ok(await logInWithLink(token)).logInWithLink;
    expect(idsOf(ok(await t.gql(MINE, {}, { token: login.accessToken })).myAssessments)).toEqual([assessment]);
  });

  it('mails nothing to an unknown address, or a malformed one, and answers true all the same', async () => {
    const unknown = leadEmail('nobody');
    const malformed = 'not an address';
    for (const e of [unknown, malformed, 'x@y']) {
      const res = await t.gql(REQUEST_LINK, { e });
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ requestLoginLink: true });
    }
    await settled();
    await sleep(1000);
    expect(t.inbox.to(unknown)).toEqual([]);
    expect(t.inbox.messages.filter((m) => m.to === malformed || m.to === 'x@y')).toEqual([]);
    expect(await count(`login_links where email in (?, ?, ?)`, [unknown, malformed, 'x@y'])).toBe(0);
    expect(await count(`outbox_emails where recipient in (?, ?)`, [malformed, 'x@y'])).toBe(0);
  });

  it('allows 3 an hour per address, then RATE_LIMITED', async () => {
    const user = await createVerifiedUser(t, 'rr');
    for (const e of [user.email, user.email.toUpperCase(), ` ${user.email} `]) {
      expect(ok(await t.gql(REQUEST_LINK, { e })).requestLoginLink).toBe(true);
    }
    expectLimited(await t.gql(REQUEST_LINK, { e: user.email }));
    await t.inbox.waitFor(user.email, SIGN_IN_SUBJECT, { count: 3 });
    await settled();
    await sleep(300);
    expect(t.inbox.to(user.email).filter((m) => SIGN_IN_SUBJECT.test(m.subject))).toHaveLength(3);

    // The same count for an address without an account.
    const unknown = leadEmail('limit');
    for (let i = 0; i < 3; i++) expect(ok(await t.gql(REQUEST_LINK, { e: unknown })).requestLoginLink).toBe(true);
    expectLimited(await t.gql(REQUEST_LINK, { e: unknown }));
  });
});

describe('changePassword', () => {
  it('wants currentPassword from an account that has a password (BAD_USER_INPUT, field currentPassword)', async () => {
    const user = await createVerifiedUser(t, 'cw');
    const res = await t.gql(CHANGE_PASSWORD, { input: { newPassword: newPassword() } }, { token: user.tokens.accessToken });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.extensions!.field).toBe('currentPassword');
    const empty = await t.gql(CHANGE_PASSWORD, { input: { currentPassword: '', newPassword: newPassword() } }, { token: user.tokens.accessToken });
    expect(codes(empty)).toEqual(['BAD_USER_INPUT']);
    expect(empty.errors![0]!.extensions!.field).toBe('currentPassword');
    // Nothing changed: the password still logs in and the session still works.
    expect(ok(await t.gql(LOG_IN, { input: { usernameOrEmail: user.email, password: user.password } })).logIn.user.id).toBe(user.id);
    expect(ok(await t.gql(ME, {}, { token: user.tokens.accessToken })).me.id).toBe(user.id);
  });

  it('lets an account made by a link set a first password without currentPassword; until then logIn is INVALID_CREDENTIALS', async () => {
    const { email } = await captureLead(t);
    const login = ok(await logInWithLink(await linkFor(email))).logInWithLink;
    // (Four tries: logIn allows five failures a minute per account.)
    for (const usernameOrEmail of [email, login.user.username]) {
      for (const password of ['anything-at-all', newPassword()]) {
        expect(codes(await t.gql(LOG_IN, { input: { usernameOrEmail, password } }))).toEqual(['INVALID_CREDENTIALS']);
      }
    }
    const password = newPassword();
    const changed = ok(await t.gql(CHANGE_PASSWORD, { input: { newPassword: password } }, { token: login.accessToken })).changePassword;
    expect(changed.user.id).toBe(login.user.id);
    expect(ok(await t.gql(LOG_IN, { input: { usernameOrEmail: email, password } })).logIn.user.id).toBe(login.user.id);
    // Now it has one, it must be given.
    const again = await t.gql(CHANGE_PASSWORD, { input: { newPassword: newPassword() } }, { token: changed.accessToken });
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(again.errors![0]!.extensions!.field).toBe('currentPassword');
  });

  // KNOWN FAILURE (src bug): all 4 succeed, on PostgreSQL and on the embedded database alike, and the
  // last to commit wins. AuthService.changePassword's in-transaction re-check ("a second request
  // racing it must prove the one just set") reads the user with tx.findOneOrFail, which returns the
  // entity already in the identity map from the read before the transaction (no query, no row lock),
  // so every racing request still sees no password.
  it('sets a first password once, even when requests race: one succeeds, the rest INVALID_CREDENTIALS', async () => {
    const { email } = await captureLead(t);
    const login = ok(await logInWithLink(await linkFor(email))).logInWithLink;
    const passwords = Array.from({ length: 4 }, () => newPassword());
    const results = await Promise.all(
      passwords.map((newPassword) => t.gql(CHANGE_PASSWORD, { input: { newPassword } }, { token: login.accessToken })),
    );
    const outcomes = results.map((r) => (r.errors ? codes(r).join() : 'ok'));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    // A request that read the account before the winner committed loses the race (INVALID_CREDENTIALS).
    // On a loaded machine one may start only after it: then the account has a password to prove
    // (BAD_USER_INPUT), or its session has already ended with the change (UNAUTHENTICATED).
    for (const refused of outcomes.filter((o) => o !== 'ok')) {
      expect(['INVALID_CREDENTIALS', 'BAD_USER_INPUT', 'UNAUTHENTICATED']).toContain(refused);
    }
    const winner = passwords[outcomes.indexOf('ok')]!;
    expect(ok(await t.gql(LOG_IN, { input: { usernameOrEmail: email, password: winner } })).logIn.user.id).toBe(login.user.id);
  });
});

describe('an account that is not live', () => {
  it("gets no sign-in link, and a lead's link for its address is INVALID_TOKEN", async () => {
    const user = await createVerifiedUser(t, 'ld');
    await t.sql(`update users set status = 'disabled' where id = ?`, [user.id]);
    const lead = await captureLead(t, { email: user.email });
    const assessment = await startAssessment(lead.token);
    const res = await logInWithLink(await linkFor(user.email));
    expect(codes(res)).toEqual(['INVALID_TOKEN']);
    expect(await count(`sessions where user_id = ?`, [user.id])).toBe(1); // only createVerifiedUser's log-in
    expect((await t.sql(`select user_id from assessments where id = ?`, [assessment]))[0]!.user_id).toBeNull();
    expect((await t.sql(`select converted_user_id from leads where id = ?`, [lead.leadId]))[0]!.converted_user_id).toBeNull();

    const before = t.inbox.to(user.email).length;
    expect(ok(await t.gql(REQUEST_LINK, { e: user.email })).requestLoginLink).toBe(true);
    await settled();
    await sleep(500);
    expect(t.inbox.to(user.email).slice(before).filter((m) => SIGN_IN_SUBJECT.test(m.subject))).toEqual([]);
  });
});

// Last: it moves the app's clock on.
describe('link expiry', () => {
  it('ends after LOGIN_LINK_TTL (15 minutes by default)', async () => {
    const [early, late] = [await captureLead(t), await captureLead(t)];
    const [earlyToken, lateToken] = [await linkFor(early.email), await linkFor(late.email)];
    t.clock.advance(15 * 60 - 10);
    expect(ok(await logInWithLink(earlyToken)).logInWithLink.user.email).toBe(early.email);
    t.clock.advance(11);
    const res = await logInWithLink(lateToken);
    expect(codes(res)).toEqual(['INVALID_TOKEN']);
    expect(await count(`users where email = ?`, [late.email])).toBe(0);
    expect((await t.sql(`select converted_at from leads where id = ?`, [late.leadId]))[0]!.converted_at).toBeNull();
    // The lead session lives on (24 h), and a fresh link works.
    expect(ok(await t.gql(MINE, {}, { token: late.token })).myAssessments.totalCount).toBe(0);
    expect(ok(await t.gql(REQUEST_LINK, { e: late.email })).requestLoginLink).toBe(true);
    const fresh = await linkFor(late.email, LEAD_SUBJECT, 2);
    expect(ok(await logInWithLink(fresh)).logInWithLink.user.email).toBe(late.email);
  });
});
