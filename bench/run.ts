/**
 * `npm run bench`: three side-by-side ratios, each from alternating A/B runs. Servers run as child
 * processes; load comes from this process. Knobs (BENCH_SECONDS, BENCH_ROUNDS, ...): options.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAllChildren, startChildServer } from './child-server';
import { withServer, type BenchContext } from './context';
import { openBenchDatabase, type BenchDatabase } from './database';
import { benchFlood } from './flood-bench';
import { benchLogin } from './login-bench';
import { benchMe } from './me-bench';
import { machineSummary, readOptions } from './options';
import { graphql, postureEnv, type Credentials } from './posture';
import { times } from './report';
import { generateSigningKey } from '../src/modules/auth/signing-keys';

const ROOT = path.resolve(__dirname, '..', '..');
const log = (line = '') => console.log(line);

const SIGN_UP = 'mutation SignUp($input: SignUpInput!) { signUp(input: $input) { user { id } } }';

/** Signs the bench user up through the API, then verifies its email with SQL (there is no SMTP here). */
async function createUser(ctx: Pick<BenchContext, 'db' | 'startPosture'>): Promise<{ credentials: Credentials; passwordHash: string }> {
  const credentials = { usernameOrEmail: 'bench@posture.test', password: 'bench-passphrase-7f3k9q' };
  await withServer(ctx.startPosture, (posture) =>
    graphql(posture.url, SIGN_UP, {
      input: { email: credentials.usernameOrEmail, username: 'benchuser', name: 'Bench User', password: credentials.password },
    }),
  );
  // After the server stops: an embedded database admits one process at a time.
  const passwordHash = await ctx.db.withClient(async (client) => {
    const { rows } = await client.query<{ password_hash: string }>(
      'update users set email_verified_at = now() where email = $1 returning password_hash',
      [credentials.usernameOrEmail],
    );
    if (!rows[0]) throw new Error('the signed-up bench user is not in the database');
    return rows[0].password_hash;
  });
  return { credentials, passwordHash };
}

async function main(): Promise<void> {
  const options = readOptions();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'posture-bench-'));
  let db: BenchDatabase | undefined;
  const cleanUp = async () => {
    killAllChildren();
    await db?.drop().catch((err: unknown) => console.error('could not drop the bench database:', (err as Error).message));
    fs.rmSync(tmpDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping`);
      void cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    db = await openBenchDatabase(tmpDir);
    const signingKeys = JSON.stringify({ keys: [await generateSigningKey()] });
    // Posture's variables; the baseline reads the ones it needs (JWT_*, DATABASE_URL or DATA_DIR, PORT).
    const env = postureEnv({
      dataDir: path.join(tmpDir, 'data'),
      signingKeys,
      issuer: 'http://posture.bench',
      databaseEnv: db.serverEnv,
      hashConcurrency: options.hashConcurrency,
      hashQueueLimit: options.hashQueueLimit,
    });
    const base = { cwd: tmpDir, env, readyPath: '/readyz' };
    const startPosture = () => startChildServer({ ...base, name: 'Posture', script: path.join(ROOT, 'dist/src/main.js') });
    const startBaseline = () => startChildServer({ ...base, name: 'baseline', script: path.join(ROOT, 'dist/bench/baseline-server.js') });

    log(`Posture benchmarks: ${options.rounds} alternating A/B rounds (A B A B ...); every figure is a ratio of medians measured in this run.`);
    log(`Machine: ${machineSummary()}. Servers are child processes; load comes from the bench process (autocannon).`);
    log(`Database: ${db.description}.`);
    log();

    const user = await createUser({ db, startPosture });
    const ctx: BenchContext = { options, db, ...user, startPosture, startBaseline, log };

    const me = await benchMe(ctx);
    const { login, flood } = await withServer(startPosture, async (posture) => ({
      login: await benchLogin(ctx, posture),
      flood: await benchFlood(ctx, posture),
    }));

    const summary: Array<[string, number]> = [
      ['1. `me` requests/s, Posture / hand-written baseline', me.throughputRatio],
      [`2. logIns/s, Posture / raw argon2.verify (concurrency ${options.hashConcurrency})`, login.throughputRatio],
      ['3. `me` p99 latency, during login flood / alone', flood.p99Ratio],
    ];
    log('Summary (ratios of medians, same run):');
    const width = Math.max(...summary.map(([label]) => label.length));
    for (const [label, ratio] of summary) log(`  ${label.padEnd(width)}  ${times(ratio)}`);
  } finally {
    await cleanUp();
  }
}

process.on('exit', killAllChildren);
main().catch((err: unknown) => {
  console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
