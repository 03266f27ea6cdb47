import { Store } from 'graphql-rate-limit';

type Identity = Parameters<Store['getForIdentity']>[0];

/**
 * graphql-rate-limit's InMemoryStore copies its whole state on every write and never forgets an
 * identity, so a spray of addresses or account names grows it and slows every check. This one is
 * a Map whose entries expire with their window and are swept as writes come in.
 */
export class MemoryStore extends Store {
  private readonly entries = new Map<string, { timestamps: readonly number[]; expiresAt: number }>();
  private writes = 0;

  get size(): number {
    return this.entries.size;
  }

  getForIdentity(identity: Identity): readonly number[] {
    const entry = this.entries.get(`${identity.contextIdentity}|${identity.fieldIdentity}`);
    return entry && entry.expiresAt > Date.now() ? entry.timestamps : [];
  }

  setForIdentity(identity: Identity, timestamps: readonly number[], windowMs = 60_000): void {
    const now = Date.now();
    const key = `${identity.contextIdentity}|${identity.fieldIdentity}`;
    if (timestamps.length === 0) this.entries.delete(key);
    else this.entries.set(key, { timestamps, expiresAt: timestamps[timestamps.length - 1]! + windowMs });
    if (++this.writes % 1000 === 0) this.sweep(now);
  }

  /** Drops every entry whose window has passed. */
  sweep(now = Date.now()): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
