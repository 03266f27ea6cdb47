import path from 'node:path';
import { z } from 'zod';
import { parseOidcProviders, parseRedirectUris, parseTotpKey, type OidcProviderConfig } from './config-sign-in';
import { parseRateLimits, type RateLimitOverride } from './modules/rate-limit/rate-limit.policies';

export type { OidcProviderConfig } from './config-sign-in';

/** Seconds, from `900`, `15m`, `7d`, `30s` or `12h`. */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+)\s*(s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new Error(`"${value}" is not a duration (use seconds, or a number followed by s, m, h or d)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseDuration(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.join(' or ')}//` },
  );

/** CORS_ORIGINS: `*`, or comma-separated exact origins (scheme://host[:port]) as browsers send them in Origin. */
export function parseCorsOrigins(value: string): '*' | string[] {
  if (value === '*') return '*';
  return value.split(',').map((entry) => {
    const origin = entry.trim();
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      // reported below
    }
    // Only scheme, host and port: a path, query, credentials or wildcard would never equal an Origin header.
    if (!url || !['http:', 'https:'].includes(url.protocol) || !/^https?:\/\/[^/?#@*]+\/?$/i.test(origin)) {
      throw new Error(`"${origin}" is not an origin such as https://app.example.com or http://localhost:5173`);
    }
    return url.origin;
  });
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(4000, 0, 65535),
  HOST: optionalString,
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_POOL_MAX: int(10, 1, 100),
  MIGRATION_LOCK_TIMEOUT: duration('10m'),
  DATA_DIR: z.string().default('./.data'),
  REDIS_URL: url(['redis:', 'rediss:']),
  REDIS_KEY_PREFIX: z.string().default('posture:'),
  SMTP_URL: url(['smtp:', 'smtps:']),
  MAIL_FROM: z.string().default('Posture <no-reply@posture.localhost>'),
  PUBLIC_URL: url(['http:', 'https:']),
  JWT_SIGNING_KEYS: optionalString,
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: z.string().default('posture'),
  ACCESS_TOKEN_TTL: duration('15m'),
  REFRESH_TOKEN_TTL: duration('7d'),
  REFRESH_TOKEN_ABSOLUTE_TTL: duration('30d'),
  REFRESH_TOKEN_GRACE: duration('30s'),
  EMAIL_VERIFICATION_TTL: duration('24h'),
  PASSWORD_RESET_TTL: duration('1h'),
  PASSWORD_RESET_CODE_TTL: duration('10m'),
  INVITATION_TTL: duration('7d'),
  EMAIL_CHANGE_TTL: duration('24h'),
  ACCOUNT_RETENTION_DAYS: int(30, 0, 3650),
  ARGON2_MEMORY_KIB: int(19456, 1024),
  ARGON2_TIME_COST: int(2, 1),
  ARGON2_PARALLELISM: int(1, 1, 16),
  HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  HASH_QUEUE_LIMIT: int(64, 0, 100000),
  ADMIN_EMAIL: optionalString,
  ADMIN_PASSWORD: optionalString,
  ADMIN_USERNAME: z.string().default('admin'),
  TRUST_PROXY: z
    .string()
    .default('0')
    .transform((v, ctx) => {
      if (v === 'false') return 0;
      if (v === 'true') return 1;
      if (/^\d+$/.test(v)) return Number(v);
      ctx.addIssue({ code: 'custom', message: 'must be the number of trusted proxy hops (0, 1, 2, …), true or false' });
      return z.NEVER;
    }),
  CORS_ORIGINS: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    try {
      return parseCorsOrigins(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  RATE_LIMITS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parseRateLimits(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  GRAPHQL_MAX_DEPTH: int(8, 1),
  GRAPHQL_MAX_ALIASES: int(15, 0),
  GRAPHQL_MAX_COST: int(5000, 1),
  GRAPHQL_MAX_TOKENS: int(2000, 10),
  MAX_BODY_BYTES: int(100_000, 1000),
  MAIL_POLL_INTERVAL: duration('5s'),
  MAIL_MAX_ATTEMPTS: int(10, 1),
  MAIL_RETRY_DELAY: duration('5s'),
  SHUTDOWN_DELAY: duration('0s'),
  LEAD_SESSION_TTL: duration('24h'),
  LOGIN_LINK_TTL: duration('15m'),
  ASSESSMENT_LIMIT_FREE: int(3, 0),
  ASSESSMENT_LIMIT_PREMIUM: int(50, 0),
  ASSESSMENT_START_INTERVAL: duration('60s'),
  ASSESSMENT_SUBMIT_INTERVAL: duration('300s'),
  OIDC_PROVIDERS: optionalString,
  OIDC_REDIRECT_URIS: optionalString,
  OIDC_ALLOW_INSECURE_ISSUERS: z.enum(['true', 'false', '']).default('false'),
  TOTP_ENCRYPTION_KEY: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host?: string;
  databaseUrl?: string;
  /** Connections to DATABASE_URL; 1 for a PGlite served over a socket, which is one session. */
  databasePoolMax: number;
  /** Seconds to wait at start while another instance runs the migrations. */
  migrationLockTimeout: number;
  dataDir: string;
  redisUrl?: string;
  redisKeyPrefix: string;
  smtpUrl?: string;
  mailFrom: string;
  publicUrl: string;
  jwt: {
    signingKeys?: string;
    issuer: string;
    audience: string;
    accessTokenTtl: number;
  };
  sessions: { refreshTtl: number; absoluteTtl: number; graceSeconds: number };
  tokens: {
    emailVerificationTtl: number;
    passwordResetTtl: number;
    passwordResetCodeTtl: number;
    maxCodeAttempts: number;
    /** An invitation link from adminCreateUser (redeemed by resetPassword). */
    invitationTtl: number;
    /** The confirmation link of an email change, mailed to the new address. */
    emailChangeTtl: number;
  };
  /** Days a soft-deleted account keeps its email and username (restorable) before it is purged. */
  accountRetentionDays: number;
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  /** `concurrency`: argon2 operations at once; unset, one per core (see PasswordService). */
  hashing: { concurrency?: number; queueLimit: number };
  admin?: { email: string; password: string; username: string };
  trustProxyHops: number;
  /** Origins whose browser scripts may read answers: `*` for any, none when empty. */
  cors: { origins: '*' | string[] };
  rateLimits: RateLimitOverride[];
  graphql: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number; maxBodyBytes: number };
  mail: { pollInterval: number; maxAttempts: number; retryDelay: number };
  /** Lead capture: how long a lead session lives (it has no refresh token), and an emailed login link. */
  leads: { sessionTtl: number; loginLinkTtl: number };
  /**
   * Assessments the seeded tiers `free` and `premium` may start over their lifetime (the database
   * holds the tiers from then on), and the
   * pacing between new starts and new completed submissions per owner, in seconds (0: none).
   */
  assessments: { limits: Record<string, number>; startInterval: number; submitInterval: number };
  /** OpenID Connect login: the providers, the redirect URIs a client may ask for, and whether http loopback issuers may be used. */
  oidc: { providers: OidcProviderConfig[]; redirectUris: string[]; allowInsecureIssuers: boolean };
  /** The key that encrypts TOTP secrets at rest; unset outside production, one is kept in DATA_DIR. */
  totp: { encryptionKey?: Buffer };
  shutdownDelay: number;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the environment once; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const problems: string[] = [];

  if (e.PASSWORD_RESET_CODE_TTL > 600) problems.push('PASSWORD_RESET_CODE_TTL: at most 10 minutes');
  if (e.REFRESH_TOKEN_TTL > e.REFRESH_TOKEN_ABSOLUTE_TTL) {
    problems.push('REFRESH_TOKEN_TTL: must not exceed REFRESH_TOKEN_ABSOLUTE_TTL');
  }
  if (e.ACCESS_TOKEN_TTL < 30 || e.ACCESS_TOKEN_TTL > 3600) problems.push('ACCESS_TOKEN_TTL: between 30 seconds and 1 hour');
  if (e.LEAD_SESSION_TTL < 60 || e.LEAD_SESSION_TTL > 7 * 86400) problems.push('LEAD_SESSION_TTL: between 1 minute and 7 days');
  if (e.LOGIN_LINK_TTL < 60 || e.LOGIN_LINK_TTL > 86400) problems.push('LOGIN_LINK_TTL: between 1 minute and 24 hours');
  if (Boolean(e.ADMIN_EMAIL) !== Boolean(e.ADMIN_PASSWORD)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither');
  }
  const allowInsecureIssuers = e.OIDC_ALLOW_INSECURE_ISSUERS === 'true';
  const parsedSetting = <T>(name: string, parse: () => T, fallback: T): T => {
    try {
      return parse();
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      return fallback;
    }
  };
  const oidcProviders = parsedSetting('OIDC_PROVIDERS', () => parseOidcProviders(e.OIDC_PROVIDERS, allowInsecureIssuers), []);
  const redirectUris = parsedSetting('OIDC_REDIRECT_URIS', () => parseRedirectUris(e.OIDC_REDIRECT_URIS), []);
  const totpKey = parsedSetting('TOTP_ENCRYPTION_KEY', () => parseTotpKey(e.TOTP_ENCRYPTION_KEY), undefined);
  if (oidcProviders.length > 0 && redirectUris.length === 0) problems.push('OIDC_REDIRECT_URIS: required when OIDC_PROVIDERS is set');
  if (isProduction) {
    if (allowInsecureIssuers) problems.push('OIDC_ALLOW_INSECURE_ISSUERS: refused in production');
    if (!e.TOTP_ENCRYPTION_KEY) problems.push('TOTP_ENCRYPTION_KEY: required in production (openssl rand -base64 32)');
    if (!e.JWT_SIGNING_KEYS) problems.push('JWT_SIGNING_KEYS: required in production (npm run keygen prints one)');
    if (!e.SMTP_URL) problems.push('SMTP_URL: required in production (emails carry secrets and must not go to the log)');
    if (!e.PUBLIC_URL) problems.push('PUBLIC_URL: required in production (links in emails point there)');
    else if (!e.PUBLIC_URL.startsWith('https://')) problems.push('PUBLIC_URL: must use https in production');
    if (e.ARGON2_MEMORY_KIB < 19456 || e.ARGON2_TIME_COST < 2) {
      problems.push('ARGON2_MEMORY_KIB/ARGON2_TIME_COST: at least 19456 KiB and 2 passes in production (OWASP minimum)');
    }
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    migrationLockTimeout: e.MIGRATION_LOCK_TIMEOUT,
    dataDir: path.resolve(e.DATA_DIR),
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    publicUrl,
    jwt: {
      signingKeys: e.JWT_SIGNING_KEYS,
      issuer: e.JWT_ISSUER ?? publicUrl,
      audience: e.JWT_AUDIENCE,
      accessTokenTtl: e.ACCESS_TOKEN_TTL,
    },
    sessions: {
      refreshTtl: e.REFRESH_TOKEN_TTL,
      absoluteTtl: e.REFRESH_TOKEN_ABSOLUTE_TTL,
      graceSeconds: e.REFRESH_TOKEN_GRACE,
    },
    tokens: {
      emailVerificationTtl: e.EMAIL_VERIFICATION_TTL,
      passwordResetTtl: e.PASSWORD_RESET_TTL,
      passwordResetCodeTtl: e.PASSWORD_RESET_CODE_TTL,
      maxCodeAttempts: 3,
      invitationTtl: e.INVITATION_TTL,
      emailChangeTtl: e.EMAIL_CHANGE_TTL,
    },
    accountRetentionDays: e.ACCOUNT_RETENTION_DAYS,
    argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST, parallelism: e.ARGON2_PARALLELISM },
    hashing: { concurrency: e.HASH_CONCURRENCY, queueLimit: e.HASH_QUEUE_LIMIT },
    admin:
      e.ADMIN_EMAIL && e.ADMIN_PASSWORD
        ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD, username: e.ADMIN_USERNAME }
        : undefined,
    trustProxyHops: e.TRUST_PROXY,
    // Unset: any origin while developing; in production, none until they are listed.
    cors: { origins: e.CORS_ORIGINS ?? (isProduction ? [] : '*') },
    rateLimits: e.RATE_LIMITS,
    graphql: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxCost: e.GRAPHQL_MAX_COST,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxBodyBytes: e.MAX_BODY_BYTES,
    },
    mail: { pollInterval: e.MAIL_POLL_INTERVAL, maxAttempts: e.MAIL_MAX_ATTEMPTS, retryDelay: Math.max(1, e.MAIL_RETRY_DELAY) },
    leads: { sessionTtl: e.LEAD_SESSION_TTL, loginLinkTtl: e.LOGIN_LINK_TTL },
    assessments: {
      limits: { free: e.ASSESSMENT_LIMIT_FREE, premium: e.ASSESSMENT_LIMIT_PREMIUM },
      startInterval: e.ASSESSMENT_START_INTERVAL,
      submitInterval: e.ASSESSMENT_SUBMIT_INTERVAL,
    },
    oidc: { providers: oidcProviders, redirectUris, allowInsecureIssuers },
    totp: { encryptionKey: totpKey },
    shutdownDelay: e.SHUTDOWN_DELAY,
    logLevel: e.LOG_LEVEL,
  };
}
