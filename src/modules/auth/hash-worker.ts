import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** argon2's parameters, as its `hash` takes them. */
export interface HashParameters {
  type: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

type Request = { op: 'hash'; password: string; options: HashParameters } | { op: 'verify'; hash: string; password: string };
type Reply = { id: number; ok: true; value: string | boolean } | { id: number; ok: false; error: string };
type Pending = { resolve: (value: string | boolean) => void; reject: (err: Error) => void };

/**
 * The child's program, plain JavaScript so that it runs the same from the build and from the test
 * runner's TypeScript. It lowers its priority before argon2 starts libuv's thread pool, whose
 * threads inherit it from the main thread. A stored hash that argon2 cannot read verifies as
 * false, never as an error.
 */
const CHILD_PROGRAM = `
const os = require('node:os');
const nice = Number(process.env.POSTURE_HASHER_NICE);
try { os.setPriority(0, nice); } catch {}
// On Linux that set only this thread: the threads V8 has started already get it one by one.
try { for (const tid of require('node:fs').readdirSync('/proc/self/task')) os.setPriority(Number(tid), nice); } catch {}
const argon2 = require(process.env.POSTURE_ARGON2);
process.title = 'posture-hasher';
process.on('disconnect', () => process.exit(0));
process.on('message', async (m) => {
  try {
    const value = m.op === 'hash' ? await argon2.hash(m.password, m.options) : await argon2.verify(m.hash, m.password).catch(() => false);
    process.send({ id: m.id, ok: true, value });
  } catch (err) {
    process.send({ id: m.id, ok: false, error: String((err && err.message) || err) });
  }
});
`;

/**
 * argon2 in a child process at the lowest CPU priority. In this process, argon2 would run on
 * libuv's shared thread pool, whose threads Node cannot renice (and where jose's signatures and
 * file system calls would queue behind it). There, hashing can use every core while nothing else
 * wants them, and yields them to requests that need no hash as soon as they do. The child starts
 * on first use, is started again if it dies, and never keeps this process alive.
 */
export class HashWorker {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(
    /** argon2 operations the child runs at once (its thread pool). */
    private readonly threads: number,
    /** The child's niceness: 19 is the lowest priority. */
    private readonly nice = 19,
  ) {}

  hash(password: string, options: HashParameters): Promise<string> {
    return this.call({ op: 'hash', password, options }) as Promise<string>;
  }

  /** false for a wrong password or a stored hash argon2 cannot read. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.call({ op: 'verify', hash, password }) as Promise<boolean>;
  }

  /** The child's process id while it runs (for tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the child once the operations in progress are done (at most `graceMs`); a later call starts another one. */
  async close(graceMs = 10_000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.pending.size > 0 && Date.now() < deadline) await sleep(20);
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  private call(request: Request): Promise<string | boolean> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) child.channel?.ref();
      this.pending.set(id, { resolve, reject });
      child.send({ id, ...request }, (err) => {
        if (err) this.settle(id, () => reject(err));
      });
    });
  }

  private settle(id: number, finish: (entry: Pending) => void) {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.child?.channel?.unref();
    finish(entry);
  }

  private start(): ChildProcess {
    const child = spawn(process.execPath, ['-e', CHILD_PROGRAM], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        UV_THREADPOOL_SIZE: String(this.threads),
        POSTURE_HASHER_NICE: String(this.nice),
        POSTURE_ARGON2: require.resolve('argon2'),
      },
    });
    child.on('message', (reply: Reply) =>
      this.settle(reply.id, ({ resolve, reject }) => (reply.ok ? resolve(reply.value) : reject(new Error(reply.error)))),
    );
    const died = (reason: string) => {
      if (this.child !== child && this.child !== undefined) return; // what is pending went to a newer child
      this.child = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, ({ reject }) => reject(new Error(`the password hasher ${reason}`)));
    };
    child.once('error', (err) => died(`could not run: ${err.message}`));
    child.once('exit', (code, signal) => died(`exited (${signal ?? code})`));
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}
