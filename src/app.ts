import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import type { Config } from './config';
import { systemClock, type Clock } from './common/clock';
import { withTimeout } from './common/timeout';
import { AfterCommitHooks } from './db/after-commit';
import { startEmbeddedDatabase } from './db/embedded';
import { initOrm } from './db/orm';
import { createPreparedSql } from './db/pg-pool';
import { buildAppSchema } from './graphql/schema';
import { createLogger, type Logger } from './logger';
import { modules } from './modules';
import type { AuthService } from './modules/auth/auth.service';
import type { PasswordService } from './modules/auth/password.service';
import type { SigningKeys } from './modules/auth/signing-keys';
import type { MailWorker } from './modules/mail/mail.worker';
import type { CleanupJob } from './modules/maintenance/cleanup.job';
import type { AppServices, ModuleContext, PostureModule, ResolverClass, Worker } from './modules/module';
import { EdgeGate } from './modules/rate-limit/edge-block';
import { TieredRateLimits } from './modules/rate-limit/tiered-rate-limits';
import { RateLimiter } from './modules/rate-limit/rate-limiter';
import { createApolloServer, createRequestListener } from './server';

export interface App {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** Base URL the server listens on, e.g. http://127.0.0.1:4000 */
  url: string;
  orm: MikroORM;
  /** Every module's services, by name. */
  services: AppServices;
  passwords: PasswordService;
  auth: AuthService;
  mailWorker: MailWorker;
  cleanupJob: CleanupJob;
  keys: SigningKeys;
  /** Readiness turns 503, in-flight requests finish, the workers stop, connections close. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** The services' clock; tests pass a ManualClock to reach expiries without sleeping. */
  clock?: Clock;
  /** The modules to run (default: the application's list in src/modules/index.ts). */
  modules?: readonly PostureModule[];
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

/** Sets up every module in list order: services, then after-commit hooks and start-up work. */
async function setUpModules(list: readonly PostureModule[], ctx: ModuleContext, hooks: AfterCommitHooks): Promise<AppServices> {
  for (const module of list) Object.assign(ctx.services, await module.services?.(ctx));
  const services = ctx.services as AppServices;
  for (const module of list) {
    for (const { entity, wake } of module.wakeOnCommit ?? []) hooks.on(entity, () => wake(services));
  }
  for (const module of list) await module.onStart?.(services, ctx);
  return services;
}

/** Starts Posture: database (embedded or URL) → ORM and migrations → modules → HTTP server → workers. */
export async function startApp(config: Config, options: StartOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const list = options.modules ?? modules;
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanUp = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };

  try {
    const embedded = config.databaseUrl ? null : await startEmbeddedDatabase(config.dataDir, logger);
    if (embedded) cleanups.push(() => embedded.stop());
    const afterCommit = new AfterCommitHooks();
    // PGlite is one PostgreSQL session: one connection.
    const orm = await initOrm(config.databaseUrl ?? embedded!.url, {
      poolMax: embedded ? 1 : config.databasePoolMax,
      migrationLockTimeout: config.migrationLockTimeout,
      logger,
      subscribers: [afterCommit],
      modules: list,
    });
    cleanups.push(() => orm.close());
    const sql = createPreparedSql(orm, { url: config.databaseUrl, poolMax: config.databasePoolMax, logger });
    cleanups.push(() => sql.close());

    const services = await setUpModules(
      list,
      { config, logger, orm, sql, clock, services: {}, onStop: (fn) => cleanups.push(fn) },
      afterCommit,
    );

    const redis = config.redisUrl ? await connectRedis(config.redisUrl, config.redisKeyPrefix, logger) : null;
    if (redis) cleanups.push(() => redis.disconnect());
    const limiter = new RateLimiter(redis, logger);

    const resolvers = new Map<unknown, object>();
    const schema = await buildAppSchema({
      get: (cls) => {
        if (!resolvers.has(cls)) resolvers.set(cls, new (cls as ResolverClass)(services));
        return resolvers.get(cls);
      },
    }, list);
    // The declared limits, each signed-in caller's tier limits over them, RATE_LIMITS over both.
    const limits = new TieredRateLimits(schema, config.rateLimits, services.tierLimits);
    const edgeGate = new EdgeGate(limiter.edgeBlocks, { parse: { maxTokens: config.graphql.maxTokens } });

    const httpServer = http.createServer({ keepAliveTimeout: 5000, requestTimeout: 30_000 });
    const apollo = createApolloServer({
      schema,
      config,
      logger,
      httpServer,
      gate: { limiter, limits, hashingHasCapacity: () => services.passwords.hasCapacity() },
    });
    await apollo.start();
    const workers: Worker[] = [];
    // In-flight requests finish first (apollo.stop drains the HTTP server), then the workers stop.
    cleanups.push(async () => {
      await apollo.stop();
      for (const worker of workers) await worker.stop();
    });

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
    const { keys, accessTokens, sessions } = services;
    httpServer.on('request', createRequestListener({ config, logger, orm, apollo, keys, accessTokens, sessions, sql, isReady, edgeGate }));
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    const { port } = httpServer.address() as AddressInfo;

    for (const worker of list.flatMap((m) => m.workers?.(services) ?? [])) {
      workers.push(worker);
      worker.start();
    }

    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      clock,
      url: `http://127.0.0.1:${port}`,
      orm,
      services,
      passwords: services.passwords,
      auth: services.auth,
      mailWorker: services.mailWorker,
      cleanupJob: services.cleanupJob,
      keys,
      stop: () =>
        (stopping ??= (async () => {
          ready = false;
          if (config.shutdownDelay > 0) await sleep(config.shutdownDelay * 1000);
          await cleanUp(); // apollo.stop() drains the HTTP server first, then the workers, Redis, ORM, PGlite
        })()),
    };
  } catch (err) {
    await cleanUp().catch(() => undefined);
    throw err;
  }
}
