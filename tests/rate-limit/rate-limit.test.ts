import { randomBytes } from 'node:crypto';
import { codes, type GraphQLResponse, type RequestOptions } from '../support/graphql';
import { linkToken } from '../support/smtp';
import {
  CHEAP_HASHING,
  createVerifiedUser,
  LOG_IN,
  newAccount,
  sharedPerFile,
  SIGN_UP,
  startTestApp,
  type TestApp,
} from '../support/test-app';

const shared = sharedPerFile();

/** An app with cheap argon2 (the limits, not the hashing, are under test) and the given env. */
function start(env: Record<string, string>): Promise<TestApp> {
  return startTestApp({ ...shared, env: { ...CHEAP_HASHING, ...env } });
}

/** The app of one describe block, started before its tests and stopped after them. */
function appFor(env: Record<string, string>): () => TestApp {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await start(env);
  });
  afterAll(() => t?.stop());
  return () => t!;
}

/** Runs `fn` against an app of its own, stopped afterwards. */
async function withApp<T>(env: Record<string, string>, fn: (t: TestApp) => Promise<T>): Promise<T> {
  const t = await start(env);
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

let lastIp = 0;
/** A fresh client address, so each test counts from zero behind TRUST_PROXY=1. */
const nextIp = () => `198.51.${Math.floor(++lastIp / 250)}.${(lastIp % 250) + 1}`;
const from = (ip: string): RequestOptions => ({ headers: { 'x-forwarded-for': ip } });
const unknownName = (prefix = 'nobody') => `${prefix}_${randomBytes(4).toString('hex')}`;
const wrongLogIn = (usernameOrEmail: string) => ({ input: { usernameOrEmail, password: 'not-the-password-1' } });

const RESEND = `mutation ($email: String!) { resendVerificationEmail(email: $email) }`;
const REQUEST_RESET = `mutation ($email: String!) { requestPasswordReset(email: $email) }`;
const RESET = `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }`;
const VERIFY = `mutation ($t: String!) { verifyEmail(token: $t) }`;

function expectLimited(res: GraphQLResponse) {
  expect(codes(res)).toEqual(['RATE_LIMITED']);
  expect(res.status).toBe(429);
  expect(res.data ?? null).toBeNull();
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(res.errors![0]!.extensions!.retryAfter).toBe(retryAfter);
  return retryAfter;
}

/** Signs up and verifies through the API without logging in (a log-in would count against the account). */
async function verifiedAccount(t: TestApp, options: RequestOptions = from(nextIp())) {
  const account = newAccount('rl');
  const signUp = await t.gql(SIGN_UP, { input: account }, options);
  expect(signUp.errors).toBeUndefined();
  const mail = await shared.inbox.waitFor(account.email, /confirm/i);
  expect((await t.gql(VERIFY, { t: linkToken(mail, 'verify-email') })).data).toEqual({ verifyEmail: true });
  return { ...account, id: signUp.data!.signUp.user.id as string };
}

async function sessionIpOf(t: TestApp, userId: string): Promise<string> {
  const rows = await t.app.orm.em
    .fork()
    .execute<{ ip: string }[]>('select ip from sessions where user_id = ? order by created_at desc limit 1', [userId]);
  return rows[0]!.ip;
}

describe('default limits (RATE_LIMITS empty)', () => {
  // TRUST_PROXY=1 lets each test come from its own address.
  const app = appFor({ RATE_LIMITS: '', TRUST_PROXY: '1' });
  let t: TestApp;
  beforeAll(() => {
    t = app();
  });

  it('allows 10 logIns a minute per IP, then answers RATE_LIMITED with 429 and retry-after without hashing', async () => {
    const ip = nextIp();
    for (let i = 0; i < 10; i++) {
      expect(codes(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(ip)))).toEqual(['INVALID_CREDENTIALS']);
    }
    const verifies = t.app.passwords.stats.verifies;
    expect(expectLimited(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(ip)))).toBe(60);
    expect(t.app.passwords.stats.verifies).toBe(verifies);

    expect(codes(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(nextIp())))).toEqual(['INVALID_CREDENTIALS']);
  });

  it('allows 5 logIns a minute per account, counted together whether named by email or username, in any case', async () => {
    const account = await verifiedAccount(t);
    const names = [account.email, account.username.toUpperCase(), ` ${account.email.toUpperCase()} `, account.username, account.email.replace(/^./, (c) => c.toUpperCase())];
    for (const name of names) {
      expect(codes(await t.gql(LOG_IN, wrongLogIn(name), from(nextIp())))).toEqual(['INVALID_CREDENTIALS']);
    }
    // Even the right password, from a new address.
    expectLimited(await t.gql(LOG_IN, { input: { usernameOrEmail: account.username, password: account.password } }, from(nextIp())));

    const other = await verifiedAccount(t);
    const ok = await t.gql(LOG_IN, { input: { usernameOrEmail: other.email, password: other.password } }, from(nextIp()));
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.logIn.user.id).toBe(other.id);
  });

  it("clears the account's count when a logIn succeeds, while the IP's count stays", async () => {
    const account = await verifiedAccount(t);
    const ip = nextIp();
    const right = { input: { usernameOrEmail: account.username, password: account.password } };
    for (let i = 0; i < 4; i++) expect(codes(await t.gql(LOG_IN, wrongLogIn(account.email), from(ip)))).toEqual(['INVALID_CREDENTIALS']);
    expect((await t.gql(LOG_IN, right, from(ip))).errors).toBeUndefined();
    // Five more tries for the account: its count started again from the success.
    for (let i = 0; i < 5; i++) expect(codes(await t.gql(LOG_IN, wrongLogIn(account.email), from(ip)))).toEqual(['INVALID_CREDENTIALS']);
    // That address has now made 10 logIns: the IP's own limit, which the success did not clear.
    expectLimited(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(ip)));
    expectLimited(await t.gql(LOG_IN, right, from(nextIp())));
  });

  it.each([
    ['username', () => unknownName('ghost'), (n: string, i: number) => (i % 2 ? n.toUpperCase() : n)],
    ['email', () => `${unknownName('ghost')}@example.com`, (n: string, i: number) => (i % 2 ? n.toUpperCase() : ` ${n}`)],
  ])('limits an unknown %s after the same 5 tries as a known account', async (_kind, make, variant) => {
    const name = make();
    for (let i = 0; i < 5; i++) {
      expect(codes(await t.gql(LOG_IN, wrongLogIn(variant(name, i)), from(nextIp())))).toEqual(['INVALID_CREDENTIALS']);
    }
    expectLimited(await t.gql(LOG_IN, wrongLogIn(name), from(nextIp())));
  });

  it('allows 5 signUps a minute per IP', async () => {
    const ip = nextIp();
    for (let i = 0; i < 5; i++) {
      const res = await t.gql(SIGN_UP, { input: newAccount('su') }, from(ip));
      expect(res.errors).toBeUndefined();
    }
    const account = newAccount('su');
    expectLimited(await t.gql(SIGN_UP, { input: account }, from(ip)));
    const count = await t.app.orm.em.fork().execute('select count(*)::int as n from users where email = ?', [account.email]);
    expect(count[0]!.n).toBe(0);
    expect((await t.gql(SIGN_UP, { input: newAccount('su') }, from(nextIp()))).errors).toBeUndefined();
  });

  describe.each([
    ['requestPasswordReset', REQUEST_RESET, 3, 'an hour'],
    ['resendVerificationEmail', RESEND, 5, 'a minute'],
  ])('%s', (operation, document, perAccount, period) => {
    it('allows 5 a minute per IP', async () => {
      const ip = nextIp();
      for (let i = 0; i < 5; i++) {
        expect((await t.gql(document, { email: `${unknownName()}@example.com` }, from(ip))).data).toEqual({ [operation]: true });
      }
      expectLimited(await t.gql(document, { email: `${unknownName()}@example.com` }, from(ip)));
      expect((await t.gql(document, { email: `${unknownName()}@example.com` }, from(nextIp()))).data).toEqual({ [operation]: true });
    });

    it.each(['registered', 'unregistered'])(`allows ${perAccount} ${period} per %s email, in any case`, async (kind) => {
      const email = kind === 'registered' ? (await verifiedAccount(t)).email : `${unknownName()}@example.com`;
      const variants = [email, email.toUpperCase(), ` ${email}`, email, email.toUpperCase()].slice(0, perAccount);
      for (const variant of variants) {
        expect((await t.gql(document, { email: variant }, from(nextIp()))).data).toEqual({ [operation]: true });
      }
      expectLimited(await t.gql(document, { email }, from(nextIp())));
    });
  });

  describe('resetPassword', () => {
    const newPassword = () => `new-${randomBytes(9).toString('base64url')}`;

    it('allows 5 a minute per IP', async () => {
      const ip = nextIp();
      for (let i = 0; i < 5; i++) {
        const res = await t.gql(RESET, { input: { token: randomBytes(32).toString('base64url'), newPassword: newPassword() } }, from(ip));
        expect(codes(res)).toEqual(['INVALID_TOKEN']);
      }
      expectLimited(await t.gql(RESET, { input: { token: randomBytes(32).toString('base64url'), newPassword: newPassword() } }, from(ip)));
    });

    it.each(['registered', 'unregistered'])('allows 5 code attempts a minute per %s email, in any case', async (kind) => {
      const email = kind === 'registered' ? (await verifiedAccount(t)).email : `${unknownName()}@example.com`;
      for (const variant of [email, email.toUpperCase(), email, ` ${email}`, email]) {
        const res = await t.gql(RESET, { input: { email: variant, code: '000000', newPassword: newPassword() } }, from(nextIp()));
        expect(codes(res)).toEqual(['INVALID_TOKEN']);
      }
      expectLimited(await t.gql(RESET, { input: { email, code: '000000', newPassword: newPassword() } }, from(nextIp())));
    });
  });
});

describe('one sensitive field per request', () => {
  const app = appFor({ RATE_LIMITS: '', TRUST_PROXY: '1' });
  let t: TestApp;
  beforeAll(() => {
    t = app();
  });

  const logIn = (alias = '') => `${alias}logIn(input: $input) { accessToken }`;
  const refused = async (document: string) => {
    const verifies = t.app.passwords.stats.verifies;
    const res = await t.gql(document, wrongLogIn(unknownName()), from(nextIp()));
    expect(res.status).toBe(400);
    expect(res.data ?? null).toBeNull();
    expect(new Set(codes(res))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    expect(res.errors!.map((e) => e.message)).toContain('logIn may be called only once per request.');
    expect(t.app.passwords.stats.verifies).toBe(verifies);
  };

  it('refuses 20 aliased logIns in one request before any password is checked', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => logIn(`a${i}: `)).join('\n');
    await refused(`mutation ($input: LogInInput!) { ${aliases} }`);
  });

  it('refuses two aliased logIns (within the alias limit)', async () => {
    await refused(`mutation ($input: LogInInput!) { a: ${logIn()} b: ${logIn()} }`);
  });

  it.each([
    ['a named fragment', `mutation ($input: LogInInput!) { ${logIn('a: ')} ...F } fragment F on Mutation { ${logIn('b: ')} }`],
    ['an inline fragment', `mutation ($input: LogInInput!) { ${logIn('a: ')} ... on Mutation { ${logIn('b: ')} } }`],
    ['two fragments', `mutation ($input: LogInInput!) { ...F ...G } fragment F on Mutation { ${logIn('a: ')} } fragment G on Mutation { ${logIn('b: ')} }`],
    ['a fragment within an inline fragment', `mutation ($input: LogInInput!) { ... { ${logIn()} } ... @include(if: true) { ...F } } fragment F on Mutation { ${logIn('b: ')} }`],
  ])('refuses a second logIn smuggled in through %s', async (_how, document) => {
    await refused(document);
  });

  it('lets a single logIn through', async () => {
    const res = await t.gql(`mutation ($input: LogInInput!) { ${logIn()} }`, wrongLogIn(unknownName()), from(nextIp()));
    expect(codes(res)).toEqual(['INVALID_CREDENTIALS']);
  });

  it('refuses batched HTTP requests (a JSON array body)', async () => {
    const verifies = t.app.passwords.stats.verifies;
    const entry = { query: `mutation ($input: LogInInput!) { ${logIn()} }`, variables: wrongLogIn(unknownName()) };
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': nextIp() },
      body: JSON.stringify(Array.from({ length: 20 }, () => entry)),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { data?: unknown; errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.data ?? null).toBeNull();
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
    expect(body.errors[0]!.message).toMatch(/batching/i);
    expect(t.app.passwords.stats.verifies).toBe(verifies);
  });
});

describe('RATE_LIMITS overrides', () => {
  it('logIn.ip=2/60 refuses the third logIn from an address', async () => {
    await withApp({ RATE_LIMITS: 'logIn.ip=2/60' }, async (t) => {
      for (let i = 0; i < 2; i++) expect(codes(await t.gql(LOG_IN, wrongLogIn(unknownName())))).toEqual(['INVALID_CREDENTIALS']);
      expect(expectLimited(await t.gql(LOG_IN, wrongLogIn(unknownName())))).toBe(60);
    });
  });

  it('uses the configured window for retry-after', async () => {
    await withApp({ RATE_LIMITS: 'signUp.ip=1/45' }, async (t) => {
      expect((await t.gql(SIGN_UP, { input: newAccount('ov') })).errors).toBeUndefined();
      expect(expectLimited(await t.gql(SIGN_UP, { input: newAccount('ov') }))).toBe(45);
    });
  });

  it('off switches a default off', async () => {
    await withApp({ RATE_LIMITS: 'logIn.ip=off,logIn.account=off' }, async (t) => {
      const name = unknownName();
      for (let i = 0; i < 12; i++) expect(codes(await t.gql(LOG_IN, wrongLogIn(name)))).toEqual(['INVALID_CREDENTIALS']);
    });
  });

  it('an operation the API does not have stops the app from starting', async () => {
    await expect(start({ RATE_LIMITS: 'logon.ip=2/60,signUp.ip=5/60' })).rejects.toThrow(
      'RATE_LIMITS names an operation the API does not have: logon',
    );
  });

  it('a malformed value stops the app from starting, naming the entry', async () => {
    await expect(start({ RATE_LIMITS: 'logIn.ip=2' })).rejects.toThrow(/RATE_LIMITS: "logIn\.ip=2" is not operation\.scope=count\/seconds/);
  });
});

describe('the client address', () => {
  it('ignores X-Forwarded-For by default, so a forged header does not reset the per-IP limit', async () => {
    await withApp({ RATE_LIMITS: 'logIn.ip=3/60' }, async (t) => {
      const account = await verifiedAccount(t, {});
      const ok = await t.gql(LOG_IN, { input: { usernameOrEmail: account.email, password: account.password } }, from('203.0.113.9'));
      expect(ok.errors).toBeUndefined();
      expect(await sessionIpOf(t, account.id)).toBe('127.0.0.1');

      for (const ip of ['203.0.113.10', '203.0.113.11, 203.0.113.12']) {
        expect(codes(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(ip)))).toEqual(['INVALID_CREDENTIALS']);
      }
      expectLimited(await t.gql(LOG_IN, wrongLogIn(unknownName()), from('203.0.113.13')));
      expectLimited(await t.gql(LOG_IN, wrongLogIn(unknownName())));
    });
  });

  it('with TRUST_PROXY=1 takes the right-most X-Forwarded-For entry as the client', async () => {
    await withApp({ RATE_LIMITS: 'logIn.ip=3/60', TRUST_PROXY: '1' }, async (t) => {
      const client = nextIp();
      const account = await verifiedAccount(t, {});
      const ok = await t.gql(LOG_IN, { input: { usernameOrEmail: account.username, password: account.password } }, from(`6.6.6.6, ${client}`));
      expect(ok.errors).toBeUndefined();
      expect(await sessionIpOf(t, account.id)).toBe(client);

      // The client can write anything to the left of what the proxy appended.
      for (const forged of ['1.1.1.1', '2.2.2.2, 3.3.3.3']) {
        expect(codes(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(`${forged}, ${client}`)))).toEqual(['INVALID_CREDENTIALS']);
      }
      expectLimited(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(`4.4.4.4, ${client}`)));
      expectLimited(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(client)));
      // Another client behind the same proxy is not affected.
      expect(codes(await t.gql(LOG_IN, wrongLogIn(unknownName()), from(`${client}, ${nextIp()}`)))).toEqual(['INVALID_CREDENTIALS']);
    });
  });
});

describe('the hashing queue', () => {
  it('turns a flood of logIns away as busy, never as an internal error, while other requests are answered', async () => {
    // Real argon2 cost here: one hash at a time, one queued in the hashing process, one waiting, the rest refused at once.
    const t = await startTestApp({
      ...shared,
      env: { RATE_LIMITS: 'logIn.ip=off,logIn.account=off', HASH_CONCURRENCY: '1', HASH_QUEUE_LIMIT: '1' },
    });
    try {
      const user = await createVerifiedUser(t, 'hq');

      const timed = async (run: () => Promise<GraphQLResponse>) => {
        const started = Date.now();
        const res = await run();
        return { res, ms: Date.now() - started };
      };
      const flood = Array.from({ length: 12 }, (_, i) =>
        timed(() => t.gql(LOG_IN, wrongLogIn(i % 2 ? user.username : unknownName()))),
      );
      const me = t.gql(`{ me { id } }`, {}, { token: user.tokens.accessToken });
      const [meRes, ...results] = await Promise.all([me, ...flood]);

      expect(meRes.errors).toBeUndefined();
      expect(meRes.data).toEqual({ me: { id: user.id } });

      const all = results.map((r) => codes(r.res)).flat();
      expect(all).toHaveLength(12);
      expect(all).not.toContain('INTERNAL_SERVER_ERROR');
      expect(new Set(all)).toEqual(new Set(['INVALID_CREDENTIALS', 'RATE_LIMITED']));
      const busy = results.filter((r) => codes(r.res)[0] === 'RATE_LIMITED');
      for (const { res, ms } of busy) {
        expect(res.errors![0]!.message).toMatch(/busy/i);
        expect(res.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1 });
        expect(res.status).toBe(429); // shed before execution
        expect(res.headers.get('retry-after')).toBe('1');
        expect(ms).toBeLessThan(5000); // refused at once, not after a timeout
      }
    } finally {
      await t.stop();
    }
  });
});
