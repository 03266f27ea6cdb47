import http from 'node:http';
import { generateSigningKey } from '../../src/modules/auth/signing-keys';
import type { TestApp } from '../support/test-app';
import { appsOfFile } from './app-with';
import { headerOf, sendRaw } from './raw-http';

const appWith = appsOfFile();

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
}

const pick = (get: (name: string) => string | null | undefined): Answer['headers'] =>
  Object.fromEntries(
    ['x-content-type-options', 'referrer-policy', 'x-frame-options', 'strict-transport-security', 'cache-control', 'content-type', 'content-security-policy'].map(
      (name) => [name, get(name) ?? undefined],
    ),
  );

async function request(t: TestApp, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${t.url}${path}`, { redirect: 'manual', ...init });
  await res.arrayBuffer();
  return { status: res.status, headers: pick((name) => res.headers.get(name)) };
}

/** A request fetch cannot make: a body over the limit, refused by our own edge. */
function tooLarge(t: TestApp): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL('/graphql', t.url), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 10_000_000 } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: pick((name) => res.headers[name] as string | undefined) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every kind of answer the server gives, by route and outcome: [what, request, status, on /graphql]. */
const ANSWERS: Array<[string, (t: TestApp) => Promise<Answer>, number, boolean?]> = [
  ['GET /healthz', (t) => request(t, '/healthz'), 200],
  ['GET /readyz', (t) => request(t, '/readyz'), 200],
  ['GET /.well-known/jwks.json', (t) => request(t, '/.well-known/jwks.json'), 200],
  ['GET / (the redirect)', (t) => request(t, '/'), 302],
  ['an unknown path', (t) => request(t, '/admin.php'), 404],
  ['a GraphQL query', (t) => request(t, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ me { id } }"}' }), 200, true],
  ['a GraphQL query by GET', (t) => request(t, '/graphql?query=%7Bme%7Bid%7D%7D', { headers: { 'apollo-require-preflight': '1' } }), 200, true],
  ['a GraphQL error', (t) => request(t, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ me { nope } }"}' }), 400, true],
  ['a body that is not JSON', (t) => request(t, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }), 400, true],
  ['a body over the limit', tooLarge, 413, true],
  ['a GET refused by CSRF prevention', (t) => request(t, '/graphql?query=%7Bme%7Bid%7D%7D'), 400, true],
  ['a mutation by GET', (t) => request(t, '/graphql?query=mutation%7BlogOutEverywhere%7D', { headers: { 'apollo-require-preflight': '1' } }), 405, true],
  ['a method GraphQL does not take', (t) => request(t, '/graphql', { method: 'DELETE', headers: { 'content-type': 'application/json' } }), 405, true],
  ['a CORS preflight', (t) => request(t, '/graphql', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } }), 204, true],
];

function expectBaseline(answer: Answer) {
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  expect(answer.headers['referrer-policy']).toBe('no-referrer');
  expect(answer.headers['x-frame-options']).toBe('DENY');
}

describe('over plain http', () => {
  const app = appWith(() => ({ NODE_ENV: 'development', PUBLIC_URL: 'http://posture.test' }));

  it.each(ANSWERS)('%s carries nosniff, no-referrer and DENY, and no HSTS', async (_what, send, status) => {
    const answer = await send(app());
    expect(answer.status).toBe(status);
    expectBaseline(answer);
    expect(answer.headers['strict-transport-security']).toBeUndefined();
  });

  it.each(ANSWERS.filter(([, , , graphql]) => graphql))('%s on /graphql is not stored by caches', async (_what, send) => {
    expect((await send(app())).headers['cache-control']).toBe('no-store');
  });

  it('keeps the key set cacheable', async () => {
    expect((await request(app(), '/.well-known/jwks.json')).headers['cache-control']).toBe('public, max-age=300');
  });

  it('gives JSON answers a content security policy that allows nothing', async () => {
    const answer = await request(app(), '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ me { id } }"}' });
    expect(answer.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('serves the Sandbox page whole, without the frame and content policies that would break it', async () => {
    const res = await fetch(`${app().url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toMatch(/embeddable-sandbox/);
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers a malformed target with the headers too', async () => {
    const res = await sendRaw(app().url, 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res.status).toBeLessThan(500);
    expect(headerOf(res.head, 'x-content-type-options')).toBe('nosniff');
    expect(headerOf(res.head, 'x-frame-options')).toBe('DENY');
  });
});

describe('when PUBLIC_URL is https', () => {
  const app = appWith(async () => ({
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://posture.test',
    JWT_SIGNING_KEYS: JSON.stringify({ keys: [await generateSigningKey()] }),
    TOTP_ENCRYPTION_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
  }));

  it.each(ANSWERS)('%s carries Strict-Transport-Security', async (_what, send, status) => {
    const answer = await send(app());
    expect(answer.status).toBe(status);
    expectBaseline(answer);
    expect(answer.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });
});
