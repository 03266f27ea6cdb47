import { setTimeout as sleep } from 'node:timers/promises';
import { Migration } from '@mikro-orm/migrations';
import { Client } from 'pg';
import { MIGRATION_LOCK_KEY } from '../../src/db/migration-lock';
import { bundledTemplates } from '../../src/modules/assessments/content';
import { migrationsOf } from '../../src/db/orm';
import { modules } from '../../src/modules';
import { defineModule } from '../../src/modules/module';
import { TestInbox } from '../support/smtp';
import { createTestDatabase, startTestApp, type TestApp, type TestAppOptions, type TestDatabase } from '../support/test-app';

const MIGRATIONS = migrationsOf(modules).map((m) => m.name);

/** The migrations recorded as applied, in order, repeats included. */
async function appliedMigrations(t: TestApp): Promise<string[]> {
  const rows = await t.sql<{ name: string }>('select name from mikro_orm_migrations order by name');
  return rows.map((r) => r.name);
}

async function expectReady(t: TestApp): Promise<void> {
  expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
}

/** Another instance's session holding the migration lock (advisory locks are per database). */
async function holdLock(db: TestDatabase) {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  const [row] = (await client.query<{ locked: boolean; pid: number }>(
    'select pg_try_advisory_lock($1::bigint) as locked, pg_backend_pid() as pid',
    [MIGRATION_LOCK_KEY],
  )).rows;
  expect(row!.locked).toBe(true);
  return { pid: row!.pid, release: () => client.end() };
}

/** The migrations table, or null before the first migration. */
async function migrationsTableOf(db: TestDatabase): Promise<unknown> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(`select to_regclass('mikro_orm_migrations')::text as name`)).rows[0].name;
  } finally {
    await client.end();
  }
}

/** The error an instance fails to start with, or 'started' (stopped again at once). */
const startOutcome = (options: TestAppOptions): Promise<Error | 'started'> =>
  startTestApp(options).then(
    (t) => t.stop().then(() => 'started' as const),
    (err: Error) => err,
  );

/** A promise's state, without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

class MigrationBroken extends Migration {
  override async up(): Promise<void> {
    this.addSql('insert into no_such_table_posture_test (id) values (1);');
  }
}
// Named to sort after every real migration, so those run (and roll back) before it fails.
const brokenModule = defineModule({ name: 'broken', migrations: [{ name: 'Migration99991231000000', class: MigrationBroken }] });

// Several instances need a database server: the embedded PGlite is one session.
const onServer = process.env.POSTURE_TEST_EMBEDDED_URL ? describe.skip : describe;

onServer('migrations on a PostgreSQL server, under the advisory lock', () => {
  let db: TestDatabase;
  let inbox: TestInbox;
  beforeEach(async () => {
    db = await createTestDatabase();
    inbox = await new TestInbox().start();
  });
  afterEach(async () => {
    await inbox?.stop();
    await db?.drop();
  });

  it('let three instances started at once on an empty database all come up, each migration applied and each bundled template loaded once', async () => {
    const started = await Promise.allSettled([1, 2, 3].map(() => startTestApp({ db, inbox })));
    const apps = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual(['started', 'started', 'started']);
      for (const t of apps) await expectReady(t);
      expect(await appliedMigrations(apps[0]!)).toEqual(MIGRATIONS);
      // Each instance seeds the bundled templates at start: one version each, and one tree each.
      const bundled = bundledTemplates();
      const loaded = await apps[0]!.sql<{ slug: string; version: number; questions: number }>(
        `select t.slug, t.version, count(q.id)::int as questions from assessment_templates t
           join template_categories c on c.template_id = t.id join template_questions q on q.category_id = c.id
          group by t.slug, t.version order by t.slug`,
      );
      expect(loaded).toEqual(
        bundled
          .map((f) => ({ slug: f.slug, version: f.version, questions: f.categories.reduce((n, c) => n + c.questions.length, 0) }))
          .sort((a, b) => a.slug.localeCompare(b.slug)),
      );
    } finally {
      await Promise.all(apps.map((t) => t.stop()));
    }
  });

  it.each([10, 1])('make an instance wait while another holds the lock, then start (DATABASE_POOL_MAX=%i)', async (poolMax) => {
    const lock = await holdLock(db);
    const starting = startTestApp({ db, inbox, env: { DATABASE_POOL_MAX: String(poolMax) } });
    const state = track(starting);
    let whileHeld: { settled: boolean; migrationsTable: unknown };
    try {
      await sleep(1500);
      whileHeld = { settled: state.settled, migrationsTable: await migrationsTableOf(db) };
    } finally {
      await lock.release();
    }
    const t = await starting;
    try {
      expect(whileHeld).toEqual({ settled: false, migrationsTable: null });
      await expectReady(t);
      expect(await appliedMigrations(t)).toEqual(MIGRATIONS);
    } finally {
      await t.stop();
    }
  });

  it('release the lock when a migration fails, and startup fails with its error', async () => {
    const outcome = await startOutcome({ db, inbox, modules: [...modules, brokenModule] });
    expect(String(outcome)).toMatch(/Migration99991231000000 \(up\) failed.*no_such_table_posture_test/);
    const lock = await holdLock(db); // free: taken at once
    await lock.release();

    const t = await startTestApp({ db, inbox });
    try {
      await expectReady(t);
      expect(await appliedMigrations(t)).toEqual(MIGRATIONS);
    } finally {
      await t.stop();
    }
  });

  it('give up after MIGRATION_LOCK_TIMEOUT with an error naming the setting and the holder', async () => {
    const lock = await holdLock(db);
    const since = Date.now();
    let outcome: Error | 'started';
    try {
      outcome = await startOutcome({ db, inbox, env: { MIGRATION_LOCK_TIMEOUT: '1s' } });
    } finally {
      await lock.release();
    }
    expect(String(outcome)).toMatch(/gave up after 1 s waiting for another instance's migrations/);
    expect(String(outcome)).toMatch(new RegExp(`backend ${lock.pid}\\b.*MIGRATION_LOCK_TIMEOUT`));
    expect(Date.now() - since).toBeGreaterThanOrEqual(1000);
  });
});

// The embedded run's only database is PGlite (one session); on a server, one connection does the same.
describe('migrations on a database reached through one connection', () => {
  it('take the lock on the ORM’s own connection, and leave it free for the next start', async () => {
    const t = await startTestApp({ env: { DATABASE_POOL_MAX: '1' } });
    try {
      await t.restart(); // a second start on the same database: nothing pending, lock taken again
      await expectReady(t);
      expect(await appliedMigrations(t)).toEqual(MIGRATIONS);
      // PGlite's advisory locks are re-entrant in its one session: every take was matched by a release.
      expect(await t.sql(`select objid from pg_locks where locktype = 'advisory'`)).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});
