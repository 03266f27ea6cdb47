import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, DomainError, ErrorCode, invalidCredentials, invalidToken } from '../../common/errors';
import { publicLink } from '../../common/links';
import { audit, originFrom } from '../audit/audit';
import type { MailMessage } from '../mail/mail.messages';
import { enqueueMail, requestDeferredMail, type DeferredMailHandler } from '../mail/mail.outbox';
import { User } from '../users/user.entity';
import { isLiveUser, LIVE_USER, normalizeEmail } from '../users/user.rules';
import { findLiveUserByEmail } from '../users/user.service';
import type { ChangePasswordInput, ResetPasswordInput } from './auth.input';
import type { AuthServiceDeps } from './auth.service';
import { assertAcceptablePassword } from './password.service';
import type { ClientMeta, IssuedTokens } from './session.service';

/** The kind of deferred email this service decides (see deferredMail). */
const PASSWORD_RESET_REQUEST = 'auth.password-reset';

/**
 * Passwords after sign-up: a reset by emailed link or code (an invitation's link included), and a
 * change by the signed-in owner. Both end every session and mail the owner.
 */
export class PasswordFlows {
  constructor(private readonly deps: Omit<AuthServiceDeps, 'sql' | 'clock' | 'signInGate'>) {}

  /** The mail worker's handler for reset requests, decided after the response (see AuthService.deferredMail). */
  readonly deferredMail: Record<string, DeferredMailHandler> = {
    [PASSWORD_RESET_REQUEST]: (tx, email) => this.passwordResetMail(tx, email),
  };

  private link(path: string, params: Record<string, string> = {}): string {
    return publicLink(this.deps.config.publicUrl, path, params);
  }

  /** Always succeeds; a live account is mailed a link and a code after the response. */
  async requestPasswordReset(em: EntityManager, rawEmail: string): Promise<true> {
    await requestDeferredMail(em, PASSWORD_RESET_REQUEST, rawEmail);
    return true;
  }

  /** The reset email of a live account, with a new link token and code (which retire earlier ones). */
  private async passwordResetMail(tx: EntityManager, email: string): Promise<MailMessage | null> {
    const user = await findLiveUserByEmail(tx, email);
    if (!user || !isLiveUser(user)) return null;
    const { token, code } = await this.deps.oneTimeTokens.issue(tx, user, 'reset_password');
    return {
      template: 'password-reset',
      to: user.email,
      name: user.name,
      resetUrl: this.link('reset-password', { token }),
      code: code!,
      expiresInMinutes: Math.round(this.deps.config.tokens.passwordResetTtl / 60),
      codeExpiresInMinutes: Math.round(this.deps.config.tokens.passwordResetCodeTtl / 60),
    };
  }

  /**
   * Sets a new password from an emailed link token or code. Ends every session and does not log in.
   * Succeeding also confirms the email address, since the secret was delivered there.
   */
  async resetPassword(em: EntityManager, input: ResetPasswordInput, meta: ClientMeta): Promise<true> {
    const byToken = Boolean(input.token);
    if (byToken === Boolean(input.email || input.code) || (!byToken && !(input.email && input.code))) {
      throw badInput('token', 'Give either token, or email and code.');
    }
    assertAcceptablePassword(input.newPassword, 'newPassword');
    this.deps.passwords.assertCapacity();
    const passwordHash = await this.deps.passwords.hash(input.newPassword);

    const outcome = await em.transactional(async (tx) => {
      let userId: string;
      let email: string;
      if (byToken) {
        // An invitation (adminCreateUser) is redeemed here too: it sets the first password.
        const redeemed = await this.deps.oneTimeTokens.redeem(tx, input.token!, ['reset_password', 'invitation']);
        if (!redeemed) return 'invalid';
        ({ userId, email } = redeemed);
      } else {
        const owner = await findLiveUserByEmail(tx, normalizeEmail(input.email!));
        if (!owner) return 'invalid';
        // A wrong code is counted and committed: return rather than throw.
        const check = await this.deps.oneTimeTokens.redeemResetCode(tx, owner.id, input.code!.trim());
        if (!check.ok) return 'invalid';
        ({ userId, email } = check.token);
      }
      audit(tx, originFrom(meta, userId), { action: 'user.password_reset', targetType: 'user', targetId: userId });
      const user = await tx.findOne(User, { id: userId, ...LIVE_USER });
      if (!user || user.email !== email) throw invalidToken();
      assertAcceptablePassword(input.newPassword, 'newPassword', { email: user.email, username: user.username });

      user.passwordHash = passwordHash;
      if (!user.emailVerified) {
        // The reset proves the address: what the account's unproven creator attached goes.
        await this.deps.addressProofs.firstProof(tx, user);
        user.emailVerifiedAt = new Date();
      }
      await this.deps.oneTimeTokens.retire(tx, user.id, ['reset_password', 'invitation']);
      await this.deps.sessions.revokeAllSessions(tx, user.id, 'password_reset');
      this.passwordChangedMail(tx, user);
      return 'done';
    });
    if (outcome === 'invalid') throw invalidToken();
    return true;
  }

  /** Checks the current password, sets the new one, ends every other session, returns a fresh one. */
  async changePassword(em: EntityManager, userId: string, input: ChangePasswordInput, meta: ClientMeta): Promise<IssuedTokens> {
    this.deps.passwords.assertCapacity();
    const user = await em.findOneOrFail(User, { id: userId }, { populate: ['passwordHash'] });
    const current = user.passwordHash;
    if (current === null && !user.emailVerified) {
      // A first password is for the address's owner: an unproved account's maker (a provider
      // sign-in without a verified email) must not plant one that outlives the owner's proof.
      throw new DomainError(ErrorCode.EMAIL_NOT_VERIFIED, 'Confirm your email address before setting a password.');
    }
    if (current !== null) {
      if (!input.currentPassword) throw badInput('currentPassword', 'currentPassword: enter the password in use now.');
      if (!(await this.deps.passwords.verify(current, input.currentPassword))) throw invalidCredentials();
    }
    assertAcceptablePassword(input.newPassword, 'newPassword', { email: user.email, username: user.username });
    if (input.newPassword === input.currentPassword) throw badInput('newPassword', 'Choose a password different from the current one.');
    const passwordHash = await this.deps.passwords.hash(input.newPassword);

    const tokens = await em.transactional(async (tx) => {
      audit(tx, originFrom(meta, userId), { action: 'user.password_changed', targetType: 'user', targetId: userId });
      // Only over the hash that was checked: a change that raced this one (a first password set
      // twice at once, say) has made that proof stale.
      const replaced = await tx.nativeUpdate(User, { id: userId, passwordHash: current }, { passwordHash, updatedAt: new Date() });
      if (replaced === 0) throw invalidCredentials();
      const fresh = await tx.findOneOrFail(User, { id: userId });
      // Every session ends, this one included; the caller continues in the new one returned here.
      await this.deps.sessions.revokeAllSessions(tx, userId, 'password_changed');
      await this.deps.oneTimeTokens.retire(tx, userId, 'reset_password');
      this.passwordChangedMail(tx, fresh);
      return this.deps.sessions.startIn(tx, fresh, meta);
    });
    return tokens;
  }

  private passwordChangedMail(tx: EntityManager, user: User): void {
    enqueueMail(tx, {
      template: 'password-changed',
      to: user.email,
      name: user.name,
      changedAt: new Date().toISOString(),
      resetUrl: this.link('forgot-password'),
    });
  }
}
