export const ME_QUERY = '{ me { id email username name emailVerified isSuperuser createdAt } }';
export const LOG_IN_MUTATION =
  'mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken user { id } } }';

export const isMe = (body: string) => body.includes('"me":{"id":"');
export const isLoggedIn = (body: string) => body.includes('"accessToken":"');

export interface Credentials {
  usernameOrEmail: string;
  password: string;
}

/** POSTs one GraphQL request to `${baseUrl}/graphql`, with a bearer token if given. */
const post = (baseUrl: string, query: string, variables?: unknown, token?: string): Promise<Response> =>
  fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });

/** One GraphQL call; throws with the server's answer unless it has data and no errors. */
export async function graphql<T>(baseUrl: string, query: string, variables?: unknown, token?: string): Promise<T> {
  const res = await post(baseUrl, query, variables, token);
  const text = await res.text();
  let json: { data?: T; errors?: unknown[] };
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${baseUrl}/graphql answered ${res.status}: ${text.slice(0, 500)}`);
  }
  if (json.errors?.length || !json.data) throw new Error(`${baseUrl}/graphql answered ${res.status}: ${text.slice(0, 500)}`);
  return json.data;
}

export async function logIn(baseUrl: string, credentials: Credentials): Promise<string> {
  const data = await graphql<{ logIn: { accessToken: string } }>(baseUrl, LOG_IN_MUTATION, { input: credentials });
  return data.logIn.accessToken;
}

/** Raw response body of one GraphQL call, whatever it says: to check that Posture and a baseline answer alike. */
export async function graphqlBody(baseUrl: string, query: string, variables?: unknown, token?: string): Promise<string> {
  return (await post(baseUrl, query, variables, token)).text();
}

/** Invalid credentials: the logIn ran its argon2 work and was turned down, as a flood's logIns are. */
export const isInvalidCredentials = (body: string) => body.includes('"INVALID_CREDENTIALS"');

/** logIn.ip and logIn.account switched off: the only override figure 2 makes (never the hashing settings). */
export const RELAXED_LOGIN_LIMITS = 'logIn.ip=off,logIn.account=off';

/**
 * The environment of a Posture child process: production, as deployed, at its defaults, except
 * what the bench must fix (a signing key and a TOTP key, an issuer that does not follow the port,
 * an SMTP server that swallows mail, a quiet log, a one-hour token). Hashing settings only when a
 * BENCH_* variable asks for them; rate limits only when a figure says so. Production matters:
 * libraries take other paths in development (graphql-js checks every type test twice over).
 */
export function postureEnv(opts: {
  dataDir: string;
  signingKeys: string;
  totpKey: string;
  smtpUrl: string;
  issuer: string;
  databaseEnv: Record<string, string>;
  hashConcurrency?: number;
  hashQueueLimit?: number;
}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    SMTP_URL: opts.smtpUrl,
    // Production wants https; nothing is served there, it only goes into links in mail.
    PUBLIC_URL: 'https://posture.bench',
    TOTP_ENCRYPTION_KEY: opts.totpKey,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    DATA_DIR: opts.dataDir,
    JWT_SIGNING_KEYS: opts.signingKeys,
    // Fixed and given to the baseline too, which checks the same claims.
    JWT_ISSUER: opts.issuer,
    JWT_AUDIENCE: 'posture',
    ACCESS_TOKEN_TTL: '1h',
    ...(opts.hashConcurrency !== undefined ? { HASH_CONCURRENCY: String(opts.hashConcurrency) } : {}),
    ...(opts.hashQueueLimit !== undefined ? { HASH_QUEUE_LIMIT: String(opts.hashQueueLimit) } : {}),
    ...opts.databaseEnv,
  };
}
