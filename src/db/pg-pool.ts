import type { MetadataStorage } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Pool, Query, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import type { Logger } from '../logger';

/** A named statement: each connection parses and plans it once. */
export interface PreparedStatement {
  name: string;
  text: string;
}

/**
 * Statements on the hottest paths (the session check of nearly every request, logIn's lookup and
 * its session insert), run as prepared statements straight on pg: through the ORM's query layer
 * and unit of work they cost about a tenth of a `me` request, and more than the rest of a logIn
 * that is not argon2. Each runs on its own, outside any transaction: a write here must be one
 * statement.
 */
export interface PreparedSql {
  /** The ORM's discovered metadata, to map rows with. */
  readonly metadata: MetadataStorage;
  query<R extends QueryResultRow>(statement: PreparedStatement, values: unknown[]): Promise<R[]>;
  /**
   * Runs `fn` in a transaction on one connection: committed when it resolves, rolled back when it
   * throws. For the few hot writes that need more than one statement (submitting an assessment).
   */
  transaction<T>(fn: (tx: PreparedQuery) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Statements inside a PreparedSql transaction. */
export interface PreparedQuery {
  query<R extends QueryResultRow>(statement: PreparedStatement, values: unknown[]): Promise<R[]>;
}

/**
 * A named statement as pg's own Query, made from its text. Given a config object instead, pg copies
 * it descriptor by descriptor into a dictionary-mode object on every call, which cost as much as
 * the rest of the session check's client side.
 */
function namedQuery(statement: PreparedStatement, values: unknown[]): Query {
  const query = new Query(statement.text, values);
  (query as Query & { name: string }).name = statement.name;
  return query;
}

/** Runs a Query made by namedQuery on a pool or a pool's client, through pg's callback (a client returns no promise for a Query). */
function run<R extends QueryResultRow>(connection: Pool | PoolClient, query: Query): Promise<R[]> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, result: QueryResult<R>) => (err ? reject(err) : resolve(result.rows));
    (connection as unknown as { query(query: Query, callback: typeof done): void }).query(query, done);
  });
}

/**
 * Runs `fn` between begin and commit on `connection`; rolls back when it throws. Returns whether
 * the connection is still fit for reuse (a failed rollback means it is not) beside the outcome.
 */
async function inTransaction<T>(
  connection: PoolClient,
  prepared: boolean,
  fn: (tx: PreparedQuery) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown; reusable: boolean }> {
  const tx: PreparedQuery = {
    query: async <R extends QueryResultRow>(statement: PreparedStatement, values: unknown[]) =>
      prepared ? run<R>(connection, namedQuery(statement, values)) : (await connection.query<R>(statement.text, values)).rows,
  };
  try {
    await connection.query('begin');
    const value = await fn(tx);
    await connection.query('commit');
    return { ok: true, value };
  } catch (error) {
    const reusable = await connection.query('rollback').then(
      () => true,
      () => false,
    );
    return { ok: false, error, reusable };
  }
}

interface KnexClient {
  acquireConnection(): Promise<PoolClient>;
  releaseConnection(connection: PoolClient): Promise<void>;
}

/**
 * One statement on a connection borrowed from the ORM's pool and given back at once: how a
 * database that is one session (PGlite) runs statements outside the ORM without a second
 * connection, which it would refuse or leave waiting behind a transaction open on the first.
 */
export async function queryOnOrmConnection<R extends QueryResultRow>(orm: MikroORM, text: string, values: unknown[]): Promise<R[]> {
  const knex = orm.em.getConnection().getKnex().client as unknown as KnexClient;
  const connection = await knex.acquireConnection();
  try {
    return (await connection.query<R>(text, values)).rows;
  } finally {
    await knex.releaseConnection(connection);
  }
}

/**
 * On a PostgreSQL server, a plain pg pool of its own beside the ORM's. A database that is one
 * session (the embedded PGlite, or DATABASE_POOL_MAX=1 for a PGlite behind a socket) keeps its one
 * connection: the statements then run, unprepared, on a connection of the ORM's pool, because a
 * second connection would wait forever behind a transaction open on the first.
 */
export function createPreparedSql(orm: MikroORM, opts: { url?: string; poolMax: number; logger: Logger }): PreparedSql {
  const metadata = orm.getMetadata();
  if (!opts.url || opts.poolMax <= 1) {
    return {
      metadata,
      // Unnamed: the one session outlives its connections (knex drops idle ones, an app restarts
      // in the process), and a name prepared by an earlier connection would clash.
      query: <R extends QueryResultRow>(statement: PreparedStatement, values: unknown[]) => queryOnOrmConnection<R>(orm, statement.text, values),
      async transaction<T>(fn: (tx: PreparedQuery) => Promise<T>): Promise<T> {
        const knex = orm.em.getConnection().getKnex().client as unknown as KnexClient;
        const connection = await knex.acquireConnection();
        const outcome = await inTransaction(connection, false, fn);
        await knex.releaseConnection(connection);
        if (!outcome.ok) throw outcome.error;
        return outcome.value;
      },
      close: async () => undefined, // the ORM closes its pool
    };
  }
  const pool = new Pool({ connectionString: opts.url, max: opts.poolMax, idleTimeoutMillis: 30_000 });
  // An idle connection that breaks (a database restart) is dropped; the next query opens another.
  pool.on('error', (err) => opts.logger.warn({ err: err.message }, 'database connection lost (prepared statements)'));
  return {
    metadata,
    async query<R extends QueryResultRow>(statement: PreparedStatement, values: unknown[]) {
      return run<R>(pool, namedQuery(statement, values));
    },
    async transaction<T>(fn: (tx: PreparedQuery) => Promise<T>): Promise<T> {
      const connection = await pool.connect();
      const outcome = await inTransaction(connection, true, fn);
      // A connection that could not even roll back is dropped, not handed to the next caller.
      connection.release(outcome.ok || outcome.reusable ? undefined : true);
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    },
    close: () => pool.end(),
  };
}
