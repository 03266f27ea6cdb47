import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedDatabase } from '../src/db/embedded';
import { createLogger } from '../src/logger';
import { processCpuMicros } from './cpu';

export interface BenchDatabase {
  kind: 'postgresql' | 'pglite';
  /** What the servers run against, for the report. */
  description: string;
  /**
   * PostgreSQL only: CPU µs used so far by each backend serving the bench database (read from
   * /proc, so only for a server on this machine), keyed by pid. Undefined where it cannot tell;
   * with PGlite the SQL runs inside the server process and is in its own CPU figure.
   */
  backendCpu?(): Promise<Map<number, number> | undefined>;
  /** Environment that points Posture or the baseline at it (with DATA_DIR, which the caller sets). */
  serverEnv: Record<string, string>;
  /** Runs SQL from the bench. With the embedded database, only while no server is running. */
  withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

async function withClientAt<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const POOL_MAX = 10;

/** A fresh database on the server of `adminUrl`, dropped at the end. */
async function freshPostgres(adminUrl: string): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  await withClientAt(adminUrl, (c) => c.query(`create database ${name}`)).catch((err: Error) => {
    throw new Error(`could not create a bench database through DATABASE_URL: ${err.message}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let monitor: pg.Client | undefined;
  let local = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname) || url.hostname.startsWith('/');
  return {
    kind: 'postgresql',
    async backendCpu() {
      if (!local) return undefined;
      if (!monitor) {
        monitor = new pg.Client({ connectionString: url.toString() });
        await monitor.connect();
      }
      const { rows } = await monitor.query<{ pid: number }>(
        `select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
      );
      const cpu = new Map<number, number>();
      for (const { pid } of rows) {
        const micros = processCpuMicros(pid);
        if (Number.isNaN(micros)) {
          local = false; // not on this machine, or not readable: stop trying
          return undefined;
        }
        cpu.set(pid, micros);
      }
      return cpu;
    },
    description: `PostgreSQL at ${url.host}, fresh database ${name}; each server has its own pool of ${POOL_MAX} connections`,
    // Explicit, so both pools stay equal if Posture's default changes (older Posture ignores it and uses 10).
    serverEnv: { DATABASE_URL: url.toString(), DATABASE_POOL_MAX: String(POOL_MAX) },
    withClient: (fn) => withClientAt(url.toString(), fn),
    async drop() {
      await monitor?.end().catch(() => undefined);
      await withClientAt(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * Posture's own embedded mode: without DATABASE_URL it opens PGlite on DATA_DIR in its process and
 * connects over loopback with one connection. The baseline does exactly the same on the same
 * directory. PGlite is a single session and one process per directory, so servers take turns.
 */
function embedded(dataDir: string): BenchDatabase {
  return {
    kind: 'pglite',
    description: `embedded PGlite on ${dataDir}, opened in-process by whichever server runs (one at a time, one connection each)`,
    serverEnv: {},
    async withClient(fn) {
      const db = await startEmbeddedDatabase(dataDir, createLogger('warn'));
      try {
        return await withClientAt(db.url, fn);
      } finally {
        await db.stop();
      }
    },
    async drop() {}, // the temporary directory goes with the bench's
  };
}

export function openBenchDatabase(tmpDir: string): Promise<BenchDatabase> {
  const adminUrl = process.env.DATABASE_URL?.trim();
  return adminUrl ? freshPostgres(adminUrl) : Promise.resolve(embedded(path.join(tmpDir, 'data')));
}
