import os from 'node:os';

function rawEnv(name: string): string | undefined {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = rawEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  return value;
}

function optionalIntFromEnv(name: string, min: number): number | undefined {
  return rawEnv(name) === undefined ? undefined : intFromEnv(name, 0, min);
}

/** Knobs, all from the environment, so a quick or a thorough run needs no code change. README lists them. */
export interface BenchOptions {
  /** Alternating A/B(/C) rounds per benchmark. */
  rounds: number;
  /** Measured seconds of each run. */
  seconds: number;
  /** Discarded seconds of load after each server start (JIT, pools, caches). */
  warmupSeconds: number;
  /**
   * logIns that warm Posture up before figure 2 is measured (at least `warmupSeconds` of them):
   * V8 optimizes a function after enough calls, not enough seconds, and at argon2's pace 2 s are
   * about a hundred logIns, when most of the path still runs unoptimized.
   */
  loginWarmup: number;
  /** Keep-alive connections of the saturating `me` load (1). */
  meConnections: number;
  /** Connections of Posture's logIn load (2): enough to keep its hashing busy, fewer than its queue admits. */
  loginConnections: number;
  /** Concurrent argon2.verify loops of the raw side of (2): 4, what libuv's default thread pool runs at once. */
  rawConcurrency: number;
  /** Concurrency of the informational raw loop of (2); 0 skips it. */
  sameConcurrency: number;
  /** Where `sameConcurrency` comes from, for the report. */
  sameConcurrencySource: string;
  /** Posture's HASH_CONCURRENCY, only when BENCH_HASH_CONCURRENCY asks; otherwise the server decides. */
  hashConcurrency?: number;
  /** Posture's HASH_QUEUE_LIMIT, only when BENCH_HASH_QUEUE_LIMIT asks. */
  hashQueueLimit?: number;
  /** Requests per second of the paced `me` probe (3). */
  meRate: number;
  /** Measured seconds of each run of (3): longer than BENCH_SECONDS, for enough samples for a p99. */
  floodSeconds: number;
  /** Loopback addresses each flood run sends from (127.0.0.2 and up, fresh ones every run) (3). */
  floodAddresses: number;
  /** Connections of the closed-loop flood, spread over the addresses (3). */
  floodConnections: number;
  /** Requests per second of the open-loop flood, spread over the addresses (3). */
  floodRate: number;
  /** Most open-loop flood requests in flight at once; a request due beyond that is counted as not sent. */
  floodMaxInFlight: number;
  /** auto: pin with taskset on 4 or more cores; on: pin whatever the count; off: never. */
  pin: 'auto' | 'on' | 'off';
  /** Where the figures go (JSON). */
  resultsPath: string;
  /** Keep-alive connections of the submitAssessment load (5), one bench account each; also the raw side's loops. */
  submitConnections: number;
  /**
   * BENCH_PROFILE_DIR: each Posture child process writes a CPU profile of its whole life there
   * (cpu-profile.ts, preloaded); unset by default. Not for figure 5, which preloads its counter.
   */
  profileDir?: string;
  /** Which figures to run (BENCH_ONLY=me,login,flood,template,submit; all by default). */
  only: ReadonlySet<BenchFigure>;
}

/** The figures BENCH_ONLY chooses from; `template` is figures 4 (reads/s) and 5 (SQL per read). */
export const BENCH_FIGURES = ['me', 'login', 'flood', 'template', 'submit'] as const;
export type BenchFigure = (typeof BENCH_FIGURES)[number];

export function readOptions(defaultResultsPath: string): BenchOptions {
  const hashConcurrency = optionalIntFromEnv('BENCH_HASH_CONCURRENCY', 1);
  const hashQueueLimit = optionalIntFromEnv('BENCH_HASH_QUEUE_LIMIT', 0);
  const pin = (rawEnv('BENCH_PIN') ?? 'auto').toLowerCase();
  if (pin !== 'auto' && pin !== 'on' && pin !== 'off') throw new Error(`BENCH_PIN must be auto, on or off (got "${pin}")`);
  const only = (rawEnv('BENCH_ONLY') ?? BENCH_FIGURES.join(',')).split(',').map((f) => f.trim().toLowerCase()).filter(Boolean);
  for (const f of only) {
    if (!(BENCH_FIGURES as readonly string[]).includes(f)) throw new Error(`BENCH_ONLY takes ${BENCH_FIGURES.join(', ')} (got "${f}")`);
  }
  const explicitSame = optionalIntFromEnv('BENCH_SAME_CONCURRENCY', 0);
  const options: BenchOptions = {
    rounds: intFromEnv('BENCH_ROUNDS', 3),
    seconds: intFromEnv('BENCH_SECONDS', 5),
    warmupSeconds: intFromEnv('BENCH_WARMUP_SECONDS', 2, 0),
    loginWarmup: intFromEnv('BENCH_LOGIN_WARMUP', 2000, 0),
    meConnections: intFromEnv('BENCH_CONNECTIONS', 10),
    loginConnections: intFromEnv('BENCH_LOGIN_CONNECTIONS', 8),
    rawConcurrency: intFromEnv('BENCH_RAW_CONCURRENCY', 4),
    // Posture's setting when the bench sets it; otherwise what Posture's own default works out to
    // (resolveSameConcurrency, once this process is pinned). Informational only.
    sameConcurrency: explicitSame ?? hashConcurrency ?? -1,
    sameConcurrencySource:
      explicitSame !== undefined ? 'BENCH_SAME_CONCURRENCY' : hashConcurrency !== undefined ? "Posture's HASH_CONCURRENCY as the bench sets it" : '',
    hashConcurrency,
    hashQueueLimit,
    meRate: intFromEnv('BENCH_ME_RATE', 50),
    floodSeconds: intFromEnv('BENCH_FLOOD_SECONDS', Math.max(1, Math.round((intFromEnv('BENCH_SECONDS', 5) * 8) / 5))),
    floodAddresses: intFromEnv('BENCH_FLOOD_ADDRESSES', 8),
    floodConnections: intFromEnv('BENCH_FLOOD_CONNECTIONS', 96),
    floodRate: intFromEnv('BENCH_FLOOD_RATE', 2000),
    floodMaxInFlight: intFromEnv('BENCH_FLOOD_MAX_IN_FLIGHT', 1024),
    pin: pin as 'auto' | 'on' | 'off',
    resultsPath: rawEnv('BENCH_RESULTS') ?? defaultResultsPath,
    submitConnections: intFromEnv('BENCH_SUBMIT_CONNECTIONS', 10),
    profileDir: rawEnv('BENCH_PROFILE_DIR'),
    only: new Set(only as BenchFigure[]),
  };
  if (hashConcurrency !== undefined && hashQueueLimit !== undefined && options.loginConnections > hashConcurrency + hashQueueLimit) {
    throw new Error('BENCH_LOGIN_CONNECTIONS must not exceed the hashing queue (concurrency + queue limit), or logIns are refused');
  }
  if (options.floodAddresses > 250) throw new Error('BENCH_FLOOD_ADDRESSES must be at most 250');
  return options;
}

/**
 * Posture's default hashing concurrency, computed by Posture's own `defaultHashConcurrency()` in
 * this process (after pinning, so it sees as many cores as the servers when the split is even).
 * Read at run time, so the bench still builds and runs if that export moves; then it falls back
 * to what Posture documented before issue 6 (cores - 1, at most 3).
 */
export function resolveSameConcurrency(options: BenchOptions): void {
  if (options.sameConcurrency >= 0) return;
  try {
    const passwords = require('../src/modules/auth/password.service') as { defaultHashConcurrency?: () => number };
    if (typeof passwords.defaultHashConcurrency === 'function') {
      options.sameConcurrency = passwords.defaultHashConcurrency();
      options.sameConcurrencySource = "Posture's default, from its defaultHashConcurrency() run in the bench process";
      return;
    }
  } catch {
    // fall through
  }
  options.sameConcurrency = Math.max(1, Math.min(os.availableParallelism() - 1, 3));
  options.sameConcurrencySource = "a guess at Posture's default (cores - 1, at most 3): defaultHashConcurrency() was not found";
}

export const machineSummary = () =>
  `${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}`;
