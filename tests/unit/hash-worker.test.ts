import fs from 'node:fs';
import argon2 from 'argon2';
import { HashWorker } from '../../src/modules/auth/hash-worker';
import { defaultHashConcurrency } from '../../src/modules/auth/password.service';

const cheap = { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 };
const linux = process.platform === 'linux' ? it : it.skip;

/** The niceness of every thread of a process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNiceness(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('HashWorker', () => {
  const worker = new HashWorker(2);
  afterAll(() => worker.close());

  it('hashes and verifies like argon2 itself', async () => {
    const hash = await worker.hash('correct horse', cheap);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(await argon2.verify(hash, 'correct horse')).toBe(true);
    expect(await worker.verify(hash, 'correct horse')).toBe(true);
    expect(await worker.verify(hash, 'wrong horse')).toBe(false);
    expect(await worker.verify(await argon2.hash('native', cheap), 'native')).toBe(true);
  });

  it('verifies a hash it cannot read as false, not as an error', async () => {
    expect(await worker.verify('not-a-hash', 'x')).toBe(false);
    expect(await worker.verify('$argon2id$v=19$m=1024,t=1,p=1$broken', 'x')).toBe(false);
  });

  linux('hashes at the lowest CPU priority, on every thread', async () => {
    await Promise.all([worker.hash('a', cheap), worker.hash('b', cheap)]); // the thread pool is up
    const niceness = threadNiceness(worker.pid!);
    expect(niceness.length).toBeGreaterThanOrEqual(3);
    expect(new Set(niceness)).toEqual(new Set([19]));
  });

  it('fails what was in progress when the child dies, and starts another for the next call', async () => {
    await worker.hash('warm', cheap);
    const pid = worker.pid!;
    const inProgress = worker.hash('x'.repeat(100), { ...cheap, memoryCost: 65536, timeCost: 20 });
    process.kill(pid, 'SIGKILL');
    await expect(inProgress).rejects.toThrow(/password hasher/);
    expect(await worker.verify(await worker.hash('again', cheap), 'again')).toBe(true);
    expect(worker.pid).not.toBe(pid);
  });

  it('lets the operations in progress finish when it closes', async () => {
    const own = new HashWorker(1);
    const hashing = own.hash('finish me', cheap);
    await own.close();
    await expect(hashing).resolves.toMatch(/^\$argon2id\$/);
    expect(own.pid).toBeUndefined();
  });
});

it('hashes on every core by default', () => {
  expect(defaultHashConcurrency()).toBe(require('node:os').availableParallelism());
});
