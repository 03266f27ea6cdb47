import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AUTH_FIELDS, ok, type GraphQLResponse } from '../support/graphql';
import { CHEAP_HASHING, relaxedLimits, startTestApp, type TestApp } from '../support/test-app';

/** The account the provider logs in as next: the claims its ID token will carry. */
export interface ProviderAccount {
  sub: string;
  email?: string;
  email_verified?: boolean | string;
  name?: string;
}

/** How the provider bends the next ID token it issues. */
export type TokenMode = 'tamper' | 'nonce' | 'expired';

export interface TestProvider {
  issuer: string;
  nextLogin(account: ProviderAccount): Promise<void>;
  nextToken(mode: TokenMode): Promise<void>;
  stop(): Promise<void>;
}

export const CLIENTS = [
  { client_id: 'posture-test', client_secret: 'test-secret-0123456789' },
  { client_id: 'posture-other', client_secret: 'other-secret-0123456789' },
];
export const REDIRECT_URI = 'http://app.test/oidc/callback';
/** On the allowlist, with a query of its own: the token request must carry it as registered. */
export const REDIRECT_URI_WITH_QUERY = 'http://app.test/oidc/callback?from=settings';

/** Starts tests/oidc/provider.mjs (oidc-provider, ESM) in a child process on loopback. */
export async function startProvider(): Promise<TestProvider> {
  const settings = {
    clients: CLIENTS.map((c) => ({
      ...c,
      redirect_uris: [REDIRECT_URI, REDIRECT_URI_WITH_QUERY],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
  };
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'provider.mjs'), JSON.stringify(settings)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'development' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`provider did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`provider exited (${code}): ${stderr}`)));
  });
  const issuer = `http://127.0.0.1:${port}`;
  const control = async (route: string, body: unknown) => {
    const res = await fetch(`${issuer}/test/${route}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`provider control ${route}: ${res.status}`);
  };
  return {
    issuer,
    nextLogin: (account) => control('next-login', account),
    nextToken: (mode) => control('next-token', { mode }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The app settings for a provider: `test` and `other` (two clients of it), and `down` (nothing listens). */
export function oidcEnv(provider: TestProvider, extraLimits: string[] = []): Record<string, string> {
  return {
    ...CHEAP_HASHING,
    OIDC_PROVIDERS: JSON.stringify([
      { id: 'test', name: 'Test ID', issuer: provider.issuer, clientId: CLIENTS[0]!.client_id, clientSecret: CLIENTS[0]!.client_secret },
      { id: 'other', name: 'Other ID', issuer: provider.issuer, clientId: CLIENTS[1]!.client_id, clientSecret: CLIENTS[1]!.client_secret },
      { id: 'down', name: 'Down ID', issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'y' },
    ]),
    OIDC_REDIRECT_URIS: `${REDIRECT_URI},${REDIRECT_URI_WITH_QUERY}`,
    OIDC_ALLOW_INSECURE_ISSUERS: 'true',
    RATE_LIMITS: relaxedLimits('startOidcLogin.ip=100000/60', 'completeOidcLogin.ip=100000/60', 'linkOidcIdentity.user=100000/60', 'unlinkIdentity.user=100000/60', ...extraLimits),
  };
}

/**
 * A provider and an app configured for it, for a whole test file (started in beforeAll, stopped in
 * afterAll). Read `t` and `provider` inside tests.
 */
export function providerAndApp(env: Record<string, string> = {}): { t: TestApp; provider: TestProvider } {
  const handle = {} as { t: TestApp; provider: TestProvider };
  beforeAll(async () => {
    handle.provider = await startProvider();
    handle.t = await startTestApp({ env: { ...oidcEnv(handle.provider), ...env } });
  });
  afterAll(async () => {
    await handle.t?.stop();
    await handle.provider?.stop();
  });
  return handle;
}

export const START_OIDC = `mutation ($p: String!, $r: String!) { startOidcLogin(provider: $p, redirectUri: $r) { authorizationUrl state } }`;
export const USER_FIELDS = 'id email username name emailVerified hasPassword identities { provider email linkedAt }';
export const COMPLETE_OIDC = `mutation ($p: String!, $c: String!, $s: String!, $i: String) { completeOidcLogin(provider: $p, code: $c, state: $s, iss: $i) { ${AUTH_FIELDS.replace(/user \{[^}]*\}/, `user { ${USER_FIELDS} }`)} } }`;
export const LINK_OIDC = `mutation ($p: String!, $c: String!, $s: String!) { linkOidcIdentity(provider: $p, code: $c, state: $s) { ${USER_FIELDS} } }`;
export const UNLINK = `mutation ($p: String!) { unlinkIdentity(provider: $p) }`;
export const ME_SIGN_IN = `{ me { ${USER_FIELDS} } }`;

/** The redirect back, as the browser would reach the redirect URI. */
export interface Callback {
  code: string;
  state: string;
  iss: string | null;
}

/**
 * Drives the browser's part: follows the provider's redirects (with a cookie jar) through its
 * automatic login and consent, until it sends the browser to the redirect URI.
 */
export async function authorize(authorizationUrl: string, redirectUri = REDIRECT_URI): Promise<Callback> {
  const jar = new Map<string, string>();
  let next = authorizationUrl;
  const redirectBase = redirectUri.split('?')[0]!;
  for (let hop = 0; hop < 12; hop++) {
    const res = await fetch(next, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`the provider stopped at ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const target = new URL(location, next);
    if (target.href.startsWith(redirectBase)) {
      const p = target.searchParams;
      if (p.get('error')) throw new Error(`provider error: ${p.get('error')} ${p.get('error_description')}`);
      return { code: p.get('code')!, state: p.get('state')!, iss: p.get('iss') };
    }
    next = target.href;
  }
  throw new Error('too many redirects');
}

let counter = 0;
/** A provider account with a fresh sub and address. */
export function providerAccount(over: Partial<ProviderAccount> = {}): ProviderAccount & { email: string } {
  const id = `${Date.now().toString(36)}${(counter++).toString(36)}${randomBytes(3).toString('hex')}`;
  return { sub: `sub-${id}`, email: `oidc${id}@example.com`, email_verified: true, name: 'Ada Lovelace', ...over } as ProviderAccount & { email: string };
}

/** Starts a flow as `token`'s session (or anonymously) and has the provider log in as `account`. */
export async function startAndAuthorize(
  t: TestApp,
  provider: TestProvider,
  account: ProviderAccount,
  opts: { provider?: string; token?: string; redirectUri?: string } = {},
): Promise<Callback> {
  const redirectUri = opts.redirectUri ?? REDIRECT_URI;
  const started = ok(await t.gql(START_OIDC, { p: opts.provider ?? 'test', r: redirectUri }, { token: opts.token })).startOidcLogin;
  await provider.nextLogin(account);
  const callback = await authorize(started.authorizationUrl, redirectUri);
  expect(callback.state).toBe(started.state);
  return callback;
}

/** completeOidcLogin with a callback. */
export const complete = (t: TestApp, cb: Callback, opts: { provider?: string; iss?: string | null; token?: string } = {}): Promise<GraphQLResponse> =>
  t.gql(COMPLETE_OIDC, { p: opts.provider ?? 'test', c: cb.code, s: cb.state, i: opts.iss === undefined ? cb.iss : opts.iss }, { token: opts.token });

/** The whole sign-in as `account`: start, the provider's login, complete. */
export async function signInWith(t: TestApp, provider: TestProvider, account: ProviderAccount, opts: { provider?: string } = {}) {
  const cb = await startAndAuthorize(t, provider, account, opts);
  return complete(t, cb, opts);
}

/** linkOidcIdentity for `token`'s session, with a flow started by `startToken` (default: the same session). */
export async function linkWith(
  t: TestApp,
  provider: TestProvider,
  account: ProviderAccount,
  token: string,
  opts: { provider?: string; startToken?: string | null } = {},
): Promise<GraphQLResponse> {
  const cb = await startAndAuthorize(t, provider, account, { provider: opts.provider, token: opts.startToken === null ? undefined : (opts.startToken ?? token) });
  return t.gql(LINK_OIDC, { p: opts.provider ?? 'test', c: cb.code, s: cb.state }, { token });
}
