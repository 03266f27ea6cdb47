import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { codes, firstCode, type GraphQLResponse, ok, type RequestOptions } from '../support/graphql';
import { linkToken, type ReceivedMail } from '../support/smtp';
import { median, timedPoster } from '../support/timing';
import { CHEAP_HASHING, createVerifiedUser, ME, newAccount, RELAXED_IP_LIMITS, relaxedLimits, SIGN_UP, startTestApp, withEnv, type TestApp } from '../support/test-app';
import { ASSESSMENT_TEST_ENV, CAPTURE, captureLead, leadEmail, LOG_IN_WITH_LINK, RELAXED_LEAD_LIMITS, START } from './support';

// captureLead: the same answer (and the same time) for every address, a lead session that is not an
// account, input rules, rate limits, the emailed login link, and no way for a lead to touch an account.

const LEAD_SUBJECT = /^Save your Posture results$/;
const LEAD_SUBJECT_NB = /^Lagre resultatene dine fra Posture$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: relaxedLimits(...RELAXED_LEAD_LIMITS), ...CHEAP_HASHING } });
});
afterAll(() => t.stop());

const count = async (query: string, params: unknown[] = []) => (await t.sql<{ n: number }>(`select count(*)::int as n from ${query}`, params))[0]!.n;
const leadsWith = (email: string) => t.sql(`select * from leads where email = ? order by created_at`, [email]);
const capture = (input: Record<string, unknown>, options?: RequestOptions) => t.gql(CAPTURE, { input }, options);

/** The keys of a JSON value, all the way down, with the type of each leaf. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shape(v)]));
  return value === null ? 'null' : typeof value;
}

/** Waits until the mail worker has settled everything queued so far. */
async function settled(): Promise<void> {
  for (;;) {
    const n = await count(`outbox_emails where status = 'pending'`);
    if (n === 0) return;
    await sleep(2);
  }
}

function expectBadInput(res: GraphQLResponse, field: string) {
  expect(res.status).toBe(200);
  expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  expect(res.errors![0]!.extensions!.field).toBe(field);
  expect(res.data ?? null).toBeNull();
}

function expectLimited(res: GraphQLResponse, retryAfter: number) {
  expect(codes(res)).toEqual(['RATE_LIMITED']);
  expect(res.status).toBe(429);
  expect(res.data ?? null).toBeNull();
  expect(Number(res.headers.get('retry-after'))).toBe(retryAfter);
}

async function unverifiedAccount(prefix: string) {
  const account = newAccount(prefix);
  const res = await t.gql(SIGN_UP, { input: account });
  expect(res.errors).toBeUndefined();
  await t.inbox.waitFor(account.email, /confirm your email/i);
  return { ...account, id: res.data!.signUp.user.id as string };
}

describe('captureLead answers alike for every address', () => {
  it('gives the same shape, a fresh lead and no account, whether the address is new, has a verified or an unverified account, or an earlier lead', async () => {
    const verified = await createVerifiedUser(t, 'cv');
    const unverified = await unverifiedAccount('cu');
    const earlier = leadEmail('earlier');
    await captureLead(t, { email: earlier });
    const fresh = leadEmail('fresh');
    const accountsBefore = await count('users');
    const rowsBefore = await t.sql(`select id, password_hash, email_verified_at, name, username from users order by id`);

    const answers: Array<{ email: string; res: GraphQLResponse }> = [];
    for (const email of [fresh, verified.email, unverified.email, earlier]) {
      answers.push({ email, res: await capture({ email, companyName: 'Acme AS' }) });
    }

    for (const { res } of answers) {
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(shape(res.data)).toEqual(shape(answers[0]!.res.data));
      expect(Object.keys(res.data!.captureLead).sort()).toEqual(['canTakeAssessment', 'leadId', 'session']);
      expect(res.data!.captureLead.canTakeAssessment).toBe(true);
      expect(res.data!.captureLead.leadId).toMatch(UUID);
      // Never a password, a user id, or anything about an account.
      const body = JSON.stringify(res.data);
      expect(body).not.toMatch(/password/i);
      expect(body).not.toContain(verified.id);
      expect(body).not.toContain(unverified.id);
    }
    const ids = answers.map((a) => a.res.data!.captureLead.leadId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [i, { email }] of answers.entries()) {
      const [row] = await t.sql(`select email, converted_user_id from leads where id = ?`, [ids[i]]);
      expect(row).toEqual({ email, converted_user_id: null });
    }
    expect(await leadsWith(earlier)).toHaveLength(2);

    // No account was made or touched: the unverified one is still unverified, passwords are as they were.
    expect(await count('users')).toBe(accountsBefore);
    expect(await t.sql(`select id, password_hash, email_verified_at, name, username from users order by id`)).toEqual(rowsBefore);
    expect(await count(`users where email = ?`, [fresh])).toBe(0);
  });

  it('has no password or account field in its payload type', async () => {
    const res = ok(
      await t.gql(`{ p: __type(name: "CaptureLeadPayload") { fields { name } } s: __type(name: "LeadSession") { fields { name } } }`),
    );
    expect(res.p.fields.map((f: { name: string }) => f.name).sort()).toEqual(['canTakeAssessment', 'leadId', 'session']);
    expect(res.s.fields.map((f: { name: string }) => f.name).sort()).toEqual(['accessToken', 'accessTokenExpiresAt']);
  });

  it('stores the normalized email and the form fields; marketingConsent records when', async () => {
    const email = leadEmail('form');
    const before = t.clock.now().getTime();
    const res = await capture({
      email: `  ${email.toUpperCase()}\t`,
      fullName: '  Kari Nordmann ',
      companyName: ' Fjord AS ',
      jobTitle: 'CISO',
      phone: '+47 22 33 44 55',
      companySize: '11-50',
      industry: 'Retail',
      source: 'spring-campaign',
      locale: 'NB',
      marketingConsent: true,
    });
    expect(res.errors).toBeUndefined();
    const [row] = await leadsWith(email);
    expect(row).toMatchObject({
      id: res.data!.captureLead.leadId,
      email,
      full_name: 'Kari Nordmann',
      company_name: 'Fjord AS',
      job_title: 'CISO',
      phone: '+47 22 33 44 55',
      company_size: '11-50',
      industry: 'Retail',
      source: 'spring-campaign',
      locale: 'nb',
      marketing_consent: true,
      status: 'NEW',
      converted_user_id: null,
      converted_at: null,
    });
    const consentAt = new Date(row!.marketing_consent_at).getTime();
    expect(consentAt).toBeGreaterThanOrEqual(before - 1000);
    expect(consentAt).toBeLessThanOrEqual(t.clock.now().getTime() + 1000);

    for (const marketingConsent of [false, undefined]) {
      const other = leadEmail('noconsent');
      expect((await capture({ email: other, ...(marketingConsent === undefined ? {} : { marketingConsent }) })).errors).toBeUndefined();
      const [r] = await leadsWith(other);
      expect(r).toMatchObject({ marketing_consent: false, marketing_consent_at: null, locale: 'en', full_name: null, company_name: null });
    }
  });
});

describe('the lead session', () => {
  it('has a lead-scoped access token whose subject is the lead, never an account', async () => {
    const user = await createVerifiedUser(t, 'cj');
    const res = ok(await capture({ email: user.email }));
    const { leadId, session } = res.captureLead;
    const claims = decodeJwt(session.accessToken);
    expect(decodeProtectedHeader(session.accessToken).typ).toBe('at+jwt');
    expect(claims.scope).toBe('lead');
    expect(claims.sub).toBe(`lead:${leadId}`);
    expect(claims.sub).not.toBe(user.id);
    expect(await count(`users where id::text = ? or id::text = ?`, [claims.sub, leadId])).toBe(0);
    // Lives 24 hours (LEAD_SESSION_TTL), as the payload says; its sid is a lead session of this lead.
    expect(claims.exp! - claims.iat!).toBe(24 * 3600);
    expect(new Date(session.accessTokenExpiresAt).getTime()).toBe(claims.exp! * 1000);
    const [row] = await t.sql(`select lead_id, expires_at, revoked_at from lead_sessions where id = ?`, [claims.sid]);
    expect(row).toMatchObject({ lead_id: leadId, revoked_at: null });
    expect(Math.abs(new Date(row!.expires_at).getTime() - claims.exp! * 1000)).toBeLessThan(2000);
  });

  it('is nobody to `me`, may list its own assessments, and is refused every account-only operation with EMAIL_NOT_VERIFIED', async () => {
    const { token } = await captureLead(t);
    expect(ok(await t.gql(ME, {}, { token })).me).toBeNull();
    expect(ok(await t.gql(`{ myAssessments { totalCount } }`, {}, { token })).myAssessments.totalCount).toBe(0);

    const accountOnly: Array<[string, string, Record<string, unknown>]> = [
      ['dashboard', `{ dashboard { assessmentsRemaining } }`, {}],
      ['updateProfile', `mutation { updateProfile(input: { companyName: "Hijack AS" }) { companyName } }`, {}],
      ['logOutEverywhere', `mutation { logOutEverywhere }`, {}],
      ['changePassword', `mutation ($p: String!) { changePassword(input: { newPassword: $p }) { accessToken } }`, { p: `pw-${randomBytes(9).toString('base64url')}` }],
    ];
    for (const [name, query, variables] of accountOnly) {
      const res = await t.gql(query, variables, { token });
      expect([name, codes(res)]).toEqual([name, ['EMAIL_NOT_VERIFIED']]);
      expect(res.data ?? null).toBeNull();
    }
    // Still a live session afterwards (logOutEverywhere did nothing to it).
    expect(ok(await t.gql(`{ myAssessments { totalCount } }`, {}, { token })).myAssessments.totalCount).toBe(0);
  });
});

describe('input rules', () => {
  it.each([
    ['email', { email: 'not-an-email' }],
    ['email', { email: 'ada@example' }],
    ['companySize', { companySize: '5-10' }],
    ['companySize', { companySize: 'big' }],
    ['phone', { phone: 'call me maybe' }],
    ['phone', { phone: '12' }],
    ['locale', { locale: 'de' }],
    ['fullName', { fullName: 'A' }],
    ['fullName', { fullName: '  B  ' }],
    ['fullName', { fullName: 'x'.repeat(51) }],
    ['companyName', { companyName: 'x'.repeat(101) }],
    ['jobTitle', { jobTitle: 'x'.repeat(101) }],
    ['industry', { industry: 'x'.repeat(65) }],
    ['source', { source: 'x'.repeat(65) }],
  ])('refuses a bad %s with BAD_USER_INPUT naming it (%j), and stores nothing', async (field, bad) => {
    const email = leadEmail('bad');
    const [leads, sessions] = [await count('leads'), await count('lead_sessions')];
    expectBadInput(await capture({ email, ...bad }), field);
    expect([await count('leads'), await count('lead_sessions')]).toEqual([leads, sessions]);
    expect(await count('outbox_emails where recipient = ?', [email])).toBe(0);
  });
});

describe('one sensitive field per request', () => {
  it('refuses two captureLead aliases in one request before either runs', async () => {
    const [a, b] = [leadEmail('alias'), leadEmail('alias')];
    const res = await t.gql(
      `mutation ($a: CaptureLeadInput!, $b: CaptureLeadInput!) { x: captureLead(input: $a) { leadId } y: captureLead(input: $b) { leadId } }`,
      { a: { email: a }, b: { email: b } },
    );
    expect(res.status).toBe(400);
    expect(res.data ?? null).toBeNull();
    expect(new Set(codes(res))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    expect(res.errors!.map((e) => e.message)).toContain('captureLead may be called only once per request.');
    expect(await count('leads where email in (?, ?)', [a, b])).toBe(0);
  });

  it('refuses a captureLead smuggled in beside another through a fragment', async () => {
    const email = leadEmail('frag');
    const res = await t.gql(
      `mutation ($a: CaptureLeadInput!) { x: captureLead(input: $a) { leadId } ...F } fragment F on Mutation { y: captureLead(input: $a) { leadId } }`,
      { a: { email } },
    );
    expect(res.status).toBe(400);
    expect(res.errors!.map((e) => e.message)).toContain('captureLead may be called only once per request.');
    expect(await count('leads where email = ?', [email])).toBe(0);
  });
});

describe('the login link email', () => {
  function expectLink(mail: ReceivedMail): string {
    const token = linkToken(mail, 'login');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mail.text).toContain(`http://posture.test/login?token=${token}`);
    expect(mail.html).toContain(`http://posture.test/login?token=${token}`);
    return token;
  }

  it('goes to the address with every capture, with a single-use link and words to ignore it', async () => {
    const email = leadEmail('mail');
    const first = await captureLead(t, { email: email.toUpperCase() });
    const mail = await t.inbox.waitFor(email, LEAD_SUBJECT);
    expect(mail.to).toBe(email);
    const token = expectLink(mail);
    expect(mail.text).toContain('If you did not start an assessment, ignore this email');
    expect(mail.text).toMatch(/expires in 15 minutes/);
    // Stored hashed, for this lead and address.
    const [link] = await t.sql(`select email, lead_id, token_hash, used_at from login_links where lead_id = ?`, [first.leadId]);
    expect(link).toMatchObject({ email, lead_id: first.leadId, used_at: null });
    expect(link!.token_hash).not.toContain(token);

    // A second capture for the address mails a second, different link.
    await captureLead(t, { email });
    const second = await t.inbox.waitFor(email, LEAD_SUBJECT, { count: 2 });
    expect(expectLink(second)).not.toBe(token);
    expect(t.inbox.to(email)).toHaveLength(2);
  });

  it('is in Norwegian for locale "nb"', async () => {
    const email = leadEmail('nb');
    await captureLead(t, { email, locale: 'nb' });
    const mail = await t.inbox.waitFor(email);
    expect(mail.subject).toMatch(LEAD_SUBJECT_NB);
    expectLink(mail);
    expect(mail.text).toMatch(/^Hei,/);
    expect(mail.text).toContain('Hvis det ikke var du som startet vurderingen, kan du se bort fra denne e-posten');
    expect(mail.text).toContain('utløper om 15 minutter');
    expect(mail.text).not.toContain('If you did not start');
  });
});

describe('nothing a lead types changes an account', () => {
  const PROFILE = `{ me { id name profile { fullName companyName jobTitle phone companySize industry } } }`;

  it("leaves an existing account's name and profile as they were, before and after the link is followed", async () => {
    const user = await createVerifiedUser(t, 'cp');
    const profile = { fullName: 'Real Owner', companyName: 'Real Company AS', jobTitle: 'CTO', phone: '+47 900 00 000', companySize: '51-200', industry: 'Finance' };
    ok(await t.gql(`mutation ($i: UpdateProfileInput!) { updateProfile(input: $i) { companyName } }`, { i: profile }, { token: user.tokens.accessToken }));
    const expected = ok(await t.gql(PROFILE, {}, { token: user.tokens.accessToken })).me;
    expect(expected.profile).toEqual(profile);

    await captureLead(t, {
      email: user.email,
      fullName: 'Mallory Evil',
      companyName: 'Evil Corp',
      jobTitle: 'Intruder',
      phone: '+1 555 0100',
      companySize: '1000+',
      industry: 'Crime',
    });
    expect(ok(await t.gql(PROFILE, {}, { token: user.tokens.accessToken })).me).toEqual(expected);

    const token = linkToken(await t.inbox.waitFor(user.email, LEAD_SUBJECT), 'login');
    const login = ok(await t.gql(LOG_IN_WITH_LINK, { t: token })).logInWithLink;
    expect(login.user.id).toBe(user.id);
    expect(login.user.name).toBe(user.name);
    expect(ok(await t.gql(PROFILE, {}, { token: login.accessToken })).me).toEqual(expected);
    expect(ok(await t.gql(PROFILE, {}, { token: user.tokens.accessToken })).me).toEqual(expected);
  });

  it('leaves an account without a profile without one', async () => {
    const user = await createVerifiedUser(t, 'cq');
    await captureLead(t, { email: user.email, companyName: 'Evil Corp', fullName: 'Mallory Evil' });
    const token = linkToken(await t.inbox.waitFor(user.email, LEAD_SUBJECT), 'login');
    const login = ok(await t.gql(LOG_IN_WITH_LINK, { t: token })).logInWithLink;
    expect(login.user.id).toBe(user.id);
    const me = ok(await t.gql(PROFILE, {}, { token: login.accessToken })).me;
    expect(me.name).toBe(user.name);
    expect(me.profile).toEqual({ fullName: null, companyName: null, jobTitle: null, phone: null, companySize: null, industry: null });
  });
});

describe('timing', () => {
  // Interleaved ABBA, after a warm-up; each kind of call follows each kind equally often. 300 of
  // each: on a busy machine one call's time varies by milliseconds, and the medians must settle
  // within 1 ms of each other when nothing differs.
  const WARM_UP = 40;
  const CALLS = 600;
  const poster = timedPoster(() => t.url);
  afterAll(() => poster.close());
  const timedCall = poster.call;

  it('does not tell by its time whether an account has the address', async () => {
    const user = await createVerifiedUser(t, 'ct');
    // Mail goes to the (silent) log and counters stay in memory: less background noise, the same work compared.
    await withEnv(t, { SMTP_URL: '', REDIS_URL: '' }, async () => {
      const times = { existing: [] as number[], fresh: [] as number[] };
      for (let i = 0; i < WARM_UP + CALLS; i++) {
        const which = (i + 1) & 2 ? 'fresh' : 'existing';
        const email = which === 'existing' ? user.email : leadEmail('timing');
        const { ms, body } = await timedCall(CAPTURE, { input: { email, companyName: 'Timing AS' } });
        const parsed = JSON.parse(body);
        expect(parsed.errors).toBeUndefined();
        expect(parsed.data.captureLead.canTakeAssessment).toBe(true);
        if (i >= WARM_UP) times[which].push(ms);
        await settled();
      }
      const existing = median(times.existing);
      const fresh = median(times.fresh);
      expect(Math.abs(existing - fresh)).toBeLessThan(1);
      expect(Math.abs(existing - fresh)).toBeLessThan(fresh / 2);
      expect(await leadsWith(user.email)).toHaveLength((WARM_UP + CALLS) / 2);
    });
  }, 300_000);
});

describe('rate limits', () => {
  let lastIp = 0;
  const nextIp = () => `198.51.100.${++lastIp}`;
  const from = (ip: string): RequestOptions => ({ headers: { 'x-forwarded-for': ip } });
  // The default captureLead limits (other operations' ip limits stay relaxed), with a client
  // address per request behind TRUST_PROXY=1.
  const OTHERS_RELAXED = RELAXED_IP_LIMITS.split(',').filter((entry) => !entry.startsWith('captureLead.')).join(',');
  const DEFAULTS = { RATE_LIMITS: OTHERS_RELAXED, TRUST_PROXY: '1' };

  it('allows 3 captures an hour per address, counted alike with an account or without, then RATE_LIMITED', async () => {
    const user = await createVerifiedUser(t, 'cr');
    await withEnv(t, DEFAULTS, async () => {
      for (const email of [user.email, leadEmail('limit')]) {
        const variants = [email, email.toUpperCase(), `  ${email} `];
        for (const variant of variants) {
          const res = await capture({ email: variant }, from(nextIp()));
          expect(res.errors).toBeUndefined();
        }
        expectLimited(await capture({ email }, from(nextIp())), 3600);
        expectLimited(await capture({ email: email.toUpperCase() }, from(nextIp())), 3600);
        expect(await leadsWith(email)).toHaveLength(3);
      }
      // Another address is not affected.
      expect((await capture({ email: leadEmail('other') }, from(nextIp()))).errors).toBeUndefined();
    });
  });

  it('allows 5 captures a minute per IP address, then RATE_LIMITED', async () => {
    await withEnv(t, DEFAULTS, async () => {
      const ip = nextIp();
      for (let i = 0; i < 5; i++) expect((await capture({ email: leadEmail('ip') }, from(ip))).errors).toBeUndefined();
      const email = leadEmail('ip');
      expectLimited(await capture({ email }, from(ip)), 60);
      expect(await leadsWith(email)).toHaveLength(0);
      // Another client is not affected.
      expect((await capture({ email }, from(nextIp()))).errors).toBeUndefined();
    });
  });

  it('RATE_LIMITS=captureLead.account=5/3600 raises the per-address limit', async () => {
    await withEnv(t, { ...DEFAULTS, RATE_LIMITS: `${OTHERS_RELAXED},captureLead.account=5/3600` }, async () => {
      const email = leadEmail('override');
      for (let i = 0; i < 5; i++) expect((await capture({ email }, from(nextIp()))).errors).toBeUndefined();
      expectLimited(await capture({ email }, from(nextIp())), 3600);
      expect(await leadsWith(email)).toHaveLength(5);
    });
  });
});

// Last: it moves the app's clock a day on.
describe('the lead session expires', () => {
  it('after LEAD_SESSION_TTL (24 h by default): myAssessments is UNAUTHENTICATED', async () => {
    const { token } = await captureLead(t);
    const started = ok(await t.gql(START, { slug: 'smb-baseline' }, { token })).startAssessment.assessment.id;
    t.clock.advance(24 * 3600 - 60);
    const mine = ok(await t.gql(`{ myAssessments { totalCount edges { node { id } } } }`, {}, { token })).myAssessments;
    expect(mine.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([started]);
    t.clock.advance(120);
    expect(firstCode(await t.gql(`{ myAssessments { totalCount } }`, {}, { token }))).toBe('UNAUTHENTICATED');
    expect(firstCode(await t.gql(`query ($id: ID!) { assessment(id: $id) { id } }`, { id: started }, { token }))).toBe('UNAUTHENTICATED');
    expect(firstCode(await t.gql(START, { slug: 'smb-baseline' }, { token }))).toBe('UNAUTHENTICATED');
  });
});
