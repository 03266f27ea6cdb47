import type { ChildServer } from './child-server';
import type { BenchDatabase } from './database';
import type { BenchOptions } from './options';
import type { Pinning } from './pinning';
import type { Credentials } from './posture';

export interface BenchContext {
  options: BenchOptions;
  db: BenchDatabase;
  pinning: Pinning;
  /** A verified account on the bench database. */
  credentials: Credentials;
  /** Its stored argon2 hash, for the raw verify loop. */
  passwordHash: string;
  /** Posture at its defaults; `env` adds or overrides variables (RATE_LIMITS for figure 2). */
  startPosture(env?: Record<string, string>): Promise<ChildServer>;
  startBaseline(): Promise<ChildServer>;
  /** Absolute path of a compiled bench script (dist/bench/<name>.js). */
  benchScript(name: string): string;
  log(line?: string): void;
}

/** Runs `fn` against a freshly started server and always stops it. */
export async function withServer<T>(start: () => Promise<ChildServer>, fn: (server: ChildServer) => Promise<T>): Promise<T> {
  const server = await start();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
