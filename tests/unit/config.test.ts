import path from 'node:path';
import { loadConfig, parseDuration } from '../../src/config';
import { problemsOf, PRODUCTION } from '../support/config';

describe('loadConfig defaults', () => {
  it('gives a working development configuration from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      isProduction: false,
      port: 4000,
      host: undefined,
      databaseUrl: undefined,
      migrationLockTimeout: 600,
      dataDir: path.resolve('./.data'),
      redisUrl: undefined,
      redisKeyPrefix: 'posture:',
      smtpUrl: undefined,
      publicUrl: 'http://localhost:4000',
      jwt: { issuer: 'http://localhost:4000', audience: 'posture', accessTokenTtl: 15 * 60, signingKeys: undefined },
      sessions: { refreshTtl: 7 * 86400, absoluteTtl: 30 * 86400, graceSeconds: 30 },
      tokens: { emailVerificationTtl: 24 * 3600, passwordResetTtl: 3600, passwordResetCodeTtl: 600, maxCodeAttempts: 3 },
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
      hashing: { concurrency: undefined, queueLimit: 64 },
      admin: undefined,
      trustProxyHops: 0,
      rateLimits: [],
      graphql: { maxDepth: 8, maxAliases: 15, maxCost: 5000, maxTokens: 2000, maxBodyBytes: 100_000 },
      mail: { pollInterval: 5, maxAttempts: 10, retryDelay: 5 },
      shutdownDelay: 0,
      logLevel: 'info',
    });
  });

  it('derives the public URL and issuer from PORT, without a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://localhost:8080');
    const config = loadConfig({ PUBLIC_URL: 'https://api.example.com///' });
    expect(config.publicUrl).toBe('https://api.example.com');
    expect(config.jwt.issuer).toBe('https://api.example.com');
  });

  it('reads durations with units', () => {
    const config = loadConfig({ ACCESS_TOKEN_TTL: '5m', REFRESH_TOKEN_TTL: '7d', REFRESH_TOKEN_ABSOLUTE_TTL: '30d', MAIL_RETRY_DELAY: '1s', MAIL_POLL_INTERVAL: '90' });
    expect(config.jwt.accessTokenTtl).toBe(300);
    expect(config.sessions.refreshTtl).toBe(604_800);
    expect(config.mail).toMatchObject({ retryDelay: 1, pollInterval: 90 });
    expect(loadConfig({ MIGRATION_LOCK_TIMEOUT: '30s' }).migrationLockTimeout).toBe(30);
    expect(problemsOf({ MIGRATION_LOCK_TIMEOUT: 'soon' })).toEqual([expect.stringMatching(/^MIGRATION_LOCK_TIMEOUT: /)]);
  });

  it('reads TRUST_PROXY as a hop count or a boolean', () => {
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxyHops).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxyHops).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxyHops).toBe(0);
    expect(problemsOf({ TRUST_PROXY: 'yes' })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
  });

  it('parses RATE_LIMITS', () => {
    expect(loadConfig({ RATE_LIMITS: 'logIn.ip=2/60,logIn.account=off' }).rateLimits).toEqual([
      { operation: 'logIn', scope: 'ip', max: 2, windowSeconds: 60 },
      { operation: 'logIn', scope: 'account', max: null, windowSeconds: 60 },
    ]);
  });
});

describe('lead capture and assessment settings', () => {
  it('default to a 24-hour lead session, a 15-minute link, limits 3 and 50, pacing 60 s and 300 s', () => {
    const config = loadConfig({});
    expect(config.leads).toEqual({ sessionTtl: 86400, loginLinkTtl: 900 });
    expect(config.assessments).toEqual({ limits: { free: 3, premium: 50 }, startInterval: 60, submitInterval: 300 });
  });

  it('read overrides, 0 switching pacing off', () => {
    const config = loadConfig({
      LEAD_SESSION_TTL: '2h',
      LOGIN_LINK_TTL: '5m',
      ASSESSMENT_LIMIT_FREE: '1',
      ASSESSMENT_LIMIT_PREMIUM: '9',
      ASSESSMENT_START_INTERVAL: '0',
      ASSESSMENT_SUBMIT_INTERVAL: '10m',
    });
    expect(config.leads).toEqual({ sessionTtl: 7200, loginLinkTtl: 300 });
    expect(config.assessments).toEqual({ limits: { free: 1, premium: 9 }, startInterval: 0, submitInterval: 600 });
  });

  it('refuse lifetimes out of range and negative limits, naming each', () => {
    expect(() => loadConfig({ LEAD_SESSION_TTL: '30s', LOGIN_LINK_TTL: '2d' })).toThrow(/LEAD_SESSION_TTL[\s\S]*LOGIN_LINK_TTL/);
    expect(() => loadConfig({ ASSESSMENT_LIMIT_FREE: '-1' })).toThrow(/ASSESSMENT_LIMIT_FREE/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['900', 900],
    ['30s', 30],
    ['15m', 900],
    ['12h', 43_200],
    ['7d', 604_800],
    [' 2 m ', 120],
  ])('reads %p as %p seconds', (value, seconds) => {
    expect(parseDuration(value)).toBe(seconds);
  });

  it.each(['', '15 minutes', '1.5h', '-5s', '5w', 'm'])('refuses %p', (value) => {
    expect(() => parseDuration(value)).toThrow(/is not a duration/);
  });
});

describe('loadConfig errors', () => {
  it('lists every bad variable by name in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      ACCESS_TOKEN_TTL: 'soon',
      DATABASE_URL: 'mysql://localhost/posture',
      RATE_LIMITS: 'logIn.ip=lots',
      LOG_LEVEL: 'loud',
      GRAPHQL_MAX_DEPTH: '0',
    });
    for (const name of ['PORT', 'ACCESS_TOKEN_TTL', 'DATABASE_URL', 'RATE_LIMITS', 'LOG_LEVEL', 'GRAPHQL_MAX_DEPTH']) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${name}: `)));
    }
    expect(problems).toHaveLength(6);
    expect(problems.find((p) => p.startsWith('RATE_LIMITS'))).toMatch(/logIn\.ip=lots/);
    expect(problems.find((p) => p.startsWith('ACCESS_TOKEN_TTL'))).toMatch(/"soon" is not a duration/);
  });

  it('puts each problem on its own line of the message', () => {
    expect(() => loadConfig({ PORT: '-1', MAIL_RETRY_DELAY: 'later' })).toThrow(
      /^Invalid configuration:\n {2}- (PORT|MAIL_RETRY_DELAY): .*\n {2}- (PORT|MAIL_RETRY_DELAY): /,
    );
  });

  it('refuses a malformed RATE_LIMITS value', () => {
    expect(problemsOf({ RATE_LIMITS: 'logIn.ip=10' })).toEqual([expect.stringMatching(/^RATE_LIMITS: "logIn\.ip=10" is not/)]);
    expect(problemsOf({ RATE_LIMITS: 'logIn.everyone=1/60' })).toEqual([expect.stringMatching(/^RATE_LIMITS: .*scope/)]);
  });

  it('refuses ADMIN_EMAIL without ADMIN_PASSWORD and the reverse', () => {
    expect(problemsOf({ ADMIN_EMAIL: 'admin@example.com' })).toEqual([expect.stringMatching(/ADMIN_EMAIL and ADMIN_PASSWORD/)]);
    expect(problemsOf({ ADMIN_PASSWORD: 'a-long-passphrase' })).toEqual([expect.stringMatching(/ADMIN_EMAIL and ADMIN_PASSWORD/)]);
    expect(loadConfig({ ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'a-long-passphrase' }).admin).toEqual({
      email: 'admin@example.com',
      password: 'a-long-passphrase',
      username: 'admin',
    });
  });

  it('refuses a reset code lifetime over 10 minutes and an access token lifetime over an hour', () => {
    expect(problemsOf({ PASSWORD_RESET_CODE_TTL: '11m' })).toEqual([expect.stringMatching(/^PASSWORD_RESET_CODE_TTL/)]);
    expect(problemsOf({ ACCESS_TOKEN_TTL: '2h' })).toEqual([expect.stringMatching(/^ACCESS_TOKEN_TTL/)]);
  });
});

describe('production', () => {
  it('starts with signing keys, SMTP and an https public URL', () => {
    const config = loadConfig(PRODUCTION);
    expect(config).toMatchObject({ isProduction: true, publicUrl: 'https://posture.example', smtpUrl: PRODUCTION.SMTP_URL });
  });

  it('refuses to start without JWT_SIGNING_KEYS, SMTP_URL or PUBLIC_URL, naming each', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^JWT_SIGNING_KEYS: required in production/),
        expect.stringMatching(/^SMTP_URL: required in production/),
        expect.stringMatching(/^PUBLIC_URL: required in production/),
        expect.stringMatching(/^TOTP_ENCRYPTION_KEY: required in production/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it.each(['JWT_SIGNING_KEYS', 'SMTP_URL', 'PUBLIC_URL', 'TOTP_ENCRYPTION_KEY'])('refuses to start without %s alone', (name) => {
    const env: Record<string, string> = { ...PRODUCTION };
    delete env[name];
    expect(problemsOf(env)).toEqual([expect.stringMatching(new RegExp(`^${name}: required in production`))]);
  });

  it('refuses a plain-http PUBLIC_URL', () => {
    expect(problemsOf({ ...PRODUCTION, PUBLIC_URL: 'http://posture.example' })).toEqual([
      expect.stringMatching(/^PUBLIC_URL: must use https/),
    ]);
  });

  it('refuses argon2 parameters under the OWASP minimum', () => {
    expect(problemsOf({ ...PRODUCTION, ARGON2_MEMORY_KIB: '4096' })).toEqual([expect.stringMatching(/ARGON2_MEMORY_KIB/)]);
  });
});

describe('TOTP_ENCRYPTION_KEY', () => {
  it('takes 32 bytes in base64 as the key', () => {
    expect(loadConfig(PRODUCTION).totp.encryptionKey).toEqual(Buffer.alloc(32, 7));
    expect(loadConfig({}).totp.encryptionKey).toBeUndefined();
  });

  it.each([
    ['too short', Buffer.alloc(16, 1).toString('base64')],
    ['too long', Buffer.alloc(33, 1).toString('base64')],
    ['not base64', `${'!'.repeat(43)}=`],
    ['hex', Buffer.alloc(32, 1).toString('hex')],
  ])('refuses a key that is %s, outside production too', (_what, value) => {
    expect(problemsOf({ TOTP_ENCRYPTION_KEY: value })).toEqual([expect.stringMatching(/^TOTP_ENCRYPTION_KEY: must be 32 random bytes in base64/)]);
    expect(problemsOf({ ...PRODUCTION, TOTP_ENCRYPTION_KEY: value })).toEqual([expect.stringMatching(/^TOTP_ENCRYPTION_KEY/)]);
  });

  it('counts an empty key as none: refused in production', () => {
    expect(problemsOf({ ...PRODUCTION, TOTP_ENCRYPTION_KEY: '' })).toEqual([expect.stringMatching(/^TOTP_ENCRYPTION_KEY: required in production/)]);
  });
});

describe('CORS_ORIGINS', () => {
  it('means any origin when unset outside production, and none in production', () => {
    expect(loadConfig({}).cors).toEqual({ origins: '*' });
    expect(loadConfig({ NODE_ENV: 'test', CORS_ORIGINS: '  ' }).cors).toEqual({ origins: '*' });
    expect(loadConfig(PRODUCTION).cors).toEqual({ origins: [] });
  });

  it('reads a comma-separated list of exact origins, normalized as browsers send them', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example, http://localhost:5173,HTTPS://Admin.Example:8443/' }).cors).toEqual({
      origins: ['https://app.example', 'http://localhost:5173', 'https://admin.example:8443'],
    });
    expect(loadConfig({ ...PRODUCTION, CORS_ORIGINS: 'https://app.example' }).cors).toEqual({ origins: ['https://app.example'] });
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example:443' }).cors).toEqual({ origins: ['https://app.example'] });
  });

  it('takes * for any origin, in production too', () => {
    expect(loadConfig({ ...PRODUCTION, CORS_ORIGINS: '*' }).cors).toEqual({ origins: '*' });
  });

  it.each([
    'app.example',
    'https://app.example/path',
    'https://app.example?x=1',
    'https://*.example.com',
    '*.example.com',
    'https://app.example,*',
    'ftp://files.example',
    'null',
    'https://user@app.example',
    'https://app.example,,https://b.example',
  ])('refuses %p, naming the variable', (value) => {
    expect(problemsOf({ CORS_ORIGINS: value })).toEqual([expect.stringMatching(/^CORS_ORIGINS: /)]);
  });
});
