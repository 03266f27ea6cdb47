import type { EntityManager } from '@mikro-orm/postgresql';
import type { User } from './user.entity';

/** Undoes, in the proving transaction, one kind of access the account's unproven creator attached. */
export type UnprovenAccessRevoker = (tx: EntityManager, user: User) => Promise<void>;

/**
 * The one place that says what an account loses when its address is proved for the first time (a
 * verification link, a password reset, a login link, or a provider that verifies the address).
 * Whoever made an unverified account never proved the address, so what they attached must not
 * survive the real owner's proof: modules that attach ways in register here (the OpenID Connect
 * module drops linked identities, the two-factor module an enrolment), and every proof runs them.
 */
export class AddressProofs {
  private readonly revokers: UnprovenAccessRevoker[] = [];

  /** Registers what to undo when an unverified account's address is proved. */
  onFirstProof(revoker: UnprovenAccessRevoker): void {
    this.revokers.push(revoker);
  }

  /** Call in the transaction that verifies `user` (managed by `tx`), which was not verified before. */
  async firstProof(tx: EntityManager, user: User): Promise<void> {
    for (const revoke of this.revokers) await revoke(tx, user);
  }
}
