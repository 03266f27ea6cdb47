import type { DomainError } from '../../common/errors';
import type { User } from '../users/user.entity';
import type { ClientMeta } from './session.service';

/** The ways in that end with tokens; each must pass the second step when the account has one. */
export type SignInMethod = 'password' | 'oidc' | 'link';

/** What the two-factor module plugs into the ways in. */
export interface SecondStepProvider {
  /** Whether `user` (a snapshot or an entity, as read by the way in) must pass a second step. Synchronous: no query. */
  required(user: Readonly<User>): boolean;
  /**
   * A new challenge for `user`, committed on its own (the caller's unit of work may roll back), as
   * the MFA_REQUIRED error to throw in place of tokens.
   */
  challenge(user: Readonly<User>, meta: ClientMeta, via: SignInMethod): Promise<DomainError>;
}

/**
 * The one place every way in (logIn, logInWithLink, completeOidcLogin) asks before it issues
 * tokens. Without a provider (no two-factor module) nothing is required.
 */
export class SignInGate {
  private provider: SecondStepProvider | undefined;

  use(provider: SecondStepProvider): void {
    this.provider = provider;
  }

  required(user: Readonly<User>): boolean {
    return this.provider?.required(user) ?? false;
  }

  /** Throws MFA_REQUIRED with a fresh challenge when `user` has a second step; otherwise returns. */
  async check(user: Readonly<User>, meta: ClientMeta, via: SignInMethod): Promise<void> {
    if (this.provider?.required(user)) throw await this.provider.challenge(user, meta, via);
  }

  /** The MFA_REQUIRED error for `user` (call only when `required(user)`). */
  async challenge(user: Readonly<User>, meta: ClientMeta, via: SignInMethod): Promise<DomainError> {
    if (!this.provider) throw new Error('no second step is configured');
    return this.provider.challenge(user, meta, via);
  }
}
