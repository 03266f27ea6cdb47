/** The sign-in settings (OIDC_PROVIDERS, OIDC_REDIRECT_URIS, TOTP_ENCRYPTION_KEY), parsed for loadConfig. */

/** One OpenID Connect provider of OIDC_PROVIDERS. */
export interface OidcProviderConfig {
  /** The name clients use (`provider` arguments, `LinkedIdentity.provider`). */
  id: string;
  /** What a login page shows. */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** OIDC_PROVIDERS: a JSON array of { id, name, issuer, clientId, clientSecret }. Throws naming the problem. */
export function parseOidcProviders(raw: string | undefined, allowInsecure: boolean): OidcProviderConfig[] {
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('not valid JSON (expected an array of { "id", "name", "issuer", "clientId", "clientSecret" })');
  }
  if (!Array.isArray(parsed)) throw new Error('must be a JSON array');
  const seen = new Set<string>();
  return parsed.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    for (const key of ['id', 'name', 'issuer', 'clientId', 'clientSecret']) {
      if (typeof e[key] !== 'string' || (e[key] as string).trim() === '') throw new Error(`entry ${i}: "${key}" must be a non-empty string`);
    }
    const id = (e.id as string).trim();
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(id)) throw new Error(`entry ${i}: "id" must be 1–32 lower-case letters, digits, _ or -`);
    if (seen.has(id)) throw new Error(`entry ${i}: "id" ${id} appears twice`);
    seen.add(id);
    let issuer: URL;
    try {
      issuer = new URL((e.issuer as string).trim());
    } catch {
      throw new Error(`${id}: "issuer" is not a URL`);
    }
    const insecureLoopback = issuer.protocol === 'http:' && LOOPBACK_HOSTS.has(issuer.hostname);
    if (issuer.protocol !== 'https:' && !(insecureLoopback && allowInsecure)) {
      throw new Error(`${id}: "issuer" must use https (an http loopback issuer needs OIDC_ALLOW_INSECURE_ISSUERS=true, outside production)`);
    }
    return { id, name: (e.name as string).trim(), issuer: (e.issuer as string).trim(), clientId: e.clientId as string, clientSecret: e.clientSecret as string };
  });
}

/** OIDC_REDIRECT_URIS: comma-separated absolute URIs, compared exactly. */
export function parseRedirectUris(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((uri) => {
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        throw new Error(`"${uri}" is not an absolute URI`);
      }
      if (url.hash) throw new Error(`"${uri}": a redirect URI has no fragment`);
      return uri;
    });
}

/** TOTP_ENCRYPTION_KEY: 32 bytes in base64. */
export function parseTotpKey(raw: string | undefined): Buffer | undefined {
  if (raw === undefined) return undefined;
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) throw new Error('must be 32 random bytes in base64 (openssl rand -base64 32)');
  return key;
}
