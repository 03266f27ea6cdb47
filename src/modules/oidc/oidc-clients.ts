import { AsyncLocalStorage } from 'node:async_hooks';
import * as oidc from 'openid-client';
import { badInput, DomainError, ErrorCode, invalidToken } from '../../common/errors';
import type { Config, OidcProviderConfig } from '../../config';
import type { Logger } from '../../logger';
import { assertEmail } from '../users/user.rules';

/** Seconds any one call to a provider (discovery, keys, token endpoint) may take. */
const PROVIDER_TIMEOUT = 10;
export const OIDC_SCOPE = 'openid email profile';

/** What an ID token, once every check has passed, says about the person. */
export interface ProvenClaims {
  sub: string;
  /** Normalized; null when the provider gave none, or one that is not a usable address. */
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** The provider cannot be reached (down, slow, or answering nonsense to discovery): worth a retry later. */
export const providerUnavailable = () =>
  new DomainError(ErrorCode.PROVIDER_UNAVAILABLE, 'The sign-in provider cannot be reached right now; try again in a moment.', {
    field: 'provider',
    retryAfter: 5,
  });

const isUnreachable = (err: unknown) => {
  const e = err as { name?: string; message?: string; code?: string };
  return (e?.name === 'TypeError' && e.message === 'fetch failed') || e?.code === 'OAUTH_TIMEOUT' || e?.code === 'OAUTH_ABORT';
};

/**
 * The configured OpenID providers, through openid-client: discovery (once per provider, on first
 * use, retried after a failure), the authorization URL, and the code exchange with the ID token's
 * checks (signature, iss, aud, exp, nonce), PKCE and RFC 9207's `iss`.
 */
export class OidcClients {
  private readonly configurations = new Map<string, Promise<oidc.Configuration>>();
  // The redirect URI of the exchange under way, for the token request (see fetchWithRedirectUri).
  private readonly redirectUri = new AsyncLocalStorage<string>();

  constructor(
    private readonly settings: Config['oidc'],
    private readonly logger: Logger,
  ) {}

  list(): readonly OidcProviderConfig[] {
    return this.settings.providers;
  }

  /** The provider of `id`; BAD_USER_INPUT (field `provider`) when none is configured. */
  provider(id: string): OidcProviderConfig {
    const provider = this.settings.providers.find((p) => p.id === id);
    if (!provider) throw badInput('provider', 'Unknown sign-in provider.');
    return provider;
  }

  /** BAD_USER_INPUT (field `redirectUri`) unless the URI is on OIDC_REDIRECT_URIS, exactly. */
  assertRedirectUri(uri: string): void {
    if (!this.settings.redirectUris.includes(uri)) throw badInput('redirectUri', 'This redirect URI is not allowed.');
  }

  /** The provider's client configuration, discovered on first use; a failure is not kept. */
  configuration(provider: OidcProviderConfig): Promise<oidc.Configuration> {
    let pending = this.configurations.get(provider.id);
    if (!pending) {
      pending = this.discover(provider);
      this.configurations.set(provider.id, pending);
      pending.catch(() => this.configurations.delete(provider.id));
    }
    return pending.catch((err: unknown) => {
      this.logger.warn({ provider: provider.id, reason: reasonOf(err) }, 'OpenID Connect discovery failed');
      throw providerUnavailable();
    });
  }

  private async discover(provider: OidcProviderConfig): Promise<oidc.Configuration> {
    const issuer = new URL(provider.issuer);
    // Only an http loopback issuer gets here over http, and only with OIDC_ALLOW_INSECURE_ISSUERS (see config).
    const insecure = this.settings.allowInsecureIssuers && issuer.protocol === 'http:';
    const extensions = insecure ? [oidc.allowInsecureRequests] : [];
    const discovered = await oidc.discovery(issuer, provider.clientId, provider.clientSecret, undefined, {
      execute: extensions,
      timeout: PROVIDER_TIMEOUT,
      [oidc.customFetch]: this.fetchWithRedirectUri,
    });
    const metadata = discovered.serverMetadata();
    // client_secret_basic is the default of OpenID Connect; post only for a provider without it.
    const methods = metadata.token_endpoint_auth_methods_supported;
    const auth = !methods || methods.includes('client_secret_basic') ? oidc.ClientSecretBasic(provider.clientSecret) : oidc.ClientSecretPost(provider.clientSecret);
    const configuration = new oidc.Configuration(metadata, provider.clientId, provider.clientSecret, auth);
    for (const extension of extensions) extension(configuration);
    // openid-client 6 checks the ID token's claims but not its signature on the code flow unless asked.
    oidc.enableNonRepudiationChecks(configuration);
    configuration.timeout = PROVIDER_TIMEOUT;
    configuration[oidc.customFetch] = this.fetchWithRedirectUri;
    return configuration;
  }

  /**
   * openid-client derives the token request's redirect_uri from the callback URL minus its query,
   * which differs from the registered URI when that has a query of its own or no path: send the
   * URI the authorization used, exactly.
   */
  private readonly fetchWithRedirectUri: oidc.CustomFetch = (url, options) => {
    const uri = this.redirectUri.getStore();
    const body = options.body;
    if (uri && body instanceof URLSearchParams && body.get('grant_type') === 'authorization_code') body.set('redirect_uri', uri);
    return fetch(url, options as RequestInit);
  };

  async authorizationUrl(
    provider: OidcProviderConfig,
    flow: { redirectUri: string; state: string; nonce: string; verifier: string },
  ): Promise<string> {
    const configuration = await this.configuration(provider);
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: flow.redirectUri,
      scope: OIDC_SCOPE,
      response_type: 'code',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
    }).href;
  }

  /**
   * Exchanges the code and checks the ID token. INVALID_TOKEN for anything the provider or the
   * token gets wrong (an error response, a bad signature, iss, aud, exp or nonce); the provider
   * being out of reach is providerUnavailable. The reason is logged, never the code or tokens.
   */
  async exchange(
    provider: OidcProviderConfig,
    callback: { code: string; state: string; iss: string | null },
    flow: { redirectUri: string; nonce: string; verifier: string },
  ): Promise<ProvenClaims> {
    const configuration = await this.configuration(provider);
    const issuer = configuration.serverMetadata().issuer;
    // RFC 9207: an `iss` on the redirect must be this provider's; without one, openid-client still expects it.
    if (callback.iss !== null && callback.iss !== issuer) {
      this.logger.warn({ provider: provider.id, reason: 'iss_mismatch' }, 'OpenID Connect callback refused');
      throw invalidToken();
    }
    const url = new URL(flow.redirectUri);
    url.searchParams.set('code', callback.code);
    url.searchParams.set('state', callback.state);
    url.searchParams.set('iss', issuer);
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await this.redirectUri.run(flow.redirectUri, () =>
        oidc.authorizationCodeGrant(configuration, url, {
          pkceCodeVerifier: flow.verifier,
          expectedNonce: flow.nonce,
          expectedState: callback.state,
          idTokenExpected: true,
        }),
      );
      claims = tokens.claims();
    } catch (err) {
      this.logger.warn({ provider: provider.id, reason: reasonOf(err) }, 'OpenID Connect code exchange failed');
      if (isUnreachable(err)) throw providerUnavailable();
      throw invalidToken();
    }
    if (!claims || typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) throw invalidToken();
    return {
      sub: claims.sub,
      email: usableEmail(claims.email),
      // A few providers send the boolean as a string.
      emailVerified: claims.email_verified === true || claims.email_verified === 'true',
      name: typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 100) : null,
    };
  }
}

function usableEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    return assertEmail(value);
  } catch {
    return null;
  }
}

/** What went wrong, for the log: an error code or name and message, never a token. */
function reasonOf(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; code?: string; message?: string; error?: string; cause?: { code?: string } };
  return { name: e?.name, code: e?.code ?? e?.cause?.code, error: e?.error, message: e?.message?.slice(0, 200) };
}
