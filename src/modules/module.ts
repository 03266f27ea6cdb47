import type { EntityClass, MigrationObject } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../common/clock';
import type { Config } from '../config';
import type { PreparedSql } from '../db/pg-pool';
import type { Logger } from '../logger';

/**
 * The services every module offers the others, by name. Each module adds its own with declaration
 * merging (`declare module '../module' { interface AppServices { … } }`), so the registry is typed
 * without a central list.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AppServices {}

/** What the core hands a module while the application starts. */
export interface ModuleContext {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  /** Prepared statements outside the ORM, for the few hottest paths (see PreparedSql). */
  sql: PreparedSql;
  clock: Clock;
  /** The services of the modules set up so far (the list's order is the dependency order). */
  services: Partial<AppServices>;
  /** Runs `fn` when the application stops, in reverse order of registration. */
  onStop(fn: () => Promise<void> | void): void;
}

/** A background job the application starts once it listens and stops before the database closes. */
export interface Worker {
  start(): void;
  stop(): Promise<void>;
}

/** A resolver class: built once with the service registry. */
export type ResolverClass = new (services: AppServices) => object;

/** Everything one domain module brings; the application, the schema, the ORM and the tests read these. */
export interface PostureModule {
  name: string;
  entities?: readonly EntityClass<unknown>[];
  /** The migrations that create and change this module's tables (run with every module's, by name). */
  migrations?: readonly MigrationObject[];
  resolvers?: readonly ResolverClass[];
  /** Creates the module's services; they join the registry under the names returned. */
  services?(ctx: ModuleContext): Partial<AppServices> | Promise<Partial<AppServices>>;
  /** Runs once the services of every module exist, before the server listens (e.g. bootstrap data). */
  onStart?(services: AppServices, ctx: ModuleContext): Promise<void>;
  workers?(services: AppServices): Worker[];
  /** Entities whose commit should wake one of this module's workers at once rather than at its next poll. */
  wakeOnCommit?: ReadonlyArray<{ entity: EntityClass<unknown>; wake(services: AppServices): void }>;
}

/** Identity function that checks a module's shape. */
export const defineModule = (module: PostureModule): PostureModule => module;
