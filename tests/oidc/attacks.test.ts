import { firstCode, ok } from '../support/graphql';
import type { TestApp } from '../support/test-app';
import { authorize, complete, providerAccount, providerAndApp, REDIRECT_URI, START_OIDC, startAndAuthorize, type TestProvider } from './support';

// What an attacker tries against the callback: replays, forged or bent tokens, mixed-up issuers,
// foreign redirect URIs and providers, stale states, and many uses of one code at once.
const setup = providerAndApp();
let t: TestApp;
let provider: TestProvider;
beforeAll(() => ({ t, provider } = setup));

const users = async () => Number((await t.sql<{ n: string }>(`select count(*) as n from users`))[0]!.n);

describe('the state', () => {
  it('is single-use: a replayed state is INVALID_TOKEN, and so is an unknown one', async () => {
    const cb = await startAndAuthorize(t, provider, providerAccount());
    ok(await complete(t, cb));
    expect(firstCode(await complete(t, cb))).toBe('INVALID_TOKEN');
    expect(firstCode(await complete(t, { ...cb, state: 'x'.repeat(43) }))).toBe('INVALID_TOKEN');
    expect(firstCode(await complete(t, { ...cb, state: 'short' }))).toBe('INVALID_TOKEN');
  });

  it('expires after 10 minutes', async () => {
    const cb = await startAndAuthorize(t, provider, providerAccount());
    t.clock.advance(601);
    const before = await users();
    expect(firstCode(await complete(t, cb))).toBe('INVALID_TOKEN');
    expect(await users()).toBe(before);
  });

  it("is bound to its provider: another provider's callback cannot spend it", async () => {
    const cb = await startAndAuthorize(t, provider, providerAccount());
    expect(firstCode(await complete(t, cb, { provider: 'other' }))).toBe('INVALID_TOKEN');
    // Still unspent for its own provider.
    ok(await complete(t, cb));
  });

  it('gives one sign-in to 20 concurrent completions of one state and code; the rest are INVALID_TOKEN, never a 500', async () => {
    const account = providerAccount();
    const cb = await startAndAuthorize(t, provider, account);
    const results = await Promise.all(Array.from({ length: 20 }, () => complete(t, cb)));
    expect(results.every((r) => r.status < 500)).toBe(true);
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors).map(firstCode)).toEqual(Array(19).fill('INVALID_TOKEN'));
    expect(await t.sql(`select count(*)::int as n from users where email = ?`, [account.email])).toEqual([{ n: 1 }]);
  });
});

describe('parallel first sign-ins', () => {
  it('of one new person through separate flows make one account and one identity; every flow signs it in', async () => {
    const account = providerAccount();
    const callbacks = [];
    for (let i = 0; i < 5; i++) callbacks.push(await startAndAuthorize(t, provider, account));
    const results = await Promise.all(callbacks.map((cb) => complete(t, cb)));
    expect(results.map((r) => (r.errors ? JSON.stringify(r.errors[0]) : 'ok'))).toEqual(Array(5).fill('ok'));
    expect(new Set(results.map((r) => r.data!.completeOidcLogin.user.id)).size).toBe(1);
    expect(await t.sql(`select count(*)::int as n from users where email = ?`, [account.email])).toEqual([{ n: 1 }]);
    expect(await t.sql(`select count(*)::int as n from user_identities where subject = ?`, [account.sub])).toEqual([{ n: 1 }]);
  });
});

describe('the ID token', () => {
  for (const [mode, what] of [
    ['tamper', 'a flipped signature byte'],
    ['nonce', 'a nonce other than the one sent (re-signed with the provider key)'],
    ['expired', 'an expiry in the past (re-signed with the provider key)'],
  ] as const) {
    it(`is refused with ${what}: INVALID_TOKEN, nothing made`, async () => {
      const account = providerAccount();
      const cb = await startAndAuthorize(t, provider, account);
      await provider.nextToken(mode);
      const before = await users();
      expect(firstCode(await complete(t, cb))).toBe('INVALID_TOKEN');
      expect(await users()).toBe(before);
      expect(await t.sql(`select count(*)::int as n from user_identities where subject = ?`, [account.sub])).toEqual([{ n: 0 }]);
    });
  }

  it('a refused code (made up, or already exchanged under another state) is INVALID_TOKEN', async () => {
    const cb = await startAndAuthorize(t, provider, providerAccount());
    expect(firstCode(await complete(t, { ...cb, code: 'made-up-code' }))).toBe('INVALID_TOKEN');
    // That attempt spent the state; the genuine code, under another fresh state, fails its PKCE check.
    const other = ok(await t.gql(START_OIDC, { p: 'test', r: REDIRECT_URI })).startOidcLogin;
    expect(firstCode(await complete(t, { ...cb, state: other.state }))).toBe('INVALID_TOKEN');
  });
});

describe('the issuer (RFC 9207)', () => {
  it("refuses an iss that is not the provider's: INVALID_TOKEN", async () => {
    const cb = await startAndAuthorize(t, provider, providerAccount());
    expect(cb.iss).toBe(provider.issuer);
    expect(firstCode(await complete(t, cb, { iss: 'https://evil.example' }))).toBe('INVALID_TOKEN');
    // The state is spent: a mix-up attempt does not leave it for a second try.
    expect(firstCode(await complete(t, cb))).toBe('INVALID_TOKEN');
  });

  it('supplies the configured issuer when the frontend passes none', async () => {
    const account = providerAccount();
    const cb = await startAndAuthorize(t, provider, account);
    expect(ok(await complete(t, cb, { iss: null })).completeOidcLogin.user.email).toBe(account.email);
  });
});

describe('the inputs', () => {
  it('refuses a redirect URI off the allowlist: BAD_USER_INPUT naming redirectUri, no state stored', async () => {
    const before = await t.sql(`select count(*)::int as n from oidc_login_states`);
    for (const r of ['https://evil.example/cb', `${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, REDIRECT_URI.toUpperCase()]) {
      const res = await t.gql(START_OIDC, { p: 'test', r });
      expect(firstCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions).toMatchObject({ field: 'redirectUri' });
    }
    expect(await t.sql(`select count(*)::int as n from oidc_login_states`)).toEqual(before);
  });

  it('refuses an unknown provider: BAD_USER_INPUT naming provider, on start and complete', async () => {
    const start = await t.gql(START_OIDC, { p: 'nope', r: REDIRECT_URI });
    expect(firstCode(start)).toBe('BAD_USER_INPUT');
    expect(start.errors![0]!.extensions).toMatchObject({ field: 'provider' });
    const done = await complete(t, { code: 'c', state: 'x'.repeat(43), iss: null }, { provider: 'nope' });
    expect(firstCode(done)).toBe('BAD_USER_INPUT');
    expect(done.errors![0]!.extensions).toMatchObject({ field: 'provider' });
  });

  it('refuses NUL in any argument, and control characters outside code and state', async () => {
    expect(firstCode(await t.gql(START_OIDC, { p: 'te\u0000st', r: REDIRECT_URI }))).toBe('BAD_USER_INPUT');
    expect(firstCode(await t.gql(START_OIDC, { p: 'test', r: `${REDIRECT_URI}\u0007` }))).toBe('BAD_USER_INPUT');
    expect(firstCode(await complete(t, { code: 'a\u0000b', state: 'x'.repeat(43), iss: null }))).toBe('BAD_USER_INPUT');
  });

  it('answers a provider that cannot be reached with a coded error, quickly, and stores nothing', async () => {
    const before = await t.sql(`select count(*)::int as n from oidc_login_states`);
    const startedAt = Date.now();
    const res = await t.gql(START_OIDC, { p: 'down', r: REDIRECT_URI });
    expect(res.status).toBeLessThan(500);
    expect(firstCode(res)).toBe('PROVIDER_UNAVAILABLE');
    expect(res.errors![0]!.extensions).toMatchObject({ field: 'provider', retryAfter: 5 });
    expect(res.errors![0]!.message).not.toMatch(/127\.0\.0\.1|ECONN|fetch/);
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(await t.sql(`select count(*)::int as n from oidc_login_states`)).toEqual(before);
    expect(firstCode(await complete(t, { code: 'c', state: 'x'.repeat(43), iss: null }, { provider: 'down' }))).toBe('PROVIDER_UNAVAILABLE');
  });

  it('one completeOidcLogin per request: aliases are refused before any runs', async () => {
    const cb = await startAndAuthorize(t, provider, providerAccount());
    const doc = `mutation ($c: String!, $s: String!) { a: completeOidcLogin(provider: "test", code: $c, state: $s) { accessToken } b: completeOidcLogin(provider: "test", code: $c, state: $s) { accessToken } }`;
    const res = await t.gql(doc, { c: cb.code, s: cb.state });
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(res.data ?? null).toBeNull();
    // Nothing ran: the state is still good.
    ok(await complete(t, cb));
  });

  it('the provider sees the PKCE challenge and the nonce; a flow driven by hand shows both', async () => {
    const started = ok(await t.gql(START_OIDC, { p: 'test', r: REDIRECT_URI })).startOidcLogin;
    await provider.nextLogin(providerAccount());
    const cb = await authorize(started.authorizationUrl);
    expect(cb).toMatchObject({ state: started.state, iss: provider.issuer });
    ok(await complete(t, cb));
  });
});
