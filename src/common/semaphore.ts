import { busy } from './errors';

/**
 * Runs at most `concurrency` tasks at once with at most `queueLimit` waiting; beyond that it
 * refuses at once (RATE_LIMITED), so a flood is turned away instead of piling up behind a timeout.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {}

  /** Whether a task started now would run or wait rather than be refused. */
  hasCapacity(): boolean {
    return this.active < this.concurrency || this.waiting.length < this.queueLimit;
  }

  /** RATE_LIMITED now if a task would be refused, before the caller spends anything on it. */
  assertCapacity(): void {
    if (!this.hasCapacity()) throw busy();
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) throw busy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
