import { ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import type { EventSubscriber } from '@mikro-orm/core';
import type { Logger } from '../logger';
import { modules } from '../modules';
import type { PostureModule } from '../modules/module';
import { migrateUnderLock } from './migration-lock';
import { migrationsList } from './migrations';

/** The foundation's migrations and every module's, in the order of their timestamped names. */
export const migrationsOf = (list: readonly PostureModule[]) =>
  [...migrationsList, ...list.flatMap((m) => m.migrations ?? [])].sort((a, b) => a.name.localeCompare(b.name));

export interface OrmOptions {
  poolMax?: number;
  logger?: Logger;
  subscribers?: EventSubscriber[];
  /** The modules whose entities and migrations to use (default: the application's list). */
  modules?: readonly PostureModule[];
  /** Seconds to wait for another instance's migrations (MIGRATION_LOCK_TIMEOUT; default 10 minutes). */
  migrationLockTimeout?: number;
}

const DEFAULT_POOL_MAX = 10;

const knexLog = (logger: Logger) => ({
  warn: (message: unknown) => logger.warn({ knex: message }, 'database driver warning'),
  error: (message: unknown) => logger.error({ knex: message }, 'database driver error'),
  deprecate: (message: unknown) => logger.debug({ knex: message }, 'database driver deprecation'),
  debug: (message: unknown) => logger.debug({ knex: message }, 'database driver'),
});

export function ormOptions(clientUrl: string, options: OrmOptions = {}): Options {
  return defineConfig({
    clientUrl,
    entities: (options.modules ?? modules).flatMap((m) => m.entities ?? []),
    subscribers: options.subscribers ?? [],
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: options.poolMax ?? DEFAULT_POOL_MAX },
    discovery: { disableDynamicFileAccess: true },
    migrations: {
      migrationsList: migrationsOf(options.modules ?? modules),
      path: 'src/db/migrations',
      pathTs: 'src/db/migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
    },
    debug: false,
    logger: options.logger ? (message) => options.logger!.debug(message) : undefined,
    // knex otherwise prints pool and connection errors straight to the console.
    driverOptions: options.logger ? { log: knexLog(options.logger) } : {},
  });
}

/**
 * Connects and brings the schema up to date with the checked-in migrations, one instance at a time
 * (see migrateUnderLock).
 */
export async function initOrm(clientUrl: string, options: OrmOptions = {}): Promise<MikroORM> {
  const orm = await MikroORM.init(ormOptions(clientUrl, options));
  try {
    await migrateUnderLock(orm, {
      url: clientUrl,
      // One connection means one session (a PGlite behind a socket), as in createPreparedSql.
      singleSession: (options.poolMax ?? DEFAULT_POOL_MAX) <= 1,
      timeout: options.migrationLockTimeout ?? 600,
      logger: options.logger,
    });
  } catch (err) {
    await orm.close(true);
    throw err;
  }
  return orm;
}
