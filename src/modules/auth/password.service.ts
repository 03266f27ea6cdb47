import os from 'node:os';
import argon2 from 'argon2';
import { badInput } from '../../common/errors';
import { randomToken } from '../../common/crypto';
import { Semaphore } from '../../common/semaphore';
import type { Config } from '../../config';
import { isCommonPassword } from './common-passwords';
import { HashWorker, type HashParameters } from './hash-worker';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

/** Checks a new password; throws BAD_USER_INPUT naming `field`. Length counts characters, not bytes. */
export function assertAcceptablePassword(
  password: string,
  field: string,
  personal: { email?: string; username?: string } = {},
): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw badInput(field, `Password must be at least ${PASSWORD_MIN} characters.`);
  if (length > PASSWORD_MAX) throw badInput(field, `Password must be at most ${PASSWORD_MAX} characters.`);
  if (isCommonPassword(password)) throw badInput(field, 'This password is too common; choose another.');
  const lower = password.toLowerCase();
  if (lower === personal.email?.toLowerCase() || lower === personal.username?.toLowerCase()) {
    throw badInput(field, 'Password must not be your email or username.');
  }
}

/**
 * Every core: hashing runs at the lowest CPU priority (see HashWorker), so it takes only what
 * requests that need no hash leave idle.
 */
export const defaultHashConcurrency = (): number => os.availableParallelism();

/** argon2id hashing behind a bounded queue, in a low-priority child process. */
export class PasswordService {
  private readonly options: HashParameters;
  /** How a hash made with the current parameters begins (argon2's own PHC form). */
  private readonly currentPrefix: string;
  private readonly queue: Semaphore;
  private readonly worker: HashWorker;
  private dummyHash: Promise<string> | undefined;
  /** Counts of argon2 operations actually run (read by tests and benchmarks). */
  readonly stats = { hashes: 0, verifies: 0 };

  constructor(config: Pick<Config, 'argon2' | 'hashing'>) {
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.argon2.memoryCost,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
    };
    const { memoryCost: m, timeCost: t, parallelism: p } = this.options;
    this.currentPrefix = `$argon2id$v=19$m=${m},t=${t},p=${p}$`;
    const concurrency = config.hashing.concurrency ?? defaultHashConcurrency();
    // The child runs `concurrency` at once and holds as many more queued: a thread that finishes
    // starts the next one at once, instead of idling until this process gets a core to send it.
    this.queue = new Semaphore(concurrency * 2, config.hashing.queueLimit);
    this.worker = new HashWorker(concurrency);
  }

  hasCapacity(): boolean {
    return this.queue.hasCapacity();
  }

  /** Refuses (RATE_LIMITED) when the hashing queue is full, so a flood is turned away before any lookup. */
  assertCapacity(): void {
    this.queue.assertCapacity();
  }

  hash(password: string): Promise<string> {
    return this.queue.run(() => {
      this.stats.hashes++;
      return this.worker.hash(password, this.options);
    });
  }

  /** false for a wrong password, and for a malformed stored hash: it never logs anyone in. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.queue.run(() => {
      this.stats.verifies++;
      return this.worker.verify(hash, password);
    });
  }

  /** Spends the same effort as a real check, for accounts that do not exist. Always false. */
  async verifyDummy(password: string): Promise<false> {
    // Made once, outside the queue: a full queue must not leave a refusal here for good.
    this.dummyHash ??= this.worker.hash(randomToken(), this.options).catch((err: unknown) => {
      this.dummyHash = undefined;
      throw err;
    });
    await this.verify(await this.dummyHash, password);
    return false;
  }

  /** Stops the hashing process (the application is stopping). */
  close(): Promise<void> {
    return this.worker.close();
  }

  needsRehash(hash: string): boolean {
    // Nearly every stored hash was made with today's parameters: a string compare, not a PHC parse.
    if (hash.startsWith(this.currentPrefix)) return false;
    try {
      return argon2.needsRehash(hash, this.options);
    } catch {
      return true;
    }
  }
}
