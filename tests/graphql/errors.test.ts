import { ApolloServerErrorCode } from '@apollo/server/errors';
import { generateSigningKey } from '../../src/modules/auth/signing-keys';
import { codes } from '../support/graphql';
import { createVerifiedUser, ME, newAccount, sharedPerFile, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const shared = sharedPerFile();

type Mode = 'test' | 'development' | 'production';

/** The app of one describe block, in the given NODE_ENV, started before its tests and stopped after them. */
function appIn(mode: Mode): () => TestApp {
  let t: TestApp | undefined;
  beforeAll(async () => {
    const production = {
      JWT_SIGNING_KEYS: JSON.stringify({ keys: [await generateSigningKey()] }),
      PUBLIC_URL: 'https://posture.test',
      TOTP_ENCRYPTION_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
    };
    t = await startTestApp({ ...shared, env: { NODE_ENV: mode, ...(mode === 'production' ? production : {}) } });
  });
  afterAll(() => t?.stop());
  return () => t!;
}

/** POSTs a document and returns the raw response text with its parsed body. */
async function postRaw(t: TestApp, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
}

/** An unexpected fault (a table gone missing under `me`) is masked, logged with its id, and leaks nothing. */
async function expectFaultMasked(t: TestApp) {
  const user = await createVerifiedUser(t, 'fault');
  const logged = jest.spyOn(t.app.logger, 'error');
  const em = t.app.orm.em.fork();
  await em.execute('alter table sessions rename to sessions_x');
  let res: Awaited<ReturnType<typeof postRaw>>;
  try {
    res = await postRaw(t, JSON.stringify({ query: ME }), { authorization: `Bearer ${user.tokens.accessToken}` });
  } finally {
    await em.execute('alter table sessions_x rename to sessions');
  }

  expect(res.status).toBe(200);
  expect(res.body.data).toEqual({ me: null });
  expect(res.body.errors).toHaveLength(1);
  const error = res.body.errors![0]!;
  expect(error.message).toBe('Internal server error.');
  expect(Object.keys(error.extensions).sort()).toEqual(['code', 'errorId']);
  expect(error.extensions.code).toBe('INTERNAL_SERVER_ERROR');
  expect(error.extensions.errorId).toMatch(UUID);
  for (const leak of ['sessions', 'relation', 'select', 'does not exist', 'stacktrace', '.ts:', '    at ']) {
    expect(res.text).not.toContain(leak);
  }

  // The id leads from the answer to the logged cause.
  const entry = logged.mock.calls.find(([fields]) => (fields as { errorId?: string }).errorId === error.extensions.errorId);
  logged.mockRestore();
  expect(entry).toBeDefined();
  expect(String((entry![0] as { err: Error }).err.message)).toMatch(/sessions/);

  // The service is whole again.
  expect((await t.gql(ME, {}, { token: user.tokens.accessToken })).data!.me.id).toBe(user.id);
}

async function expectSuggestions(t: TestApp) {
  const res = await t.gql('{ mee { id } }');
  expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  expect(res.errors![0]!.message).toMatch(/Did you mean "me"\?/);
}

describe('in test mode', () => {
  const app = appIn('test');

  it('masks an unexpected fault as INTERNAL_SERVER_ERROR with a logged errorId, without SQL or a stack', async () => {
    await expectFaultMasked(app());
  });

  it('suggests field names', async () => {
    await expectSuggestions(app());
  });

  describe('coded errors', () => {
    const t = app;

    it('names the field of a signUp input over its length limit', async () => {
      const res = await t().gql(SIGN_UP, { input: { ...newAccount('e'), email: `${'a'.repeat(388)}@example.com` } });
      expect(res.data ?? null).toBeNull();
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
      expect(res.errors![0]!.message).toMatch(/^email: /);
      expect(res.errors![0]!.extensions!.stacktrace).toBeUndefined();
    });

    it.each([
      ['username', { username: 'Not OK!' }],
      ['username', { username: 'x' }],
      ['email', { email: 'not-an-email' }],
      ['name', { name: 'Bad\u202eName' }],
      ['password', { password: 'short' }],
      ['password', { password: 'password123' }],
    ])('names %s when signUp gets %j', async (field, change) => {
      const res = await t().gql(SIGN_UP, { input: { ...newAccount('e'), ...change } });
      expect(res.data ?? null).toBeNull();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
      expect(res.errors![0]!.path).toEqual(['signUp']);
    });

    it('answers a taken username with CONFLICT naming the field', async () => {
      const first = newAccount('e');
      expect((await t().gql(SIGN_UP, { input: first })).errors).toBeUndefined();
      const res = await t().gql(SIGN_UP, { input: { ...newAccount('e'), username: first.username.toUpperCase() } });
      expect(res.errors![0]!.extensions).toEqual({ code: 'CONFLICT', field: 'username' });
    });

    it.each([
      ['a syntax error', '{ me { id }', {}, 'GRAPHQL_PARSE_FAILED'],
      ['an unknown field', '{ me { id password } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
      ['a missing variable', 'mutation ($email: String!) { requestPasswordReset(email: $email) }', {}, 'BAD_USER_INPUT'],
      ['a variable of the wrong type', 'mutation ($email: String!) { requestPasswordReset(email: $email) }', { email: 42 }, 'BAD_USER_INPUT'],
    ])('refuses %s with a 400 and a code', async (_what, query, variables, code) => {
      const res = await t().gql(query, variables);
      expect(res.status).toBe(400);
      expect(res.data ?? null).toBeNull();
      expect(codes(res)).toEqual([code]);
      expect(res.errors![0]!.extensions!.stacktrace).toBeUndefined();
    });

    it('answers a malformed or invalid access token with UNAUTHENTICATED', async () => {
      for (const authorization of ['Basic abc', 'Bearer not.a.jwt']) {
        const res = await t().gql(ME, {}, { headers: { authorization } });
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
        expect(res.data).toEqual({ me: null });
      }
    });

    it('answers a body that is not JSON with 400 BAD_REQUEST', async () => {
      const res = await postRaw(t(), '{"query": "{ me { id } }"');
      expect(res.status).toBe(400);
      expect(res.body.errors!.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
      expect(res.body.errors![0]!.message).toMatch(/not valid JSON/);
    });

    describe('unsupported requests', () => {
      it.each([
        ['with a field that exists', 'subscription { me { id } }'],
        ['with a field that does not exist', 'subscription { x }'],
        ['named, among other operations', 'query Q { me { id } } subscription S { me { id } }'],
      ])('answer a subscription over HTTP (%s) with 400 BAD_REQUEST', async (_what, query) => {
        const res = await postRaw(t(), JSON.stringify({ query, operationName: query.includes('S {') ? 'S' : undefined }));
        expect(res.status).toBe(400);
        expect(res.body.data ?? null).toBeNull();
        expect(res.body.errors!.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
        expect(res.body.errors![0]!.message).toMatch(/subscription/i);
        expect(res.body.errors![0]!.extensions.errorId).toBeUndefined();
      });

      const sha256Hash = 'ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38';
      it.each([
        ['a hash alone', { extensions: { persistedQuery: { version: 1, sha256Hash } } }],
        ['a hash with its query', { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash } } }],
        ['an unknown version', { extensions: { persistedQuery: { version: 2, sha256Hash } } }],
        ['a persistedQuery that is not an object', { query: '{ me { id } }', extensions: { persistedQuery: 'yes' } }],
      ])('answer an automatic persisted query (%s) with PERSISTED_QUERY_NOT_SUPPORTED', async (_what, body) => {
        const res = await postRaw(t(), JSON.stringify(body));
        expect(res.status).toBe(200); // Apollo's status for it: clients then resend the full query
        expect(res.body.data ?? null).toBeNull();
        expect(res.body.errors!.map((e) => e.extensions.code)).toEqual([ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED]);
        expect(res.body.errors![0]!.extensions.errorId).toBeUndefined();
      });

      it('answer a persisted query sent by GET the same way', async () => {
        const extensions = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash } }));
        const res = await fetch(`${t().url}/graphql?extensions=${extensions}`, { headers: { 'apollo-require-preflight': 'true' } });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
        expect(body.errors.map((e) => e.extensions.code)).toEqual([ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED]);
      });
    });

    it('answers an unknown path with 404 NOT_FOUND', async () => {
      const res = await fetch(`${t().url}/admin.php`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('NOT_FOUND');
    });
  });
});

describe('in development mode', () => {
  const app = appIn('development');

  it('masks an unexpected fault as INTERNAL_SERVER_ERROR with a logged errorId, without SQL or a stack', async () => {
    await expectFaultMasked(app());
  });

  it('suggests field names', async () => {
    await expectSuggestions(app());
  });

  it('suggests input field names in variables', async () => {
    const res = await app().gql(SIGN_UP, { input: { ...newAccount('s'), email: undefined, emial: 'a@example.com' } });
    expect(res.status).toBe(400);
    expect(res.errors!.map((e) => e.message).join('\n')).toMatch(/Did you mean "email"\?/);
  });
});

describe('in production mode', () => {
  const app = appIn('production');

  it('masks an unexpected fault as INTERNAL_SERVER_ERROR with a logged errorId, without SQL or a stack', async () => {
    await expectFaultMasked(app());
  });

  it.each([
    ['a misspelt input field in a variable', SIGN_UP, { input: { emial: 'a@example.com', username: 'ada', name: 'Ada', password: 'a long passphrase' } }],
    ['a misspelt nested field in a variable', `mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }`, { input: { usernameOrEmial: 'ada', pasword: 'x' } }],
    ['a misspelt input field in a literal', `mutation { signUp(input: { emial: "a@example.com", username: "ada", name: "Ada", password: "pw" }) { user { id } } }`, {}],
    ['a misspelt argument', `mutation { requestPasswordReset(emial: "a@example.com") }`, {}],
    ['a misspelt type of a variable', `mutation ($input: SignUpInpt!) { signUp(input: $input) { user { id } } }`, { input: {} }],
    ['a misspelt root field', `mutation { requestPaswordReset(email: "a@example.com") }`, {}],
  ])('leaves suggestions out of %s', async (_what, query, variables) => {
    const res = await app().gql(query, variables);
    expect(res.status).toBe(400);
    expect(res.errors!.length).toBeGreaterThan(0);
    for (const error of res.errors!) {
      expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(error.extensions!.code);
      expect(error.message).not.toMatch(/did you mean/i);
      expect(error.message).not.toMatch(/"(email|usernameOrEmail|password|SignUpInput|requestPasswordReset)"\?/);
    }
  });

  it('leaves field suggestions out', async () => {
    for (const query of ['{ mee { id } }', '{ me { emial } }', 'mutation { logon }']) {
      const res = await app().gql(query);
      expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(res.errors![0]!.message).not.toMatch(/did you mean/i);
      expect(res.errors![0]!.message).not.toMatch(/"(me|email|logIn)"/);
    }
  });
});
