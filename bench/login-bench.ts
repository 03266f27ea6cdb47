import { spawn } from 'node:child_process';
import type { RawRequest, RawRun } from './argon2-loop';
import { messagesOf, trackChild, type ChildServer } from './child-server';
import type { BenchContext } from './context';
import { machineWindow, startWindow, type MachineUse, type WindowCpu } from './cpu';
import { graphqlRequest, saturate, type LoadResult } from './load';
import { serverCommand } from './pinning';
import { isLoggedIn, LOG_IN_MUTATION, RELAXED_LOGIN_LIMITS } from './posture';
import { fixed, medianOf, runRows, table, times } from './report';

export interface LoginRun {
  posture: { load: LoadResult; cpu: WindowCpu };
  raw: RawRun;
  /** The machine while the raw loop at `rawConcurrency` ran. */
  rawMachine?: MachineUse;
  same?: RawRun;
}

export interface LoginFigure {
  /** Posture's logIns/s at its defaults / raw verifies/s at `rawConcurrency`. */
  throughputRatio: number;
  /** Posture / raw at `sameConcurrency` (informational); NaN when skipped. */
  sameConcurrencyRatio: number;
  /** Medians: server CPU µs per logIn, raw loop CPU µs per verify (both sides). */
  cpuMicros: { posture: number; raw: number; same: number };
  /** Medians of cores kept busy. */
  cores: { posture: number; raw: number; same: number };
  /** logIns that did not log in (refused, wrong answer, socket error): any makes the figure suspect. */
  failures: number;
  runs: LoginRun[];
}

interface RawLoop {
  run(request: RawRequest): Promise<RawRun>;
  stop(): void;
}

/** The raw argon2 loop, one child process for the whole benchmark (so it is as warm as Posture). */
async function startRawLoop(ctx: BenchContext): Promise<RawLoop> {
  const { command, args } = serverCommand(ctx.pinning, [ctx.benchScript('argon2-loop')]);
  // Nothing but PATH and HOME: in particular no UV_THREADPOOL_SIZE, so libuv's default pool of 4.
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  trackChild(child);
  const next = messagesOf(child, 'the raw argon2 loop');
  await next(); // { ready: true }
  return {
    async run(request) {
      const answer = next();
      child.send(request);
      const result = (await answer) as RawRun;
      if (result.error) throw new Error(`raw argon2 loop: ${result.error}`);
      return result;
    },
    stop: () => child.kill('SIGTERM'),
  };
}

/**
 * 2. logIn throughput: Posture at its default hashing settings (A) against raw argon2.verify of the
 * same stored hash at libuv's default concurrency (B), alternated; C (informational) is the raw loop
 * at Posture's own concurrency. Only the logIn rate limits are relaxed, so that the figure measures
 * hashing rather than a 10-a-minute limit.
 */
export async function benchLogin(ctx: BenchContext, posture: ChildServer): Promise<LoginFigure> {
  const { options: o, log } = ctx;
  const params = ctx.passwordHash.split('$').slice(1, 4).join(' ');
  const hashing =
    o.hashConcurrency === undefined && o.hashQueueLimit === undefined
      ? 'its default hashing settings (HASH_CONCURRENCY and HASH_QUEUE_LIMIT unset: the server decides)'
      : `HASH_CONCURRENCY=${o.hashConcurrency ?? '(default)'} HASH_QUEUE_LIMIT=${o.hashQueueLimit ?? '(default)'} (set by BENCH_HASH_*: NOT Posture's defaults)`;
  const doSame = o.sameConcurrency > 0 && o.sameConcurrency !== o.rawConcurrency;
  log(`2. logIn throughput: ${o.seconds} s per run, A B${doSame ? ' C' : ''} alternated, the order rotating every round`);
  log(`   A = Posture at ${hashing},`);
  log(`       logIn over HTTP from ${o.loginConnections} connections (closed loop). Only the rate limits are relaxed (RATE_LIMITS=${RELAXED_LOGIN_LIMITS}),`);
  log('       because logIn.ip allows 10 a minute at its default and would refuse nearly all of them; hashing settings are untouched.');
  log(`   B = raw argon2.verify of the same stored hash (${params}) in ${o.rawConcurrency} concurrent loops, in a child process with`);
  log("       libuv's default thread pool (4 threads): how an application that calls argon2 from its handlers (Better Auth at its defaults) runs.");
  if (doSame) {
    log(`   C = informational: the same raw loop at concurrency ${o.sameConcurrency} (${o.sameConcurrencySource}).`);
  }
  log('   CPU = the server with its child processes (A) or the raw loop process (B, C), utime+stime over the run / logIns (verifies) done.');

  const raw = await startRawLoop(ctx);
  try {
    const request = graphqlRequest(posture.url, LOG_IN_MUTATION, { input: ctx.credentials });
    const load = { connections: o.loginConnections, verify: isLoggedIn };
    const rawRun = (concurrency: number, seconds: number) =>
      raw.run({ hash: ctx.passwordHash, password: ctx.credentials.password, concurrency, seconds });
    if (o.warmupSeconds > 0 || o.loginWarmup > 0) {
      // By count, as the JIT counts (see BENCH_LOGIN_WARMUP), within a minute whatever the pace.
      const started = performance.now();
      let warmed = 0;
      do warmed += (await saturate(request, { ...load, seconds: Math.max(1, o.warmupSeconds) })).served;
      while (warmed < o.loginWarmup && performance.now() - started < 60_000);
      log(`   warm-up: ${warmed} logIns in ${fixed((performance.now() - started) / 1000, 0)} s`);
      await rawRun(o.rawConcurrency, 1);
    }

    const runs: LoginRun[] = [];
    // A B C, then B C A, then C A B …: each side takes each place in turn, so a drift in the
    // machine's load over the run does not favour one.
    for (let i = 0; i < o.rounds; i++) {
      let postureRun: LoginRun['posture'] | undefined;
      let b: RawRun | undefined;
      let bMachine: MachineUse | undefined;
      let c: RawRun | undefined;
      const steps: Array<[string, () => Promise<void>]> = [
        [
          'A',
          async () => {
            const window = await startWindow(posture.pid, ctx.db.backendCpu);
            const a = await saturate(request, { ...load, seconds: o.seconds });
            postureRun = { load: a, cpu: await window.stop(a.served) };
          },
        ],
        [
          'B',
          async () => {
            const machine = machineWindow();
            b = await rawRun(o.rawConcurrency, o.seconds);
            bMachine = machine.stop();
          },
        ],
        ...(doSame ? ([['C', async () => void (c = await rawRun(o.sameConcurrency, o.seconds))]] as Array<[string, () => Promise<void>]>) : []),
      ];
      const order = steps.map((_, k) => steps[(k + i) % steps.length]!);
      for (const [, step] of order) await step();
      runs.push({ posture: postureRun!, raw: b!, rawMachine: bMachine, same: c });
      log(
        `   round ${i + 1}/${o.rounds} (${order.map(([name]) => name).join(' ')}): A ${fixed(postureRun!.load.perSecond)} logIns/s, ` +
          `B ${fixed(b!.perSecond)} verifies/s${c ? `, C ${fixed(c.perSecond)} verifies/s` : ''}`,
      );
    }
    if (runs[0]!.raw.threadPool) log(`   NOTE: the raw loop saw UV_THREADPOOL_SIZE=${runs[0]!.raw.threadPool}`);

    // A run in which no logIn finished at all is a failure too, not a 0 logIns/s with nothing wrong.
    const failures = runs.reduce((n, r) => n + r.posture.load.failed + (r.posture.load.ok === 0 ? 1 : 0), 0);
    log(failures ? `   FAILED logIns: ${failures} (refused or wrong answers: is a limit still on?)` : '   Every logIn succeeded.');
    const perVerify = (r?: RawRun) => (r ? r.cpuMicros / r.verifies : NaN);
    const cores = (r?: RawRun) => (r ? r.cpuMicros / 1e6 / r.seconds : NaN);
    const columns: Array<[string, (r: LoginRun) => number, number]> = [
      ['A logIns/s', (r) => r.posture.load.perSecond, 1],
      ['A p50 ms', (r) => r.posture.load.p50, 1],
      ['A p99 ms', (r) => r.posture.load.p99, 1],
      ['A CPU µs/logIn', (r) => r.posture.cpu.server.perRequest, 0],
      ['A main µs', (r) => r.posture.cpu.ownPerRequest ?? NaN, 0],
      ['A cores', (r) => r.posture.cpu.server.cores, 2],
      ['A DB µs/logIn', (r) => r.posture.cpu.db?.perRequest ?? NaN, 0],
      ['A idle', (r) => r.posture.cpu.machine?.idleCores ?? NaN, 2],
      ['B verifies/s', (r) => r.raw.perSecond, 1],
      ['B CPU µs/verify', (r) => perVerify(r.raw), 0],
      ['B cores', (r) => cores(r.raw), 2],
      ['B idle', (r) => r.rawMachine?.idleCores ?? NaN, 2],
      ...(doSame
        ? ([
            ['C verifies/s', (r: LoginRun) => r.same?.perSecond ?? NaN, 1],
            ['C cores', (r: LoginRun) => cores(r.same), 2],
          ] as Array<[string, (r: LoginRun) => number, number]>)
        : []),
    ];
    log(table(['run', ...columns.map((c) => c[0])], runRows(runs, columns.map((c) => c[1]), columns.map((c) => c[2]))));

    const postureRate = medianOf(runs, (r) => r.posture.load.perSecond);
    const figure: LoginFigure = {
      throughputRatio: postureRate / medianOf(runs, (r) => r.raw.perSecond),
      sameConcurrencyRatio: doSame ? postureRate / medianOf(runs, (r) => r.same?.perSecond ?? NaN) : NaN,
      cpuMicros: {
        posture: medianOf(runs, (r) => r.posture.cpu.server.perRequest),
        raw: medianOf(runs, (r) => perVerify(r.raw)),
        same: medianOf(runs, (r) => perVerify(r.same)),
      },
      cores: {
        posture: medianOf(runs, (r) => r.posture.cpu.server.cores),
        raw: medianOf(runs, (r) => cores(r.raw)),
        same: medianOf(runs, (r) => cores(r.same)),
      },
      failures,
      runs,
    };
    log(
      `   => Posture logIns/s / raw verifies/s at concurrency ${o.rawConcurrency}: ${times(figure.throughputRatio)}` +
        (doSame ? `; informational, / raw at concurrency ${o.sameConcurrency}: ${times(figure.sameConcurrencyRatio)}` : '') +
        `; CPU per logIn ${fixed(figure.cpuMicros.posture, 0)} µs vs ${fixed(figure.cpuMicros.raw, 0)} µs per raw verify`,
    );
    log();
    return figure;
  } finally {
    raw.stop();
  }
}
