import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { badInput, invalidCredentials, invalidToken, notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { publicLink } from '../../common/links';
import type { Config } from '../../config';
import type { Viewer } from '../../graphql/context';
import { audit, changesBetween, type AuditOrigin } from '../audit/audit';
import type { OneTimeTokenService } from '../auth/one-time-token.service';
import type { PasswordService } from '../auth/password.service';
import { Session } from '../auth/session.entity';
import type { SessionService } from '../auth/session.service';
import { enqueueMail } from '../mail/mail.outbox';
import { exportAccountData } from './account-export';
import { asConflict, assertEmailFree, assertUsernameFree, lockAccount, softDeleteAccount } from './account-lifecycle';
import type { UpdateMeInput } from './account.input';
import type { PublicUser, SessionInfo } from './account.type';
import { User } from './user.entity';
import { assertAvatarUrl, assertEmail, assertName, assertUsername, isLiveUser, LIVE_USER, liveUserSql, normalizeUsername, USERNAME_PATTERN } from './user.rules';

type Db = Pick<EntityManager, 'execute'>;

/** What the account services need; the auth module's services are read when first used (see users.module). */
export interface AccountDeps {
  config: Pick<Config, 'publicUrl' | 'tokens'>;
  clock: Clock;
  readonly passwords: PasswordService;
  readonly sessions: SessionService;
  readonly oneTimeTokens: OneTimeTokenService;
}

/** The live sessions of an account, most recently used first. */
async function liveSessionsOf(db: Db, userId: string, now: Date, currentSessionId: string | undefined): Promise<SessionInfo[]> {
  const rows = await db.execute<Array<{ id: string; created_at: string | Date; last_used_at: string | Date | null; user_agent: string | null; ip: string | null }>>(
    `select id, created_at, last_used_at, user_agent, ip from sessions
      where user_id = ? and revoked_at is null and expires_at > ?
      order by coalesce(last_used_at, created_at) desc, id`,
    [userId, now],
  );
  return rows.map((r) => ({
    id: r.id,
    createdAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
    userAgent: r.user_agent,
    ip: r.ip,
    current: r.id === currentSessionId,
  }));
}

/** Self-service: what a signed-in person may do to their own account, and the public view of any. */
export class AccountService {
  constructor(private readonly deps: AccountDeps) {}

  private link(path: string, params: Record<string, string> = {}): string {
    return publicLink(this.deps.config.publicUrl, path, params);
  }

  /** The public face of a live account; null for an unknown, disabled or deleted one. */
  async publicUser(db: Db, raw: string): Promise<PublicUser | null> {
    const username = normalizeUsername(raw);
    if (!USERNAME_PATTERN.test(username)) return null;
    const [row] = await db.execute<Array<{ username: string; name: string; avatar_url: string | null }>>(
      `select u.username, u.name, u.avatar_url from users u where u.username = ? and ${liveUserSql('u')}`,
      [username],
    );
    return row ? { username: row.username, name: row.name, avatarUrl: row.avatar_url } : null;
  }

  /**
   * Changes the caller's name, username and avatar at once. A new email only starts a change: see
   * requestEmailChange. Role, tier, verification and the rest are not in the input at all.
   */
  async updateMe(em: EntityManager, viewer: Viewer, input: UpdateMeInput): Promise<User> {
    const name = input.name != null ? assertName(input.name) : undefined;
    const username = input.username != null ? assertUsername(input.username) : undefined;
    const avatarUrl = input.avatarUrl !== undefined ? assertAvatarUrl(input.avatarUrl) : undefined;
    const email = input.email != null ? assertEmail(input.email) : undefined;
    try {
      return await em.transactional(async (tx) => {
        const user = await tx.findOne(User, { id: viewer.user.id, ...LIVE_USER }, { refresh: true });
        if (!user) throw notFound('User', 'id'); // deleted or disabled since the request began
        if (username !== undefined && username !== user.username) {
          await assertUsernameFree(tx, username, this.deps.clock.now(), user.id);
          user.username = username;
        }
        if (name !== undefined) user.name = name;
        if (avatarUrl !== undefined) user.avatarUrl = avatarUrl;
        if (email !== undefined && email !== user.email) await this.requestEmailChange(tx, user, email);
        return user;
      });
    } catch (err) {
      throw asConflict(err);
    }
  }

  /**
   * Mails the new address a confirmation link (a change_email token naming it) and the current one
   * a notice. An address that already has an account gets no token that could take it, only word
   * that it has one: the caller's answer is the same either way. Earlier pending changes die.
   */
  private async requestEmailChange(tx: EntityManager, user: User, email: string): Promise<void> {
    const { oneTimeTokens, config } = this.deps;
    await oneTimeTokens.retire(tx, user.id, 'change_email');
    const holder = await tx.findOne(User, { email });
    if (holder) {
      enqueueMail(tx, {
        template: 'email-change-address-taken',
        to: email,
        name: holder.name,
        logInUrl: this.link('log-in'),
        resetUrl: this.link('forgot-password'),
      });
    } else {
      const { token } = await oneTimeTokens.issue(tx, user, 'change_email', email);
      enqueueMail(tx, {
        template: 'email-change-confirm',
        to: email,
        name: user.name,
        confirmUrl: this.link('confirm-email-change', { token }),
        expiresInHours: Math.max(1, Math.round(config.tokens.emailChangeTtl / 3600)),
      });
    }
    enqueueMail(tx, { template: 'email-change-notice', to: user.email, name: user.name, newEmail: email, resetUrl: this.link('forgot-password') });
  }

  /**
   * Follows an email-change link: the account moves to the address the token names, which it
   * proves (so it is verified). The address must still be free. Tokens sent to the old address
   * (verification, reset, other changes) die with it. Audited `user.email_changed`.
   */
  async confirmEmailChange(em: EntityManager, token: string, origin: AuditOrigin): Promise<User> {
    try {
      return await em.transactional(async (tx) => {
        const redeemed = await this.deps.oneTimeTokens.redeem(tx, token, 'change_email');
        if (!redeemed) throw invalidToken();
        const user = await tx.findOne(User, { id: redeemed.userId, ...LIVE_USER }, { refresh: true });
        if (!user) throw invalidToken();
        await assertEmailFree(tx, redeemed.email, user.id);
        const now = this.deps.clock.now();
        const before = { email: user.email };
        user.email = redeemed.email;
        user.emailVerifiedAt = now;
        await this.deps.oneTimeTokens.retire(tx, user.id); // every other token went to the old address
        audit(tx, origin, {
          action: 'user.email_changed',
          actorId: user.id, // the token speaks for the account, signed in or not
          targetType: 'user',
          targetId: user.id,
          changes: changesBetween(before, { email: user.email }),
        });
        return user;
      });
    } catch (err) {
      throw asConflict(err);
    }
  }

  /**
   * Soft-deletes the caller's account (see softDeleteAccount). An account with a password must
   * give it: BAD_USER_INPUT when missing, INVALID_CREDENTIALS when wrong. CONFLICT for the last
   * live superuser.
   */
  async deleteMe(em: EntityManager, viewer: Viewer, password: string | null | undefined, origin: AuditOrigin): Promise<true> {
    const { passwords } = this.deps;
    const found = await em.fork().findOne(User, { id: viewer.user.id }, { populate: ['passwordHash'] });
    const hash = found?.passwordHash ?? null;
    if (hash !== null) {
      if (!password) throw badInput('password', 'password: enter your password to delete your account.');
      passwords.assertCapacity();
      if (!(await passwords.verify(hash, password))) throw invalidCredentials();
    }
    await em.transactional(async (tx) => {
      const user = await lockAccount(tx, viewer.user.id);
      if (!user || !isLiveUser(user)) return; // deleted or disabled meanwhile: nothing left to do here
      // The password checked must still be the account's (not changed by a request in between).
      if (user.passwordHash !== hash) throw invalidCredentials();
      await softDeleteAccount(tx, user, this.deps, origin);
    });
    return true;
  }

  /** Ends one of the caller's live sessions; NOT_FOUND for any other id. Audited `session.revoked`. */
  async revokeSession(em: EntityManager, viewer: Viewer, id: string, origin: AuditOrigin): Promise<true> {
    if (!isUuid(id)) throw notFound('Session', 'id');
    await em.transactional(async (tx) => {
      const now = this.deps.clock.now();
      const revoked = await tx.nativeUpdate(
        Session,
        { id, user: viewer.user.id, revokedAt: null, expiresAt: { $gt: now } },
        { revokedAt: now, revokedReason: 'revoked' },
      );
      if (revoked === 0) throw notFound('Session', 'id');
      audit(tx, origin, { action: 'session.revoked', targetType: 'session', targetId: id });
    });
    return true;
  }

  /** An account's live sessions; `current` marks the asking request's own. */
  liveSessions(db: Db, userId: string, currentSessionId: string | undefined): Promise<SessionInfo[]> {
    return liveSessionsOf(db, userId, this.deps.clock.now(), currentSessionId);
  }

  exportMyData(db: Db, viewer: Viewer): Promise<Record<string, unknown>> {
    return exportAccountData(db, viewer.user.id, this.deps.clock.now());
  }
}
