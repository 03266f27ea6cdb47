import os from 'node:os';

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  return value;
}

/** Knobs, all from the environment, so a quick or a thorough run needs no code change. */
export interface BenchOptions {
  /** Alternating A/B pairs per benchmark. */
  rounds: number;
  /** Measured seconds of each run. */
  seconds: number;
  /** Discarded seconds of load after each server start (JIT, pools, caches). */
  warmupSeconds: number;
  /** Keep-alive connections of the saturating `me` load. */
  meConnections: number;
  /** Requests per second of the paced `me` probe in the flood benchmark: a small share of capacity, so it measures waiting behind the flood rather than overloading the server itself. */
  meRate: number;
  /** argon2 operations at once, in Posture's queue and in the raw loop. */
  hashConcurrency: number;
  /** Posture's HASH_QUEUE_LIMIT (its default). */
  hashQueueLimit: number;
  /** Connections of the logIn throughput load: enough to keep the hashing queue full, never over it. */
  loginConnections: number;
  /** Connections of the login flood: more than the queue admits. */
  floodConnections: number;
}

export function readOptions(): BenchOptions {
  const hashConcurrency = intFromEnv('BENCH_HASH_CONCURRENCY', 1);
  const hashQueueLimit = intFromEnv('BENCH_HASH_QUEUE_LIMIT', 64, 0);
  const options: BenchOptions = {
    rounds: intFromEnv('BENCH_ROUNDS', 3),
    seconds: intFromEnv('BENCH_SECONDS', 5),
    warmupSeconds: intFromEnv('BENCH_WARMUP_SECONDS', 2, 0),
    meConnections: intFromEnv('BENCH_CONNECTIONS', 10),
    meRate: intFromEnv('BENCH_ME_RATE', 50),
    hashConcurrency,
    hashQueueLimit,
    loginConnections: intFromEnv('BENCH_LOGIN_CONNECTIONS', hashConcurrency * 4),
    floodConnections: intFromEnv('BENCH_FLOOD_CONNECTIONS', hashConcurrency + hashQueueLimit + 32),
  };
  if (options.loginConnections > hashConcurrency + hashQueueLimit) {
    throw new Error('BENCH_LOGIN_CONNECTIONS must not exceed the hashing queue (concurrency + queue limit)');
  }
  if (options.floodConnections <= hashConcurrency + hashQueueLimit) {
    throw new Error('BENCH_FLOOD_CONNECTIONS must exceed the hashing queue (concurrency + queue limit), or nothing is refused');
  }
  return options;
}

export const machineSummary = () =>
  `${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}`;
