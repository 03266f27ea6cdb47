import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startApp, type App } from '../../src/app';
import { ManualClock } from '../../src/common/clock';
import { loadConfig } from '../../src/config';
import type { PostureModule } from '../../src/modules/module';
import { AUTH_FIELDS, postGraphQL, type GraphQLResponse, type RequestOptions } from './graphql';
import { TestInbox } from './smtp';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database for one test file: a new one on the DATABASE_URL server (dropped afterwards), or the
 * run's shared PGlite, emptied. The app migrates it when it starts.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const embedded = process.env.POSTURE_TEST_EMBEDDED_URL;
  if (embedded) {
    const client = new Client({ connectionString: embedded });
    await client.connect();
    // Every table the modules' migrations made, whatever modules there are.
    const { rows } = await client.query<{ name: string }>(
      `select quote_ident(tablename) as name from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations'`,
    );
    if (rows.length) await client.query(`truncate ${rows.map((r) => r.name).join(', ')} cascade`);
    await client.end();
    return { url: embedded, drop: async () => undefined };
  }
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('neither DATABASE_URL nor the embedded test database is set');
  const name = `posture_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

export const RELAXED_IP_LIMITS = [
  'logIn',
  'signUp',
  'requestPasswordReset',
  'resendVerificationEmail',
  'resetPassword',
  'captureLead',
  'requestLoginLink',
  'logInWithLink',
]
  .map((op) => `${op}.ip=100000/60`)
  .join(',');

/** RATE_LIMITS for a file that raises more than RELAXED_IP_LIMITS: those, then `extra`, each entry once. */
export const relaxedLimits = (...extra: string[]) => [...new Set([...RELAXED_IP_LIMITS.split(','), ...extra])].join(',');

/** Cheap argon2, for files that sign many accounts up: the hashing is not what they test. */
export const CHEAP_HASHING = Object.freeze({ ARGON2_MEMORY_KIB: '1024', ARGON2_TIME_COST: '1' });

export interface TestApp {
  app: App;
  url: string;
  inbox: TestInbox;
  db: TestDatabase;
  env: Record<string, string>;
  /** The app's clock: advance it to reach an expiry instead of sleeping. Kept across restarts. */
  clock: ManualClock;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<GraphQLResponse<T>>;
  /** Raw SQL on the app's own connection (the database under test). */
  sql<T = Record<string, any>>(query: string, params?: unknown[]): Promise<T[]>;
  /** Starts another server process-alike on the same database, inbox and keys, with env overrides. */
  restart(overrides?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a database (e.g. to run a second instance on it). */
  db?: TestDatabase;
  inbox?: TestInbox;
  /** The modules to run (default: the application's). */
  modules?: readonly PostureModule[];
}

/** Starts the real server (HTTP, ORM, mail worker) on a free port with its own database and SMTP inbox. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const inbox = options.inbox ?? (await new TestInbox().start());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'posture-test-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    SMTP_URL: inbox.url,
    PUBLIC_URL: 'http://posture.test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MAIL_POLL_INTERVAL: '1s',
    REDIS_KEY_PREFIX: `posture-test:${randomBytes(6).toString('hex')}:`,
    // Every test request comes from 127.0.0.1: per-IP limits are raised here (the rate-limit tests
    // set their own); per-account limits stay at their defaults.
    RATE_LIMITS: RELAXED_IP_LIMITS,
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    // The run's shared PGlite is one session behind its socket: one connection.
    ...(process.env.POSTURE_TEST_EMBEDDED_URL ? { DATABASE_POOL_MAX: '1' } : {}),
    ...options.env,
  };

  const clock = new ManualClock();
  let app: App;
  try {
    app = await startApp(loadConfig(env), { clock, modules: options.modules });
  } catch (err) {
    if (!options.inbox) await inbox.stop();
    if (!options.db) await db.drop();
    throw err;
  }
  const handle: TestApp = {
    app,
    url: app.url,
    inbox,
    db,
    env,
    clock,
    gql: (query, variables, opts) => postGraphQL(handle.url, query, variables, opts),
    sql: (query, params = []) => handle.app.orm.em.fork().getConnection().execute(query, params),
    async restart(overrides = {}) {
      await app.stop();
      Object.assign(env, overrides);
      app = await startApp(loadConfig(env), { clock, modules: options.modules });
      handle.app = app;
      handle.url = app.url;
    },
    async stop() {
      await app.stop();
      if (!options.inbox) await inbox.stop();
      if (!options.db) await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/**
 * One database and SMTP inbox for a whole test file, for files that start several apps in turn
 * (one at a time: the embedded PGlite serves a single connection). Pass it to startTestApp.
 */
export function sharedPerFile(): { db: TestDatabase; inbox: TestInbox } {
  const shared = {} as { db: TestDatabase; inbox: TestInbox };
  beforeAll(async () => {
    shared.db = await createTestDatabase();
    shared.inbox = await new TestInbox().start();
  });
  afterAll(async () => {
    await shared.inbox?.stop();
    await shared.db?.drop();
  });
  return shared;
}

/**
 * Runs `fn` with the app restarted under env overrides, then restarts it as it was. (In embedded
 * runs the database is one PGlite session, so a second app cannot run beside the first.)
 */
export async function withEnv<T>(t: TestApp, overrides: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(overrides).map((k) => [k, t.env[k]]));
  await t.restart(overrides);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(previous)) if (v === undefined) delete t.env[k];
    await t.restart(Object.fromEntries(Object.entries(previous).filter(([, v]) => v !== undefined)) as Record<string, string>);
  }
}

let counter = 0;
/** Unique, valid account fields for one test. */
export function newAccount(prefix = 'u') {
  const id = `${prefix}${Date.now().toString(36).slice(-5)}${(counter++).toString(36)}${randomBytes(2).toString('hex')}`.slice(0, 20);
  return { email: `${id}@example.com`, username: id, name: `Test ${id}`, password: `pw-${randomBytes(9).toString('base64url')}` };
}

export const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id email username name emailVerified isSuperuser createdAt } } }`;
export const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { ${AUTH_FIELDS} } }`;
export const REFRESH = `mutation ($t: String!) { refreshSession(refreshToken: $t) { ${AUTH_FIELDS} } }`;
export const ME = `{ me { id email username name emailVerified isSuperuser createdAt } }`;

/** Signs up through the API, verifies through the emailed link, and logs in. */
export async function createVerifiedUser(t: TestApp, prefix = 'u') {
  const account = newAccount(prefix);
  const signUp = await t.gql(SIGN_UP, { input: account });
  if (signUp.errors) throw new Error(JSON.stringify(signUp.errors));
  const mail = await t.inbox.waitFor(account.email, /confirm/i);
  const token = /verify-email\?token=([A-Za-z0-9_-]+)/.exec(mail.text)![1];
  const verified = await t.gql(`mutation ($t: String!) { verifyEmail(token: $t) }`, { t: token });
  if (verified.errors) throw new Error(JSON.stringify(verified.errors));
  const login = await t.gql(LOG_IN, { input: { usernameOrEmail: account.username, password: account.password } });
  if (login.errors) throw new Error(JSON.stringify(login.errors));
  return { ...account, id: signUp.data!.signUp.user.id as string, tokens: login.data!.logIn as Record<string, string> };
}

/** A verified, logged-in superuser (promoted in the database, which the next request reads). */
export async function createSuperuser(t: TestApp, prefix = 'adm') {
  const user = await createVerifiedUser(t, prefix);
  await t.sql(`update users set is_superuser = true where id = ?`, [user.id]);
  return user;
}

/** The Authorization header of a user made by createVerifiedUser or createSuperuser. */
export const bearer = (user: { tokens: Record<string, string> }) => ({ token: user.tokens.accessToken });
