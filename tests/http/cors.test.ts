import { generateSigningKey } from '../../src/modules/auth/signing-keys';
import type { TestApp } from '../support/test-app';
import { appsOfFile } from './app-with';

const appWith = appsOfFile();

const production = async () => ({
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://posture.test',
  JWT_SIGNING_KEYS: JSON.stringify({ keys: [await generateSigningKey()] }),
  TOTP_ENCRYPTION_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
});

/** A browser's preflight for a POST with the headers Apollo Client and urql send. */
const preflight = (t: TestApp, origin: string) =>
  fetch(`${t.url}/graphql`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, apollographql-client-name, apollographql-client-version',
    },
  });

const query = (t: TestApp, origin?: string) =>
  fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
    body: '{"query":"{ me { id } }"}',
  });

const varyOf = (res: Response) => (res.headers.get('vary') ?? '').split(',').map((v) => v.trim().toLowerCase());
const allowedHeadersOf = (res: Response) => (res.headers.get('access-control-allow-headers') ?? '').split(',').map((v) => v.trim().toLowerCase());

describe('without CORS_ORIGINS, outside production', () => {
  const app = appWith(() => ({ NODE_ENV: 'development' }));

  it('lets any origin read the answers', async () => {
    for (const res of [await query(app(), 'https://anyone.example'), await query(app()), await fetch(`${app().url}/healthz`)]) {
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('answers a preflight from any origin, allowing the client-awareness headers', async () => {
    const res = await preflight(app(), 'https://anyone.example');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(allowedHeadersOf(res)).toEqual(
      expect.arrayContaining([
        'authorization',
        'content-type',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'apollographql-client-name',
        'apollographql-client-version',
      ]),
    );
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets scripts read Retry-After and the request id', async () => {
    const res = await query(app(), 'https://anyone.example');
    expect((res.headers.get('access-control-expose-headers') ?? '').toLowerCase()).toBe('retry-after, x-request-id');
  });
});

describe('without CORS_ORIGINS, in production', () => {
  const app = appWith(production);

  it('lets no other origin read the answers', async () => {
    for (const res of [await query(app(), 'https://anyone.example'), await query(app()), await preflight(app(), 'https://anyone.example')]) {
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-headers')).toBeNull();
    }
  });

  it('still answers same-origin and non-browser clients', async () => {
    const res = await query(app());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: null } });
  });
});

describe.each([
  ['outside production', () => ({ NODE_ENV: 'development' })],
  ['in production', production],
])('with CORS_ORIGINS, %s', (_mode, env) => {
  const app = appWith(async () => ({ ...(await env()), CORS_ORIGINS: 'https://app.example, https://admin.example:8443' }));

  it.each(['https://app.example', 'https://admin.example:8443'])('gives the listed origin %s itself back, with Vary: Origin', async (origin) => {
    for (const res of [await query(app(), origin), await preflight(app(), origin)]) {
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(varyOf(res)).toContain('origin');
    }
    expect(allowedHeadersOf(await preflight(app(), origin))).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'apollographql-client-name', 'apollographql-client-version']),
    );
  });

  it.each([
    'https://evil.example',
    'http://app.example', // another scheme is another origin
    'https://app.example:444',
    'https://sub.app.example',
    'https://app.example.evil.example',
    'null',
    '*',
  ])('gives the unlisted origin %s no Access-Control-Allow-Origin', async (origin) => {
    for (const res of [await query(app(), origin), await preflight(app(), origin)]) {
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-headers')).toBeNull();
      expect(varyOf(res)).toContain('origin');
    }
  });

  it('answers a request without Origin, with Vary: Origin for caches', async () => {
    const res = await query(app());
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(varyOf(res)).toContain('origin');
  });
});
