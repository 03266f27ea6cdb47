import { CHEAP_HASHING, startTestApp, type TestApp } from '../support/test-app';

/**
 * A client over an ip limit is refused at the HTTP edge, before Apollo parses, validates and
 * refuses the request, with the same 429 and error as the rate-limit plugin's.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    env: { ...CHEAP_HASHING, TRUST_PROXY: '1', RATE_LIMITS: 'logIn.ip=2/60,logIn.account=off' },
  });
});
afterAll(() => t?.stop());

let lastIp = 0;
const nextIp = () => `198.51.100.${++lastIp}`;

const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }';
const wrongLogIn = { input: { usernameOrEmail: 'nobody_edge', password: 'not-the-password-1' } };
/** A logIn that fails validation (no password): Apollo answers it 400 before counting anything. */
const INVALID_LOG_IN = 'mutation { logIn(input: { usernameOrEmail: "x" }) { accessToken } }';

async function post(ip: string, body: unknown) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
}

/** Spends `ip`'s two logIns and has the limiter refuse a third; returns that refusal. */
async function exhaust(ip: string) {
  for (let i = 0; i < 2; i++) {
    const res = await post(ip, { query: LOG_IN, variables: wrongLogIn });
    expect(res.json.errors?.[0]?.extensions.code).toBe('INVALID_CREDENTIALS');
  }
  const refused = await post(ip, { query: LOG_IN, variables: wrongLogIn });
  expect(refused.status).toBe(429);
  return refused;
}

it('answers a blocked client 429 with Retry-After and the rate-limit error, before any GraphQL work', async () => {
  const ip = nextIp();
  const byPlugin = await exhaust(ip);

  // Malformed for Apollo (400 from a fresh address), yet refused: the edge reads only the root fields.
  expect((await post(nextIp(), { query: INVALID_LOG_IN })).status).toBe(400);
  const atEdge = await post(ip, { query: INVALID_LOG_IN });
  expect(atEdge.status).toBe(429);
  expect(atEdge.headers.get('content-type')).toMatch(/^application\/json/);
  const retryAfter = Number(atEdge.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(atEdge.json).toEqual({
    errors: [{ message: 'Too many logIn attempts; try again later.', extensions: { code: 'RATE_LIMITED', retryAfter } }],
  });
  // The plugin's refusal reads the same.
  expect(byPlugin.json.errors).toEqual([
    { message: 'Too many logIn attempts; try again later.', extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } },
  ]);
  expect(Number(byPlugin.headers.get('retry-after'))).toBe(byPlugin.json.errors![0]!.extensions.retryAfter);
});

it('refuses only the limited operation, and only for the client over its limit', async () => {
  const blocked = nextIp();
  await exhaust(blocked);

  const me = await post(blocked, { query: '{ me { id } }' });
  expect(me.status).toBe(200);
  expect(me.json).toEqual({ data: { me: null } });
  const two = 'query Me { me { id } } mutation L($input: LogInInput!) { logIn(input: $input) { accessToken } }';
  expect((await post(blocked, { query: two, operationName: 'Me' })).status).toBe(200);
  expect((await post(blocked, { query: two, operationName: 'L', variables: wrongLogIn })).status).toBe(429);
  expect((await post(blocked, { query: 'mutation { a: logIn(input: { usernameOrEmail: "x", password: "y" }) { accessToken } }' })).status).toBe(429);

  // Another client, under its limit, is never refused: it gets both its logIns.
  const other = nextIp();
  for (let i = 0; i < 2; i++) {
    const res = await post(other, { query: LOG_IN, variables: wrongLogIn });
    expect(res.status).toBe(200);
    expect(res.json.errors?.[0]?.extensions.code).toBe('INVALID_CREDENTIALS');
  }
});

it('leaves what it cannot read to Apollo', async () => {
  const ip = nextIp();
  await exhaust(ip);
  const syntax = await post(ip, { query: 'mutation { logIn(' });
  expect(syntax.status).toBe(400);
  expect(syntax.json.errors?.[0]?.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
});
