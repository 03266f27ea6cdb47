/**
 * The raw side of the logIn figure, as a child process: `concurrency` loops of argon2.verify on
 * the stored hash, as an application that calls argon2 straight from its request handlers does
 * (Better Auth, at its defaults). It runs with a clean environment, so libuv's thread pool has its
 * default 4 threads, and under the servers' taskset when they are pinned.
 *
 * IPC in: { hash, password, concurrency, seconds }; out: RawRun.
 */
import argon2 from 'argon2';

export interface RawRequest {
  hash: string;
  password: string;
  concurrency: number;
  seconds: number;
}

export interface RawRun {
  verifies: number;
  seconds: number;
  perSecond: number;
  /** CPU this process used in the run (all threads), µs. */
  cpuMicros: number;
  /** UV_THREADPOOL_SIZE as this process sees it ('' = libuv's default, 4). */
  threadPool: string;
  error?: string;
}

async function run({ hash, password, concurrency, seconds }: RawRequest): Promise<RawRun> {
  let verifies = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        if (!(await argon2.verify(hash, password))) throw new Error('argon2.verify rejected the bench password');
        verifies++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    verifies,
    seconds: elapsed,
    perSecond: verifies / elapsed,
    cpuMicros: cpu.user + cpu.system,
    threadPool: process.env.UV_THREADPOOL_SIZE ?? '',
  };
}

process.on('message', (message: RawRequest) => {
  run(message).then(
    (result) => process.send!(result),
    (err: unknown) => process.send!({ error: String(err) } as RawRun),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
