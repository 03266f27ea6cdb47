import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import type { Logger } from '../logger';
import { queryOnOrmConnection } from './pg-pool';

/** The advisory lock key of Posture's migrations: "posture" in ASCII. Advisory locks are per database. */
export const MIGRATION_LOCK_KEY = '31654220079707749';

const POLL_MS = 250;

export interface MigrationLockOptions {
  /** The database URL, for the lock's own connection. */
  url: string;
  /**
   * The database is one session (PGlite behind a socket): a second connection would be refused,
   * so the lock is taken on the ORM's own connection. There is no other session to keep out, but
   * the path (and the SQL) is the same.
   */
  singleSession: boolean;
  /** Seconds to wait for another instance's migrations before giving up. */
  timeout: number;
  logger?: Logger;
}

/** Where the lock is held: a PostgreSQL session that outlives the migrations. */
interface LockSession {
  query<R>(sql: string, params: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

async function dedicatedSession(url: string, logger?: Logger): Promise<LockSession> {
  const client = new Client({ connectionString: url, application_name: 'posture migrations' });
  // Losing this connection ends the session and so releases the lock: say so rather than crash.
  client.on('error', (err) => logger?.warn({ err: err.message }, 'migration lock connection lost'));
  await client.connect();
  return {
    query: async <R>(sql: string, params: unknown[]) => (await client.query(sql, params)).rows as R[],
    close: () => client.end(),
  };
}

/** Each statement borrows the pool's connection and gives it back, so the migrations can have it. */
function ormSession(orm: MikroORM): LockSession {
  return {
    query: async <R>(sql: string, params: unknown[]) => (await queryOnOrmConnection(orm, sql, params)) as R[],
    close: async () => undefined,
  };
}

interface Holder {
  pid: number;
  application_name: string;
}

const holderOf = (session: LockSession) =>
  session
    .query<Holder>(
      `select l.pid, a.application_name from pg_locks l left join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
          and l.database = (select oid from pg_database where datname = current_database())
          and (l.classid::bigint << 32 | l.objid::bigint) = $1::bigint`,
      [MIGRATION_LOCK_KEY],
    )
    .then((rows) => rows[0])
    .catch(() => undefined); // only for the log

async function acquire(session: LockSession, options: MigrationLockOptions): Promise<void> {
  const deadline = Date.now() + options.timeout * 1000;
  let logged = false;
  for (;;) {
    const [row] = await session.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [MIGRATION_LOCK_KEY]);
    if (row?.locked) return;
    const holder = await holderOf(session);
    if (Date.now() >= deadline) {
      const who = holder ? ` (held by PostgreSQL backend ${holder.pid}, "${holder.application_name}")` : '';
      throw new Error(
        `gave up after ${options.timeout} s waiting for another instance's migrations${who}: ` +
          `raise MIGRATION_LOCK_TIMEOUT, or end that session if it is stuck (the lock is advisory lock ${MIGRATION_LOCK_KEY})`,
      );
    }
    if (!logged) {
      logged = true;
      options.logger?.info({ holder }, "waiting for another instance's migrations");
    }
    await sleep(POLL_MS);
  }
}

/**
 * Brings the schema up to date under a PostgreSQL advisory lock, so that of several instances
 * starting at once one migrates and the others wait, then find nothing pending. The lock is
 * released when the migrations end, failed or not (and by PostgreSQL if the process dies, since
 * the session ends with it).
 */
export async function migrateUnderLock(orm: MikroORM, options: MigrationLockOptions): Promise<void> {
  const session = options.singleSession ? ormSession(orm) : await dedicatedSession(options.url, options.logger);
  try {
    await acquire(session, options);
    try {
      const applied = await orm.getMigrator().up();
      if (applied.length) options.logger?.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    } finally {
      await session
        .query('select pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY])
        .catch((err: Error) => options.logger?.warn({ err: err.message }, 'could not release the migration lock'));
    }
  } finally {
    await session.close().catch(() => undefined);
  }
}
