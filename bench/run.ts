/**
 * `npm run bench`: side-by-side ratios, each from alternated runs (A B A B …), with server
 * CPU per request. Servers run as child processes; load comes from this process. Knobs
 * (BENCH_SECONDS, BENCH_ROUNDS, ...): options.ts and bench/README.md. Figures: bench/results.json.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAllChildren, startChildServer } from './child-server';
import { withServer, type BenchContext } from './context';
import { CLK_TCK } from './cpu';
import { openBenchDatabase, type BenchDatabase } from './database';
import { benchFlood } from './flood-bench';
import { benchLogin } from './login-bench';
import { benchMe } from './me-bench';
import { machineSummary, readOptions, resolveSameConcurrency } from './options';
import { setUpPinning } from './pinning';
import { startSmtpSink, type SmtpSink } from './smtp-sink';
import { benchSubmit } from './submit-bench';
import { benchSqlPerRead, benchTemplateRead } from './template-bench';
import { graphql, postureEnv, RELAXED_LOGIN_LIMITS, type Credentials } from './posture';
import { times } from './report';
import { generateSigningKey } from '../src/modules/auth/signing-keys';

const ROOT = path.resolve(__dirname, '..', '..');
const log = (line = '') => console.log(line);

const SIGN_UP = 'mutation SignUp($input: SignUpInput!) { signUp(input: $input) { user { id } } }';

/** Signs the bench user up through the API, then verifies its email with SQL (there is no SMTP here). */
async function createUser(ctx: Pick<BenchContext, 'db' | 'startPosture'>): Promise<{ credentials: Credentials; passwordHash: string }> {
  const credentials = { usernameOrEmail: 'bench@posture.test', password: 'bench-passphrase-7f3k9q' };
  await withServer(
    () => ctx.startPosture(),
    (posture) =>
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

/** Rounds for JSON: at most 3 decimals, NaN as null. */
function forJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null) : v)),
  );
}

async function main(): Promise<void> {
  const options = readOptions(path.join(ROOT, 'bench', 'results.json'));
  const pinning = setUpPinning(options.pin);
  resolveSameConcurrency(options);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'posture-bench-'));
  const startedAt = new Date();
  let db: BenchDatabase | undefined;
  let smtp: SmtpSink | undefined;
  const cleanUp = async () => {
    killAllChildren();
    await smtp?.close();
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
    smtp = await startSmtpSink();
    const signingKeys = JSON.stringify({ keys: [await generateSigningKey()] });
    // Posture's variables; the baseline reads the ones it needs (JWT_*, DATABASE_URL or DATA_DIR, PORT).
    const env = postureEnv({
      dataDir: path.join(tmpDir, 'data'),
      signingKeys,
      totpKey: randomBytes(32).toString('base64'),
      smtpUrl: smtp.url,
      issuer: 'https://posture.bench',
      databaseEnv: db.serverEnv,
      hashConcurrency: options.hashConcurrency,
      hashQueueLimit: options.hashQueueLimit,
    });
    // Only when asked (BENCH_PROFILE_DIR): Posture profiles itself; never the baseline.
    if (options.profileDir) {
      env.NODE_OPTIONS = `--require ${path.join(ROOT, 'dist', 'bench', 'cpu-profile.js')}`;
      env.BENCH_CPU_PROFILE_DIR = path.resolve(options.profileDir);
    }
    const base = { cwd: tmpDir, readyPath: '/readyz', pinning };
    const startPosture = (extra: Record<string, string> = {}) =>
      startChildServer({ ...base, env: { ...env, ...extra }, name: 'Posture', script: path.join(ROOT, 'dist/src/main.js') });
    const { NODE_OPTIONS: _preload, BENCH_CPU_PROFILE_DIR: _profile, ...baselineEnv } = env;
    const startBaseline = () => startChildServer({ ...base, env: baselineEnv, name: 'baseline', script: path.join(ROOT, 'dist/bench/baseline-server.js') });

    log(`Posture benchmarks: ${options.rounds} alternated rounds, the order turning every round; every figure is a ratio of medians measured in this run.`);
    log(`Machine: ${machineSummary()}. Servers are child processes; load comes from the bench process.`);
    log(`CPU: ${pinning.summary}. CPU per request is from /proc/<pid>/stat (CLK_TCK=${CLK_TCK}).`);
    log(`Database: ${db.description}.`);
    if (db.kind === 'pglite') log('  With PGlite, SQL runs inside the server process, so its CPU is part of the server\'s CPU per request.');
    log();

    const user = await createUser({ db, startPosture });
    const ctx: BenchContext = {
      options,
      db,
      pinning,
      ...user,
      startPosture,
      startBaseline,
      benchScript: (name) => path.join(ROOT, 'dist', 'bench', `${name}.js`),
      log,
    };

    const me = options.only.has('me') ? await benchMe(ctx) : undefined;
    // Figure 2 relaxes the logIn rate limits (and nothing else); figure 3 runs Posture exactly at its defaults.
    const login = options.only.has('login')
      ? await withServer(() => startPosture({ RATE_LIMITS: RELAXED_LOGIN_LIMITS }), (posture) => benchLogin(ctx, posture))
      : undefined;
    const flood = options.only.has('flood') ? await withServer(() => startPosture(), (posture) => benchFlood(ctx, posture)) : undefined;
    // Figures 4–6 write their own test data (templates, accounts, assessments) to the bench database.
    const dataEnv = { DATA_DIR: env.DATA_DIR!, ...db.serverEnv };
    const templateRead = options.only.has('template') ? await benchTemplateRead(ctx, dataEnv) : undefined;
    const sqlPerRead = options.only.has('template') ? await benchSqlPerRead(ctx, dataEnv) : undefined;
    const submit = options.only.has('submit') ? await benchSubmit(ctx, dataEnv) : undefined;

    const notAtDefaults = options.hashConcurrency !== undefined || options.hashQueueLimit !== undefined;
    const sqlLine = sqlPerRead
      ? `${Object.values(sqlPerRead.perRead).join(' / ')} (${sqlPerRead.constant ? 'constant' : 'NOT constant'})`
      : undefined;
    const lines: Array<[string, number | string | undefined]> = [
      ['1. `me` requests/s, Posture / hand-written baseline', me?.throughputRatio],
      [`2. logIns/s, Posture at its defaults / raw argon2.verify at concurrency ${options.rawConcurrency} (libuv default)`, login?.throughputRatio],
      ['3. `me` p99 latency, during a closed-loop login flood / alone (headline)', flood?.p99Ratio],
      [`   logIns/s, Posture / raw argon2.verify at concurrency ${options.sameConcurrency} (informational)`, login?.sameConcurrencyRatio],
      [`   \`me\` p99 latency, during an open-loop flood of ${options.floodRate} logIns/s / alone`, flood?.openP99Ratio],
      ['4. full template reads/s (10 × 10 × 4, anonymous), Posture / hand-written baseline', templateRead?.throughputRatio],
      ['5. SQL statements per first full template read, 5 / 10 / 20 / 40 categories', sqlLine],
      [`6. submitAssessment (${submit?.answers ?? 100} answers)/s, Posture / raw pg transaction`, submit?.throughputRatio],
    ];
    const shown = lines.filter((l): l is [string, number | string] => l[1] !== undefined && !Number.isNaN(l[1]));
    log(`Summary (ratios of medians, same run, ${db.kind === 'postgresql' ? 'PostgreSQL' : 'embedded PGlite'}):`);
    const width = Math.max(...shown.map(([label]) => label.length));
    for (const [label, value] of shown) log(`  ${label.padEnd(width)}  ${typeof value === 'string' ? value : times(value)}`);
    if (me) log(`  Server CPU per \`me\` (medians): ${Math.round(me.cpuMicros.posture)} µs (Posture) vs ${Math.round(me.cpuMicros.baseline)} µs (baseline).`);
    if (templateRead) log(`  Server CPU per template read (medians): ${Math.round(templateRead.cpuMicros.posture)} µs (Posture) vs ${Math.round(templateRead.cpuMicros.baseline)} µs (baseline).`);
    if (submit) log(`  CPU per submission (medians): ${Math.round(submit.cpuMicros.posture)} µs (Posture) vs ${Math.round(submit.cpuMicros.baseline)} µs (raw loop).`);
    if (login) log(`  Server CPU per logIn (medians): ${Math.round(login.cpuMicros.posture)} µs (Posture) vs ${Math.round(login.cpuMicros.raw)} µs per raw verify.`);
    log(`  ${pinning.summary[0]!.toUpperCase()}${pinning.summary.slice(1)}.`);
    if (login) log(`  Figure 2 relaxes only the logIn rate limits (RATE_LIMITS=${RELAXED_LOGIN_LIMITS}); figures 1 and 3 run Posture's default limits.`);
    if (notAtDefaults) log("  NOTE: BENCH_HASH_CONCURRENCY / BENCH_HASH_QUEUE_LIMIT were set, so figures 2 and 3 are not at Posture's defaults.");

    const failures = {
      me: me?.failures ?? 0,
      logIn: login?.failures ?? 0,
      meUnderFlood: flood?.meFailures ?? 0,
      floodOther: flood?.floodOther ?? 0,
      templateRead: templateRead?.failures ?? 0,
      submit: submit?.failures ?? 0,
    };
    const results = {
      ratios: {
        me: me?.throughputRatio ?? null,
        logIn: login?.throughputRatio ?? null,
        meP99UnderFlood: flood?.p99Ratio ?? null,
        templateRead: templateRead?.throughputRatio ?? null,
        submit: submit?.throughputRatio ?? null,
      },
      sqlPerTemplateRead: sqlPerRead?.perRead ?? null,
      cpuMicrosPerRequest: {
        me: me?.cpuMicros.posture ?? null,
        baselineMe: me?.cpuMicros.baseline ?? null,
        logIn: login?.cpuMicros.posture ?? null,
        rawVerify: login?.cpuMicros.raw ?? null,
        meAloneProbe: flood?.cpuMicros.alone ?? null,
        underClosedFlood: flood?.cpuMicros.closed ?? null,
        underOpenFlood: flood?.cpuMicros.open ?? null,
        templateRead: templateRead?.cpuMicros.posture ?? null,
        baselineTemplateRead: templateRead?.cpuMicros.baseline ?? null,
        submit: submit?.cpuMicros.posture ?? null,
        rawSubmit: submit?.cpuMicros.baseline ?? null,
      },
      dbCpuMicrosPerRequest:
        db.kind === 'postgresql' && (me || templateRead || submit)
          ? {
              me: me?.dbCpuMicros.posture ?? null,
              baselineMe: me?.dbCpuMicros.baseline ?? null,
              templateRead: templateRead?.dbCpuMicros.posture ?? null,
              baselineTemplateRead: templateRead?.dbCpuMicros.baseline ?? null,
              submit: submit?.dbCpuMicros.posture ?? null,
              rawSubmit: submit?.dbCpuMicros.baseline ?? null,
            }
          : null,
      extraRatios: {
        meP50: me?.p50Ratio ?? null,
        meP99: me?.p99Ratio ?? null,
        logInSameConcurrency: login?.sameConcurrencyRatio ?? null,
        logInSameConcurrencyValue: options.sameConcurrency,
        logInSameConcurrencySource: options.sameConcurrencySource,
        meP50UnderFlood: flood?.p50Ratio ?? null,
        meP99UnderOpenFlood: flood?.openP99Ratio ?? null,
        meP50UnderOpenFlood: flood?.openP50Ratio ?? null,
        templateReadP50: templateRead?.p50Ratio ?? null,
        templateReadP99: templateRead?.p99Ratio ?? null,
        submitP50: submit?.p50Ratio ?? null,
        submitP99: submit?.p99Ratio ?? null,
      },
      sqlPerTemplateReadDetail: sqlPerRead
        ? { constant: sqlPerRead.constant, repeatRead: sqlPerRead.perRepeatRead, sample: sqlPerRead.sample, sizes: sqlPerRead.sizes }
        : null,
      templateReadResponseBytes: templateRead?.responseBytes ?? null,
      cores: login ? { logInPosture: login.cores.posture, rawVerify: login.cores.raw, rawSameConcurrency: login.cores.same } : null,
      headline: { meP99UnderFlood: 'closed-loop flood (extraRatios.meP99UnderOpenFlood is the open loop)' },
      failures,
      note: 'Latency figures count a failed request as infinite latency; JSON writes Infinity and NaN as null.',
      date: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
      database: { kind: db.kind, description: db.description },
      machine: {
        cores: os.availableParallelism(),
        cpu: os.cpus()[0]?.model.trim(),
        node: process.version,
        platform: `${os.type()} ${os.release()}`,
        loadAverageAtEnd: os.loadavg(),
      },
      pinning,
      options: { ...options, only: [...options.only] },
      settings: {
        me: 'Posture at its defaults',
        logIn: `Posture at its default hashing settings${notAtDefaults ? ' (overridden by BENCH_HASH_*)' : ''}, RATE_LIMITS=${RELAXED_LOGIN_LIMITS}; raw loop at concurrency ${options.rawConcurrency}`,
        meP99UnderFlood: `Posture at its defaults${notAtDefaults ? ' (hashing overridden by BENCH_HASH_*)' : ''}, default rate limits; flood from ${options.floodAddresses} other loopback addresses`,
        templateRead: `Posture at its defaults; anonymous assessmentTemplate of a published 10 × 10 × 4 template, ${options.meConnections} connections; baseline reads it from pg every request (4 statements)`,
        sqlPerTemplateRead: 'Posture at its defaults with bench/statement-counter.js preloaded; statements through pg Client.query per first read of a never-read published version, median of 3',
        submit: `Posture at its defaults but ASSESSMENT_SUBMIT_INTERVAL=0; ${options.submitConnections} accounts, one connection each; raw: begin, select for update, update, commit in ${options.submitConnections} loops`,
      },
      runs: {
        me: me?.runs ?? null,
        logIn: login?.runs ?? null,
        templateRead: templateRead?.runs ?? null,
        submit: submit?.runs ?? null,
        flood:
          flood?.rounds.map((r) => ({
            ...r,
            closed: { ...r.closed, floodTotal: { ...r.closed.floodTotal, otherSamples: undefined } },
            open: { ...r.open, floodTotal: { ...r.open.floodTotal, otherSamples: undefined } },
          })) ?? null,
      },
    };
    fs.writeFileSync(options.resultsPath, JSON.stringify(forJson(results), null, 2) + '\n');
    log(`  Figures written to ${path.relative(process.cwd(), options.resultsPath) || options.resultsPath}.`);
    // Flood requests that got an unexpected answer are reported above, but only failed `me` and logIns make the figures suspect.
    const failed = Object.entries(failures).filter(([key, n]) => key !== 'floodOther' && n > 0);
    if (failed.length) {
      console.error(`\nSome requests failed (${failed.map(([k, n]) => `${k}: ${n}`).join(', ')}); the figures above are suspect.`);
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
  }
}

process.on('exit', killAllChildren);
main().catch((err: unknown) => {
  console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
