import http from 'node:http';
import type { JWK } from 'jose';
import { generateSigningKey } from '../../src/modules/auth/signing-keys';
import { codes, type GraphQLResponse } from '../support/graphql';
import { sharedPerFile, startTestApp, type TestApp } from '../support/test-app';

const shared = sharedPerFile();

/** The app of one describe block, started before its tests and stopped after them. */
function appWith(env: () => Promise<Record<string, string>> | Record<string, string>): () => TestApp {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await startTestApp({ ...shared, env: await env() });
  });
  afterAll(() => t?.stop());
  return () => t!;
}

/** A refused request: 400, no data, every error carrying `code`, one of them saying `message`. */
function expectRefused(res: GraphQLResponse, code: string, message: RegExp) {
  expect(res.status).toBe(400);
  expect(res.data ?? null).toBeNull();
  expect(new Set(codes(res))).toEqual(new Set([code]));
  expect(res.errors!.some((e) => message.test(e.message))).toBe(true);
}

const LOG_IN_USER = `mutation { logIn(input: { usernameOrEmail: "nobody", password: "not-the-password" }) { user { id } } }`;
const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;

type ErrorBody = { data?: unknown; errors?: Array<{ message: string; extensions: { code: string } }> };

/** POSTs `size` bytes of a JSON body, its length declared up front or streamed in chunks. */
function postBody(t: TestApp, size: number, mode: 'declared' | 'chunked') {
  const body = JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(Math.max(0, size - 60)) } });
  return new Promise<{ status: number; body: ErrorBody }>((resolve, reject) => {
    const req = http.request(new URL('/graphql', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(mode === 'declared' ? { 'content-length': Buffer.byteLength(body) } : {}) },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (mode === 'declared') return req.end(body);
    const write = (offset: number) => {
      if (offset >= body.length) return req.end();
      req.write(body.slice(offset, offset + 512), () => setImmediate(() => write(offset + 512)));
    };
    write(0);
  });
}

describe('with the default settings', () => {
  const app = appWith(() => ({ NODE_ENV: 'development' }));

  describe('query limits', () => {
    it('refuse depth over 8, reached here through nested fragments', async () => {
      const nest = (levels: number) => `{ me { ${'... { '.repeat(levels)}id${' }'.repeat(levels)} } }`;
      expect(codes(await app().gql(nest(6)))).toEqual([]);
      expectRefused(await app().gql(nest(7)), 'GRAPHQL_VALIDATION_FAILED', /depth limit of 8/i);
    });

    it('refuse more than 15 aliases', async () => {
      expect(codes(await app().gql(aliased(15)))).toEqual([]);
      expectRefused(await app().gql(aliased(16)), 'GRAPHQL_VALIDATION_FAILED', /aliases limit of 15/i);
    });

    it('refuse a cost over 5000 within the depth and token limits', async () => {
      const costly = `{ me { ${'... { '.repeat(6)}${'id '.repeat(400)}${'} '.repeat(6)} } }`;
      expectRefused(await app().gql(costly), 'GRAPHQL_VALIDATION_FAILED', /cost limit of 5000/i);
    });

    it('count a page size given as a variable the same as one written inline', async () => {
      const page = (first: string) => `myAssessments(first: ${first}) { edges { node { id status startedAt completedAt percentageScore riskLevel template { id name categories { id name questions { id text } } } } } }`;
      const inline = `{ ${page('100')} }`;
      expectRefused(await app().gql(inline), 'GRAPHQL_VALIDATION_FAILED', /cost limit of 5000/i);
      expectRefused(await app().gql(`query ($n: Int) { ${page('$n')} }`, { n: 100 }), 'GRAPHQL_VALIDATION_FAILED', /cost limit of 5000/i);
      // A variable's default counts as its value.
      expectRefused(await app().gql(`query ($n: Int = 100) { ${page('$n')} }`), 'GRAPHQL_VALIDATION_FAILED', /cost limit of 5000/i);
      // A small page still passes the limits (and then meets the session check).
      expect(codes(await app().gql(`query ($n: Int) { ${page('$n')} }`, { n: 2 }))).toEqual(['UNAUTHENTICATED']);
    });

    it('refuse more than 2000 tokens', async () => {
      expectRefused(await app().gql(`{ me { ${'id '.repeat(2100)}} }`), 'GRAPHQL_PARSE_FAILED', /Document contains more tha[nt] 2000 tokens/);
    });
  });

  it('allows introspection outside production', async () => {
    const res = await app().gql('{ __schema { queryType { name } } __type(name: "User") { fields { name } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.__schema.queryType.name).toBe('Query');
    expect(res.data!.__type.fields.map((f: { name: string }) => f.name)).toContain('email');
  });

  describe('GET requests', () => {
    const get = async (query: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${app().url}/graphql?query=${encodeURIComponent(query)}`, { headers });
      return { status: res.status, body: (await res.json()) as ErrorBody };
    };

    it('answer a query sent with a preflight header', async () => {
      expect(await get('{ me { id } }', { 'apollo-require-preflight': 'true' })).toEqual({ status: 200, body: { data: { me: null } } });
    });

    it('refuse a mutation', async () => {
      const verifies = app().app.passwords.stats.verifies;
      const res = await get(LOG_IN_USER, { 'apollo-require-preflight': 'true' });
      expect(res.status).toBe(405);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors!.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
      expect(res.body.errors![0]!.message).toMatch(/GET requests only support query operations/);
      expect(app().app.passwords.stats.verifies).toBe(verifies);
    });

    it('refuse a query without a preflight header (CSRF prevention)', async () => {
      const res = await get('{ me { id } }');
      expect(res.status).toBe(400);
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors!.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
      expect(res.body.errors![0]!.message).toMatch(/Cross-Site Request Forgery/);
    });
  });

  it('answers a body over the default 100 000 bytes with 413', async () => {
    const res = await postBody(app(), 150_000, 'declared');
    expect(res.status).toBe(413);
    expect(res.body.errors!.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
  });

  describe('service routes', () => {
    it('/healthz answers 200', async () => {
      const res = await fetch(`${app().url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('/readyz answers 200 while the database answers', async () => {
      const res = await fetch(`${app().url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ready' });
    });

    it('/.well-known/jwks.json lists the generated development key without its private part', async () => {
      const res = await fetch(`${app().url}/.well-known/jwks.json`);
      expect(res.status).toBe(200);
      const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> };
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: expect.any(String), alg: 'EdDSA', use: 'sig' });
      expect(keys[0]).not.toHaveProperty('d');
    });
  });
});

describe('with configured limits', () => {
  const app = appWith(() => ({
    GRAPHQL_MAX_DEPTH: '2',
    GRAPHQL_MAX_ALIASES: '2',
    GRAPHQL_MAX_COST: '10',
    GRAPHQL_MAX_TOKENS: '50',
    MAX_BODY_BYTES: '2000',
  }));

  it('GRAPHQL_MAX_DEPTH refuses a deeper query before it runs', async () => {
    expect(codes(await app().gql('{ me { id } }'))).toEqual([]);
    const verifies = app().app.passwords.stats.verifies;
    expectRefused(await app().gql(LOG_IN_USER), 'GRAPHQL_VALIDATION_FAILED', /depth limit of 2/i);
    expect(app().app.passwords.stats.verifies).toBe(verifies);
  });

  it('GRAPHQL_MAX_ALIASES refuses more aliases', async () => {
    expect(codes(await app().gql(aliased(2)))).toEqual([]);
    expectRefused(await app().gql(aliased(3)), 'GRAPHQL_VALIDATION_FAILED', /aliases limit of 2/i);
  });

  it('GRAPHQL_MAX_COST refuses a costlier query', async () => {
    expect(codes(await app().gql('{ me { id email username name createdAt } }'))).toEqual([]);
    expectRefused(await app().gql('{ me { id email username name createdAt emailVerified } }'), 'GRAPHQL_VALIDATION_FAILED', /cost limit of 10/i);
  });

  it('GRAPHQL_MAX_TOKENS refuses a longer document', async () => {
    expectRefused(await app().gql(`{ me { ${'id '.repeat(60)}} }`), 'GRAPHQL_PARSE_FAILED', /Document contains more tha[nt] 50 tokens/);
  });

  it('MAX_BODY_BYTES lets a smaller body through', async () => {
    expect((await postBody(app(), 1500, 'declared')).status).toBe(200);
    expect((await postBody(app(), 1500, 'chunked')).status).toBe(200);
  });

  it.each(['declared', 'chunked'] as const)('MAX_BODY_BYTES answers a larger %s body with 413', async (mode) => {
    const res = await postBody(app(), 5000, mode);
    expect(res.status).toBe(413);
    expect(res.body.errors!.map((e) => e.extensions.code)).toEqual(['BAD_REQUEST']);
    expect(res.body.errors![0]!.message).toMatch(/exceeds 2000 bytes/);
  });
});

describe('in production', () => {
  let key: JWK;
  const app = appWith(async () => {
    key = await generateSigningKey();
    return { NODE_ENV: 'production', JWT_SIGNING_KEYS: JSON.stringify({ keys: [key] }), PUBLIC_URL: 'https://posture.test', TOTP_ENCRYPTION_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=' };
  });

  it('refuses introspection', async () => {
    expectRefused(await app().gql('{ __schema { queryType { name } } }'), 'GRAPHQL_VALIDATION_FAILED', /introspection/i);
    expectRefused(await app().gql('{ __type(name: "User") { fields { name } } }'), 'GRAPHQL_VALIDATION_FAILED', /introspection/i);
  });

  it('lists exactly the public part of the configured key at /.well-known/jwks.json', async () => {
    const res = await fetch(`${app().url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: key.x, kid: key.kid, alg: 'EdDSA', use: 'sig' }] });
  });
});
