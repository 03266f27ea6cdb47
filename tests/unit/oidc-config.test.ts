import { loadConfig } from '../../src/config';
import { problemsOf, PRODUCTION } from '../support/config';

// OIDC_PROVIDERS, OIDC_REDIRECT_URIS and OIDC_ALLOW_INSECURE_ISSUERS, as loadConfig reads them.
const GOOGLE = { id: 'google', name: 'Google', issuer: 'https://accounts.google.com', clientId: 'id.apps.googleusercontent.com', clientSecret: 'secret' };

describe('OpenID Connect settings', () => {
  it('are empty by default: no providers, no redirect URIs', () => {
    expect(loadConfig({}).oidc).toEqual({ providers: [], redirectUris: [], allowInsecureIssuers: false });
  });

  it('read providers as a JSON array and the redirect URIs as a comma-separated list', () => {
    const config = loadConfig({
      OIDC_PROVIDERS: JSON.stringify([GOOGLE, { ...GOOGLE, id: 'okta', name: 'Okta', issuer: 'https://example.okta.com' }]),
      OIDC_REDIRECT_URIS: 'https://app.example/auth/callback, https://app.example/settings/link',
    });
    expect(config.oidc.providers.map((p) => p.id)).toEqual(['google', 'okta']);
    expect(config.oidc.providers[0]).toEqual(GOOGLE);
    expect(config.oidc.redirectUris).toEqual(['https://app.example/auth/callback', 'https://app.example/settings/link']);
  });

  it('refuses malformed providers, naming the problem', () => {
    const uris = { OIDC_REDIRECT_URIS: 'https://app.example/cb' };
    const cases: Array<[unknown, RegExp]> = [
      ['not json', /not valid JSON/],
      [{ ...GOOGLE }, /array/],
      [[{ ...GOOGLE, clientSecret: '' }], /clientSecret/],
      [[{ ...GOOGLE, id: 'Has Space' }], /"id"/],
      [[GOOGLE, GOOGLE], /twice/],
      [[{ ...GOOGLE, issuer: 'not a url' }], /not a URL/],
      [[{ ...GOOGLE, issuer: 'http://accounts.google.com' }], /https/],
    ];
    for (const [value, message] of cases) {
      const problems = problemsOf({ ...uris, OIDC_PROVIDERS: typeof value === 'string' ? value : JSON.stringify(value) });
      expect(problems.join('\n')).toMatch(/OIDC_PROVIDERS/);
      expect(problems.join('\n')).toMatch(message);
    }
  });

  it('needs redirect URIs once a provider is set, and refuses one with a fragment or not absolute', () => {
    expect(problemsOf({ OIDC_PROVIDERS: JSON.stringify([GOOGLE]) }).join('\n')).toMatch(/OIDC_REDIRECT_URIS/);
    expect(problemsOf({ OIDC_REDIRECT_URIS: 'https://app.example/cb#x' }).join('\n')).toMatch(/OIDC_REDIRECT_URIS.*fragment/);
    expect(problemsOf({ OIDC_REDIRECT_URIS: '/relative/cb' }).join('\n')).toMatch(/OIDC_REDIRECT_URIS/);
  });

  it('takes an http loopback issuer only with OIDC_ALLOW_INSECURE_ISSUERS=true, and never another http issuer', () => {
    const local = { ...GOOGLE, id: 'local', issuer: 'http://127.0.0.1:8080' };
    const env = { OIDC_PROVIDERS: JSON.stringify([local]), OIDC_REDIRECT_URIS: 'http://localhost:3000/cb' };
    expect(problemsOf(env).join('\n')).toMatch(/OIDC_ALLOW_INSECURE_ISSUERS/);
    expect(loadConfig({ ...env, OIDC_ALLOW_INSECURE_ISSUERS: 'true' }).oidc).toMatchObject({ allowInsecureIssuers: true, providers: [local] });
    const remote = { ...local, issuer: 'http://idp.example' };
    expect(problemsOf({ ...env, OIDC_PROVIDERS: JSON.stringify([remote]), OIDC_ALLOW_INSECURE_ISSUERS: 'true' }).join('\n')).toMatch(/https/);
  });

  it('refuses OIDC_ALLOW_INSECURE_ISSUERS in production', () => {
    expect(problemsOf({ ...PRODUCTION, OIDC_ALLOW_INSECURE_ISSUERS: 'true' })).toContain('OIDC_ALLOW_INSECURE_ISSUERS: refused in production');
    expect(loadConfig({ ...PRODUCTION, OIDC_PROVIDERS: JSON.stringify([GOOGLE]), OIDC_REDIRECT_URIS: 'https://app.example/cb' }).oidc.providers).toHaveLength(1);
  });
});
