import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError, ErrorCode, invalidCredentials, invalidToken } from '../../common/errors';
import type { Clock } from '../../common/clock';
import { publicLink } from '../../common/links';
import type { Config } from '../../config';
import type { PreparedSql } from '../../db/pg-pool';
import { audit, auditNow, originFrom } from '../audit/audit';
import type { MailMessage } from '../mail/mail.messages';
import { enqueueMail, requestDeferredMail, type DeferredMailHandler } from '../mail/mail.outbox';
import { User } from '../users/user.entity';
import { assertEmail, assertName, assertUsername, EXISTING_USER, isLiveUser } from '../users/user.rules';
import { findLiveUserByEmail, findUserForLogin, replacePasswordHash } from '../users/user.service';
import { assertUsernameFree, usernameTaken } from '../users/account-lifecycle';
import { UsernameReservation } from '../users/username-reservation.entity';
import type { AddressProofs } from '../users/address-proof';
import type { LogInInput, SignUpInput } from './auth.input';
import type { OneTimeTokenService } from './one-time-token.service';
import { assertAcceptablePassword, PASSWORD_MAX, type PasswordService } from './password.service';
import type { SignInGate } from './second-step';
import type { ClientMeta, IssuedTokens, SessionService } from './session.service';

/** How long a username stays held after a sign-up that hit an existing email. */
const RESERVATION_DAYS = 30;

/** The kind of deferred email this service decides (see deferredMail). */
const VERIFICATION_REQUEST = 'auth.verify-email';

export interface AuthServiceDeps {
  config: Pick<Config, 'publicUrl' | 'tokens'>;
  sql: PreparedSql;
  clock: Clock;
  passwords: PasswordService;
  sessions: SessionService;
  oneTimeTokens: OneTimeTokenService;
  signInGate: SignInGate;
  addressProofs: AddressProofs;
}

/** Account rules: sign-up, verification and log-in (passwords: PasswordFlows). */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  /**
   * The mail worker's handlers for the requests that must answer alike for every address: each
   * runs after the response, in the worker's transaction, and decides what (if anything) to send.
   */
  readonly deferredMail: Record<string, DeferredMailHandler> = {
    [VERIFICATION_REQUEST]: (tx, email) => this.verificationMail(tx, email),
  };

  private link(path: string, params: Record<string, string> = {}): string {
    return publicLink(this.deps.config.publicUrl, path, params);
  }

  /**
   * Creates an unverified account and emails a verification link. An email that already has an
   * account gets a "someone tried to sign up" email, and the caller the same answer as for a new
   * account; only a taken username is reported (usernames are public).
   */
  async signUp(em: EntityManager, input: SignUpInput, meta: ClientMeta): Promise<User> {
    this.deps.passwords.assertCapacity();
    const email = assertEmail(input.email);
    const username = assertUsername(input.username);
    const name = assertName(input.name);
    assertAcceptablePassword(input.password, 'password', { email, username });
    // Hashed on every path, so that an existing email does not answer faster.
    const passwordHash = await this.deps.passwords.hash(input.password);

    for (let attempt = 0; ; attempt++) {
      try {
        return await em.transactional((tx) => this.createAccount(tx, { email, username, name, passwordHash }, meta));
      } catch (err) {
        const constraint = err instanceof UniqueConstraintViolationException ? (err as { constraint?: string }).constraint : undefined;
        if (constraint === 'users_username_unique' || constraint === 'username_reservations_pkey') throw usernameTaken();
        // A concurrent sign-up took the email first: go round once more and take the existing-account path.
        if (constraint === 'users_email_live_unique' && attempt === 0) continue;
        throw err;
      }
    }
  }

  private async createAccount(
    tx: EntityManager,
    fields: { email: string; username: string; name: string; passwordHash: string },
    meta: ClientMeta,
  ): Promise<User> {
    const now = new Date();
    await assertUsernameFree(tx, fields.username, now);

    const existing = await findLiveUserByEmail(tx, fields.email);
    if (existing) {
      await tx.upsert(UsernameReservation, {
        username: fields.username,
        expiresAt: new Date(now.getTime() + RESERVATION_DAYS * 86400_000),
      });
      // A deleted account holds its address until it is purged: the same answer, but no mail,
      // since its owner asked to be gone and nothing in it would work.
      if (!existing.deletedAt) {
        const verifyUrl = existing.emailVerified ? undefined : await this.verificationLink(tx, existing);
        enqueueMail(tx, {
          template: 'sign-up-attempt',
          to: existing.email,
          name: existing.name,
          logInUrl: this.link('log-in'),
          resetUrl: this.link('forgot-password'),
          verifyUrl,
        });
      }
      // Looks like a new account and is not one: nothing is stored under this id.
      return Object.assign(new User(), { ...fields, id: randomUUID(), createdAt: now, passwordHash: undefined });
    }

    const user = tx.create(User, fields);
    audit(tx, originFrom(meta, user.id), { action: 'user.signed_up', targetType: 'user', targetId: user.id });
    await this.queueVerificationEmail(tx, user);
    return user;
  }

  private async queueVerificationEmail(tx: EntityManager, user: User): Promise<void> {
    enqueueMail(tx, await this.verificationMessage(tx, user));
  }

  private async verificationMessage(tx: EntityManager, user: User): Promise<MailMessage> {
    return {
      template: 'verify-email',
      to: user.email,
      name: user.name,
      verifyUrl: await this.verificationLink(tx, user),
      expiresInHours: Math.round(this.deps.config.tokens.emailVerificationTtl / 3600),
    };
  }

  private async verificationLink(tx: EntityManager, user: User): Promise<string> {
    const { token } = await this.deps.oneTimeTokens.issue(tx, user, 'verify_email');
    return this.link('verify-email', { token });
  }

  async verifyEmail(em: EntityManager, token: string, meta: ClientMeta): Promise<true> {
    await em.transactional(async (tx) => {
      const redeemed = await this.deps.oneTimeTokens.redeem(tx, token, 'verify_email');
      if (!redeemed) throw invalidToken();
      // Written at commit: a refusal below rolls it back with the rest.
      audit(tx, originFrom(meta, redeemed.userId), { action: 'user.verified', targetType: 'user', targetId: redeemed.userId });
      const user = await tx.findOne(User, { id: redeemed.userId, ...EXISTING_USER });
      // The token proves the address it was sent to, not whatever the account uses now.
      if (!user || user.email !== redeemed.email) throw invalidToken();
      if (!user.emailVerified) {
        // The link proves the address: what the account's unproven creator attached goes, and so
        // do its sessions (a sign-up has none; a provider sign-in without a verified email has).
        await this.deps.addressProofs.firstProof(tx, user);
        await this.deps.sessions.revokeAllSessions(tx, user.id, 'email_proved');
        user.emailVerifiedAt = new Date();
      }
    });
    return true;
  }

  /** Always succeeds; an unverified live account is mailed a fresh link after the response. */
  async resendVerificationEmail(em: EntityManager, rawEmail: string): Promise<true> {
    await requestDeferredMail(em, VERIFICATION_REQUEST, rawEmail);
    return true;
  }

  private async verificationMail(tx: EntityManager, email: string): Promise<MailMessage | null> {
    const user = await findLiveUserByEmail(tx, email);
    if (!user || user.emailVerified || !isLiveUser(user)) return null;
    return this.verificationMessage(tx, user);
  }

  /**
   * INVALID_CREDENTIALS for an unknown account or a wrong password, after the same argon2 work.
   * Outside the ORM: one prepared lookup and one insert (see PreparedSql), since a logIn's cost
   * beside argon2 is what a flood of them multiplies.
   */
  async logIn(input: LogInInput, meta: ClientMeta): Promise<IssuedTokens> {
    const { passwords, sessions, sql, clock } = this.deps;
    passwords.assertCapacity();
    if ([...input.password].length > PASSWORD_MAX) return this.refuseLogIn(meta, null, 'password_too_long');
    const found = await findUserForLogin(sql, input.usernameOrEmail);
    if (!found) {
      await passwords.verifyDummy(input.password);
      return this.refuseLogIn(meta, null, 'unknown_account');
    }
    const { user, passwordHash } = found;
    if (passwordHash === null) {
      // An account made by a login link has no password yet: the same work, the same answer.
      await passwords.verifyDummy(input.password);
      return this.refuseLogIn(meta, user.id, 'no_password');
    }
    if (!(await passwords.verify(passwordHash, input.password))) return this.refuseLogIn(meta, user.id, 'wrong_password');
    if (!isLiveUser(user)) return this.refuseLogIn(meta, user.id, 'not_active');
    if (!user.emailVerified) {
      return this.refuseLogIn(meta, user.id, 'not_verified', new DomainError(ErrorCode.EMAIL_NOT_VERIFIED, 'Confirm your email address before logging in.'));
    }
    if (passwords.needsRehash(passwordHash)) {
      await replacePasswordHash(sql, user.id, passwordHash, await passwords.hash(input.password), clock.now());
    }
    await this.deps.signInGate.check(user, meta, 'password');
    return sessions.start(sql, user, meta);
  }

  /**
   * Records a refused logIn (`user.login_failed`: no actor, the account as target when there is
   * one, the reason; never the password or the name typed) and throws `error`. Every refusal after
   * the lookup writes this one row, so known and unknown accounts still take the same time.
   */
  private async refuseLogIn(meta: ClientMeta, userId: string | null, reason: LogInFailure, error = invalidCredentials()): Promise<never> {
    await auditNow(this.deps.sql, originFrom(meta, null), {
      action: 'user.login_failed',
      targetType: userId ? 'user' : undefined,
      targetId: userId,
      changes: { reason },
    });
    throw error;
  }
}

/** Why a logIn was refused, as `changes.reason` of its `user.login_failed` event. */
type LogInFailure = 'password_too_long' | 'unknown_account' | 'no_password' | 'wrong_password' | 'not_active' | 'not_verified';

