import os from 'node:os';
import argon2 from 'argon2';
import { badInput } from '../../common/errors';
import { randomToken } from '../../common/crypto';
import { Semaphore } from '../../common/semaphore';
import type { Config } from '../../config';
import { isCommonPassword } from './common-passwords';

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

function defaultConcurrency(): number {
  // Leave a core and a libuv thread for everything else a request needs.
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(os.availableParallelism() - 1, threads - 1));
}

/** argon2id hashing behind a bounded queue. */
export class PasswordService {
  private readonly options: argon2.Options & { raw?: false };
  private readonly queue: Semaphore;
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
    this.queue = new Semaphore(config.hashing.concurrency ?? defaultConcurrency(), config.hashing.queueLimit);
  }

  get concurrency(): number {
    return this.queue.concurrency;
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
      return argon2.hash(password, this.options);
    });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    return this.queue.run(async () => {
      this.stats.verifies++;
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false; // a malformed stored hash never logs anyone in
      }
    });
  }

  /** Spends the same effort as a real check, for accounts that do not exist. Always false. */
  async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= argon2.hash(randomToken(), this.options);
    await this.verify(await this.dummyHash, password);
    return false;
  }

  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, this.options);
    } catch {
      return true;
    }
  }
}
