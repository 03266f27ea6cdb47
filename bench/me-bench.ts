import { withServer, type BenchContext } from './context';
import { startWindow, type WindowCpu } from './cpu';
import { graphqlRequest, saturate, type LoadResult } from './load';
import { isMe, logIn, ME_QUERY, meBody } from './posture';
import { fixed, medianOf, runRows, table, times } from './report';

export interface MeRun {
  load: LoadResult;
  cpu: WindowCpu;
}

export interface MeFigure {
  throughputRatio: number;
  p50Ratio: number;
  p99Ratio: number;
  /** Medians of server CPU µs per request. */
  cpuMicros: { posture: number; baseline: number };
  /** Medians of PostgreSQL backend CPU µs per request (NaN when not measured). */
  dbCpuMicros: { posture: number; baseline: number };
  /** Failed `me` requests (non-2xx, wrong body, socket errors): any makes the figure suspect. */
  failures: number;
  runs: Array<{ posture: MeRun; baseline: MeRun }>;
}

/** 1. `me` over HTTP: Posture (A) against the hand-written baseline (B), each restarted for every run. */
export async function benchMe(ctx: BenchContext): Promise<MeFigure> {
  const { options: o, log } = ctx;
  log(`1. \`me\` over HTTP: ${o.meConnections} keep-alive connections from 127.0.0.1, closed loop (autocannon), ${o.seconds} s per run after ${o.warmupSeconds} s warm-up; each server freshly started per run, at its defaults; order A B, B A, A B …`);
  log('   A = Posture: node dist/src/main.js (Apollo Server, type-graphql, MikroORM)');
  log('   B = baseline: node dist/bench/baseline-server.js. node:http + graphql-js + pg; verifies the same EdDSA JWT with jose');
  log('       against the same public key (same claims checks), checks the session is live and loads the user in one SQL');
  log('       query, caches parsed+validated documents as Apollo does and verified tokens as Posture does, executes with');
  log('       graphql-js. Same DB, same pool size.');
  log('   CPU = the server process and its child processes, utime+stime from /proc/<pid>/stat, over the measured window / responses in it.');

  const load = async (server: { url: string; pid: number }, token: string): Promise<MeRun> => {
    const request = graphqlRequest(server.url, ME_QUERY, undefined, token);
    const run = { connections: o.meConnections, verify: isMe };
    if (o.warmupSeconds > 0) await saturate(request, { ...run, seconds: o.warmupSeconds });
    const window = await startWindow(server.pid, ctx.db.backendCpu);
    const result = await saturate(request, { ...run, seconds: o.seconds });
    return { load: result, cpu: await window.stop(result.served) };
  };

  // One token for every run: Posture's first start logs in, and the session stays valid across
  // restarts of either server (same signing key, same database).
  const { token, postureAnswer } = await withServer(
    () => ctx.startPosture(),
    async (server) => {
      const t = await logIn(server.url, ctx.credentials);
      return { token: t, postureAnswer: await meBody(server.url, t) };
    },
  );
  if (!isMe(postureAnswer)) throw new Error(`Posture does not answer \`me\`: ${postureAnswer}`);
  let checked = false;
  const runPosture = () => withServer(() => ctx.startPosture(), (server) => load(server, token));
  const runBaseline = () =>
    withServer(ctx.startBaseline, async (server) => {
      if (!checked) {
        const baselineAnswer = await meBody(server.url, token);
        if (baselineAnswer.trim() !== postureAnswer.trim()) {
          throw new Error(`Posture and the baseline answer \`me\` differently:\n  Posture:  ${postureAnswer}\n  baseline: ${baselineAnswer}`);
        }
        checked = true;
      }
      return load(server, token);
    });

  // A B, then B A, then A B …: a drift in the machine's load over the run hits both sides alike.
  const runs: Array<{ posture: MeRun; baseline: MeRun }> = [];
  for (let i = 0; i < o.rounds; i++) {
    let posture: MeRun;
    let baseline: MeRun;
    if (i % 2 === 0) {
      posture = await runPosture();
      baseline = await runBaseline();
    } else {
      baseline = await runBaseline();
      posture = await runPosture();
    }
    runs.push({ posture, baseline });
    log(`   round ${i + 1}/${o.rounds} (${i % 2 ? 'B A' : 'A B'}): A ${fixed(posture.load.perSecond, 0)} req/s, B ${fixed(baseline.load.perSecond, 0)} req/s`);
  }

  const failures = runs.reduce((n, r) => n + r.posture.load.failed + r.baseline.load.failed, 0);
  log('   Both servers gave the identical response body.' + (failures ? ` FAILED REQUESTS: ${failures}` : ' No failed requests.'));
  const withDb = runs.some((r) => r.posture.cpu.db);
  type Column = [string, (r: { posture: MeRun; baseline: MeRun }) => number, number];
  const dbColumn = (name: string, side: 'posture' | 'baseline'): Column[] =>
    withDb ? [[name, (r) => r[side].cpu.db?.perRequest ?? NaN, 0]] : [];
  const columns: Column[] = [
    ['A req/s', (r) => r.posture.load.perSecond, 0],
    ['A p50 ms', (r) => r.posture.load.p50, 2],
    ['A p99 ms', (r) => r.posture.load.p99, 2],
    ['A CPU µs/req', (r) => r.posture.cpu.server.perRequest, 0],
    ...dbColumn('A DB µs/req', 'posture'),
    ['B req/s', (r) => r.baseline.load.perSecond, 0],
    ['B p50 ms', (r) => r.baseline.load.p50, 2],
    ['B p99 ms', (r) => r.baseline.load.p99, 2],
    ['B CPU µs/req', (r) => r.baseline.cpu.server.perRequest, 0],
    ...dbColumn('B DB µs/req', 'baseline'),
  ];
  log(table(['run', ...columns.map((c) => c[0])], runRows(runs, columns.map((c) => c[1]), columns.map((c) => c[2]))));

  const ratio = (pick: (r: LoadResult) => number) => medianOf(runs, (r) => pick(r.posture.load)) / medianOf(runs, (r) => pick(r.baseline.load));
  const figure: MeFigure = {
    throughputRatio: ratio((r) => r.perSecond),
    p50Ratio: ratio((r) => r.p50),
    p99Ratio: ratio((r) => r.p99),
    cpuMicros: {
      posture: medianOf(runs, (r) => r.posture.cpu.server.perRequest),
      baseline: medianOf(runs, (r) => r.baseline.cpu.server.perRequest),
    },
    dbCpuMicros: {
      posture: medianOf(runs, (r) => r.posture.cpu.db?.perRequest ?? NaN),
      baseline: medianOf(runs, (r) => r.baseline.cpu.db?.perRequest ?? NaN),
    },
    failures,
    runs,
  };
  log(
    `   => Posture / baseline: throughput ${times(figure.throughputRatio)}, p50 latency ${times(figure.p50Ratio)}, p99 latency ${times(figure.p99Ratio)}; ` +
      `server CPU per request ${fixed(figure.cpuMicros.posture, 0)} vs ${fixed(figure.cpuMicros.baseline, 0)} µs (${times(figure.cpuMicros.posture / figure.cpuMicros.baseline)})` +
      (withDb ? `; PostgreSQL CPU per request ${fixed(figure.dbCpuMicros.posture, 0)} vs ${fixed(figure.dbCpuMicros.baseline, 0)} µs` : ''),
  );
  log();
  return figure;
}
