import { ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import type { EventSubscriber } from '@mikro-orm/core';
import type { Logger } from '../logger';
import { modules } from '../modules';
import type { PostureModule } from '../modules/module';
import { migrationsList } from './migrations';

/** The foundation's migrations and every module's, in the order of their timestamped names. */
const migrationsOf = (list: readonly PostureModule[]) =>
  [...migrationsList, ...list.flatMap((m) => m.migrations ?? [])].sort((a, b) => a.name.localeCompare(b.name));

export interface OrmOptions {
  poolMax?: number;
  logger?: Logger;
  subscribers?: EventSubscriber[];
  /** The modules whose entities and migrations to use (default: the application's list). */
  modules?: readonly PostureModule[];
}

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
    pool: { min: 0, max: options.poolMax ?? 10 },
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

/** Connects and brings the schema up to date with the checked-in migrations. */
export async function initOrm(clientUrl: string, options: OrmOptions = {}): Promise<MikroORM> {
  const orm = await MikroORM.init(ormOptions(clientUrl, options));
  await orm.getMigrator().up();
  return orm;
}
