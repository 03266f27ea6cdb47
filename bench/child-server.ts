import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { processCpuMicros } from './cpu';
import { serverCommand, type Pinning } from './pinning';

const live = new Set<ChildProcess>();

/** Last resort for every exit path, Ctrl-C included: no server outlives the bench. */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Puts a child process the bench started under the same last-resort kill. */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ChildServer {
  name: string;
  url: string;
  pid: number;
  /** CPU time the server process has used so far (all threads), in microseconds; NaN without /proc. */
  cpuMicros(): number;
  /** SIGTERM, so an embedded database closes cleanly; SIGKILL if it hangs. */
  stop(): Promise<void>;
}

/**
 * Starts `node script` with exactly `env` (nothing inherited but PATH and HOME, so a stray
 * DATABASE_URL, REDIS_URL, UV_THREADPOOL_SIZE or .env cannot change what is measured) and waits
 * for `readyPath`. Under taskset when the servers are pinned: taskset execs node, so the pid is
 * the server's own.
 */
export async function startChildServer(opts: {
  name: string;
  script: string;
  env: Record<string, string>;
  cwd: string;
  readyPath: string;
  pinning: Pinning;
  timeoutMs?: number;
}): Promise<ChildServer> {
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...opts.env, PORT: String(port) };
  const { command, args } = serverCommand(opts.pinning, [opts.script]);
  const child = spawn(command, args, { env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${opts.name} exited with code ${exitCode} before it was ready. Its output:\n${output.trim() || '(none)'}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${opts.name} was not ready within ${(opts.timeoutMs ?? 60_000) / 1000} s. Its output:\n${output.trim() || '(none)'}`);
    }
    const ready = await fetch(url + opts.readyPath, { signal: AbortSignal.timeout(1000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    await sleep(100);
  }

  return {
    name: opts.name,
    url,
    pid: child.pid!,
    cpuMicros: () => processCpuMicros(child.pid!),
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        console.warn(`${opts.name} did not exit within 10 s of SIGTERM; killing it`);
        child.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A reader of the IPC messages of a loop child (the raw argon2 or submit loop): each call resolves
 * with the next message, and rejects if `name` exits first.
 */
export function messagesOf(child: ChildProcess, name: string): () => Promise<unknown> {
  return () =>
    new Promise<unknown>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${name} exited with code ${code}`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m);
      });
    });
}
