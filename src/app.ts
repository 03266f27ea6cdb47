import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import type { Config } from './config';
import { withTimeout } from './common/timeout';
import { startEmbeddedDatabase } from './db/embedded';
import { initOrm } from './db/orm';
import { buildAppSchema } from './graphql/schema';
import { createLogger, type Logger } from './logger';
import { ensureAdmin } from './modules/admin/admin.bootstrap';
import { AccessTokenService } from './modules/auth/access-token.service';
import { AuthResolver } from './modules/auth/auth.resolver';
import { AuthService } from './modules/auth/auth.service';
import { OneTimeTokenService } from './modules/auth/one-time-token.service';
import { PasswordService } from './modules/auth/password.service';
import { SessionService } from './modules/auth/session.service';
import { SigningKeys } from './modules/auth/signing-keys';
import { createMailTransport } from './modules/mail/mail.transport';
import { CleanupJob } from './modules/maintenance/cleanup.job';
import { MailWorker } from './modules/mail/mail.worker';
import { resolvePolicies } from './modules/rate-limit/rate-limit.policies';
import { RateLimiter } from './modules/rate-limit/rate-limiter';
import { UserResolver } from './modules/users/user.resolver';
import { createApolloServer, createRequestListener } from './server';

export interface App {
  config: Config;
  logger: Logger;
  /** Base URL the server listens on, e.g. http://127.0.0.1:4000 */
  url: string;
  orm: MikroORM;
  passwords: PasswordService;
  mailWorker: MailWorker;
  cleanupJob: CleanupJob;
  keys: SigningKeys;
  /** Readiness turns 503, in-flight requests finish, the worker stops, connections close. */
  stop(): Promise<void>;
}

async function connectRedis(url: string, keyPrefix: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
  });
  let lastLogged = 0;
  redis.on('error', (err) => {
    if (Date.now() - lastLogged > 30_000) {
      lastLogged = Date.now();
      logger.warn({ err: err.message }, 'Redis unavailable; rate limits count in memory until it returns');
    }
  });
  await redis.connect().catch(() => undefined); // keeps retrying in the background
  return redis;
}

/** Starts Posture: database (embedded or URL) → ORM and migrations → services → HTTP server → mail worker. */
export async function startApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanUp = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };

  try {
    const embedded = config.databaseUrl ? null : await startEmbeddedDatabase(config.dataDir, logger);
    if (embedded) cleanups.push(() => embedded.stop());
    // PGlite is one PostgreSQL session: one connection.
    const orm = await initOrm(config.databaseUrl ?? embedded!.url, { poolMax: embedded ? 1 : config.databasePoolMax, logger });
    cleanups.push(() => orm.close());

    const keys = await SigningKeys.load(config, logger);
    const passwords = new PasswordService(config);
    const accessTokens = new AccessTokenService(keys, config.jwt);
    const sessions = new SessionService(accessTokens, config.sessions);
    const oneTimeTokens = new OneTimeTokenService(config.tokens);
    const transport = createMailTransport(config.smtpUrl, config.mailFrom, logger);
    cleanups.push(() => transport.close());
    const mailWorker = new MailWorker(orm, transport, logger, config.mail);
    cleanups.push(() => mailWorker.stop());
    const auth = new AuthService({ config, passwords, sessions, oneTimeTokens, mailQueued: () => mailWorker.kick() });

    if (config.admin) await ensureAdmin(orm.em.fork(), config.admin, passwords, logger);

    const redis = config.redisUrl ? await connectRedis(config.redisUrl, config.redisKeyPrefix, logger) : null;
    if (redis) cleanups.push(() => redis.disconnect());
    const limiter = new RateLimiter(redis, logger);

    const resolvers = new Map<unknown, unknown>([
      [UserResolver, new UserResolver()],
      [AuthResolver, new AuthResolver(auth, sessions)],
    ]);
    const schema = await buildAppSchema({ get: (cls) => resolvers.get(cls) });
    const rootFields = new Set([
      ...Object.keys(schema.getQueryType()?.getFields() ?? {}),
      ...Object.keys(schema.getMutationType()?.getFields() ?? {}),
    ]);
    const unknown = config.rateLimits.filter((o) => !rootFields.has(o.operation)).map((o) => o.operation);
    if (unknown.length) throw new Error(`RATE_LIMITS names operations the API does not have: ${unknown.join(', ')}`);
    const policies = resolvePolicies(config.rateLimits);

    const httpServer = http.createServer({ keepAliveTimeout: 5000, requestTimeout: 30_000 });
    const apollo = createApolloServer({ schema, config, logger, httpServer, limiter, policies, passwords });
    await apollo.start();
    cleanups.push(() => apollo.stop());

    let ready = true;
    const isReady = async () => {
      if (!ready) return false;
      try {
        await withTimeout(orm.em.getConnection().execute('select 1'), 2000, 'database check timed out');
        return true;
      } catch {
        return false;
      }
    };
    httpServer.on('request', createRequestListener({ config, logger, orm, apollo, keys, accessTokens, sessions, isReady }));
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const { port } = httpServer.address() as AddressInfo;
    mailWorker.start();
    const cleanupJob = new CleanupJob(orm, logger);
    cleanupJob.start();
    cleanups.push(() => cleanupJob.stop());

    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      url: `http://127.0.0.1:${port}`,
      orm,
      passwords,
      mailWorker,
      cleanupJob,
      keys,
      stop: () =>
        (stopping ??= (async () => {
          ready = false;
          if (config.shutdownDelay > 0) await sleep(config.shutdownDelay * 1000);
          await cleanUp(); // apollo.stop() drains the HTTP server first, then the worker, Redis, ORM, PGlite
        })()),
    };
  } catch (err) {
    await cleanUp().catch(() => undefined);
    throw err;
  }
}
