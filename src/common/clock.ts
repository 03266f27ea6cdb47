/**
 * The time as the services see it. Production reads the system clock; tests move a manual one to
 * reach an expiry instead of sleeping. SQL compares against the time passed in, never `now()`, so
 * the database agrees with it.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The system time, moved forward by `advance`. */
export class ManualClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the clock forward by `seconds`. */
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
