import { startWindow, type WindowCpu } from './cpu';
import { saturate, type GraphqlRequest, type LoadResult } from './load';
import { fixed, medianOf, runRows, table, times } from './report';

/** One closed-loop load run of one server, with the CPU it took. */
export interface LoadRun {
  load: LoadResult;
  cpu: WindowCpu;
}

export type RunPair = { posture: LoadRun; baseline: LoadRun };

/**
 * Loads the server at `pid` with `request` in a closed loop: a warm-up (JIT, pools, caches), then
 * the measured window, with the CPU of the server and of the database's backends over it.
 */
export async function measureLoad(
  pid: number,
  request: GraphqlRequest,
  run: { connections: number; verify: (body: string) => boolean; seconds: number; warmupSeconds: number },
  backendCpu?: Parameters<typeof startWindow>[1],
): Promise<LoadRun> {
  const { connections, verify } = run;
  if (run.warmupSeconds > 0) await saturate(request, { connections, verify, seconds: run.warmupSeconds });
  const window = await startWindow(pid, backendCpu);
  const result = await saturate(request, { connections, verify, seconds: run.seconds });
  return { load: result, cpu: await window.stop(result.served) };
}

/** Posture (A) against a baseline (B) under the same load: ratios of medians over alternated runs. */
export interface SideBySideFigure {
  throughputRatio: number;
  p50Ratio: number;
  p99Ratio: number;
  /** Medians of server CPU µs per request. */
  cpuMicros: { posture: number; baseline: number };
  /** Medians of PostgreSQL backend CPU µs per request (NaN when not measured). */
  dbCpuMicros: { posture: number; baseline: number };
  /** Failed requests (non-2xx, wrong body, socket errors): any makes the figure suspect. */
  failures: number;
  runs: RunPair[];
}

/**
 * Runs A and B `rounds` times, A B, then B A, then A B …, so that a drift in the machine's load
 * over the run hits both sides alike; logs each round in `unit`s per second.
 */
export async function alternate(
  rounds: number,
  runPosture: () => Promise<LoadRun>,
  runBaseline: () => Promise<LoadRun>,
  log: (line?: string) => void,
  unit: string,
): Promise<RunPair[]> {
  const runs: RunPair[] = [];
  for (let i = 0; i < rounds; i++) {
    let posture: LoadRun;
    let baseline: LoadRun;
    if (i % 2 === 0) {
      posture = await runPosture();
      baseline = await runBaseline();
    } else {
      baseline = await runBaseline();
      posture = await runPosture();
    }
    runs.push({ posture, baseline });
    log(`   round ${i + 1}/${rounds} (${i % 2 ? 'B A' : 'A B'}): A ${fixed(posture.load.perSecond, 0)} ${unit}s/s, B ${fixed(baseline.load.perSecond, 0)} ${unit}s/s`);
  }
  return runs;
}

/** Logs the runs as a table and the ratios of their medians in one line, and returns them. */
export function compareRuns(runs: RunPair[], unit: string, log: (line?: string) => void): SideBySideFigure {
  const failures = runs.reduce((n, r) => n + r.posture.load.failed + r.baseline.load.failed, 0);
  const withDb = runs.some((r) => r.posture.cpu.db);
  type Column = [string, (r: RunPair) => number, number];
  const dbColumn = (name: string, side: 'posture' | 'baseline'): Column[] =>
    withDb ? [[name, (r) => r[side].cpu.db?.perRequest ?? NaN, 0]] : [];
  const columns: Column[] = [
    [`A ${unit}s/s`, (r) => r.posture.load.perSecond, 0],
    ['A p50 ms', (r) => r.posture.load.p50, 2],
    ['A p99 ms', (r) => r.posture.load.p99, 2],
    ['A CPU µs/req', (r) => r.posture.cpu.server.perRequest, 0],
    ...dbColumn('A DB µs/req', 'posture'),
    [`B ${unit}s/s`, (r) => r.baseline.load.perSecond, 0],
    ['B p50 ms', (r) => r.baseline.load.p50, 2],
    ['B p99 ms', (r) => r.baseline.load.p99, 2],
    ['B CPU µs/req', (r) => r.baseline.cpu.server.perRequest, 0],
    ...dbColumn('B DB µs/req', 'baseline'),
  ];
  log(table(['run', ...columns.map((c) => c[0])], runRows(runs, columns.map((c) => c[1]), columns.map((c) => c[2]))));

  const ratio = (pick: (r: LoadResult) => number) => medianOf(runs, (r) => pick(r.posture.load)) / medianOf(runs, (r) => pick(r.baseline.load));
  const figure: SideBySideFigure = {
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
      `server CPU per ${unit} ${fixed(figure.cpuMicros.posture, 0)} vs ${fixed(figure.cpuMicros.baseline, 0)} µs (${times(figure.cpuMicros.posture / figure.cpuMicros.baseline)})` +
      (withDb ? `; PostgreSQL CPU per ${unit} ${fixed(figure.dbCpuMicros.posture, 0)} vs ${fixed(figure.dbCpuMicros.baseline, 0)} µs` : ''),
  );
  log();
  return figure;
}
