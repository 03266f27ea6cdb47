import type { ChildServer } from './child-server';
import type { BenchDatabase } from './database';
import type { BenchOptions } from './options';
import type { Credentials } from './posture';

export interface BenchContext {
  options: BenchOptions;
  db: BenchDatabase;
  /** A verified account on the bench database. */
  credentials: Credentials;
  /** Its stored argon2 hash, for the raw verify loop. */
  passwordHash: string;
  startPosture(): Promise<ChildServer>;
  startBaseline(): Promise<ChildServer>;
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
