import type { EntityManager } from '@mikro-orm/postgresql';
import { conflict, notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { publicLink } from '../../common/links';
import { changesBetween, type AdminAudit } from '../audit/audit';
import { DEFAULT_TIER_ID, Tier } from '../tiers/tier.entity';
import { assertAssessmentLimit } from '../tiers/tier.rules';
import { enqueueMail } from '../mail/mail.outbox';
import {
  asConflict,
  assertEmailFree,
  assertNotLastSuperuser,
  assertUsernameFree,
  eraseAccount,
  isLiveSuperuser,
  lockAccount,
  restoreAccount,
  softDeleteAccount,
} from './account-lifecycle';
import type { AccountDeps } from './account.service';
import type { AdminCreateUserInput, AdminUpdateUserInput } from './account.input';
import { Profile } from './profile.entity';
import { User } from './user.entity';
import { assertEmail, assertName, assertUsername } from './user.rules';

/** The fields of an account an audit entry compares before and after a staff change. */
const audited = (user: User, profile: Profile | null) => ({
  name: user.name,
  username: user.username,
  email: user.email,
  tierId: user.tierId,
  isSuperuser: user.isSuperuser,
  status: user.status,
  deletedAt: user.deletedAt,
  ...(profile ? { assessmentLimit: profile.assessmentLimit } : {}),
});

/**
 * Staff management of accounts: create (by invitation), change, disable, delete, restore, end
 * sessions. Each runs in one transaction with its audit entry; the ones that could remove a
 * superuser hold the superusers' lock (see lockAccount).
 */
export class AdminUserService {
  constructor(private readonly deps: AccountDeps) {}

  /** NOT_FOUND (field "tierId") unless the tier exists. */
  private async assertTier(tx: EntityManager, tierId: string): Promise<void> {
    if (!isUuid(tierId) || (await tx.count(Tier, { id: tierId })) === 0) throw notFound('Tier', 'tierId');
  }

  /**
   * Makes an account with no password and an unconfirmed address, and mails it an invitation: its
   * link (an `invitation` token) is redeemed by resetPassword, which sets the password and confirms
   * the address.
   */
  async create(em: EntityManager, input: AdminCreateUserInput, log: AdminAudit): Promise<User> {
    const email = assertEmail(input.email);
    const username = assertUsername(input.username);
    const name = assertName(input.name);
    const tierId = input.tierId ?? DEFAULT_TIER_ID;
    const isSuperuser = input.isSuperuser ?? false;
    const { oneTimeTokens, config, clock } = this.deps;
    try {
      return await em.transactional(async (tx) => {
        await this.assertTier(tx, tierId);
        await assertEmailFree(tx, email);
        await assertUsernameFree(tx, username, clock.now());
        const user = tx.create(User, { email, username, name, tierId, isSuperuser, passwordHash: null });
        const { token } = await oneTimeTokens.issue(tx, user, 'invitation');
        enqueueMail(tx, {
          template: 'invitation',
          to: email,
          name,
          username,
          inviteUrl: publicLink(config.publicUrl, 'accept-invitation', { token }),
          expiresInDays: Math.max(1, Math.round(config.tokens.invitationTtl / 86400)),
        });
        log.record(tx, { targetType: 'user', targetId: user.id, changes: changesBetween({}, { email, username, name, tierId, isSuperuser }) });
        return user;
      });
    } catch (err) {
      throw asConflict(err);
    }
  }

  /**
   * Changes an account. Disabling or demoting ends its sessions; the session check reads the
   * account on every request, so a tier change bites on the next one. CONFLICT for a deleted
   * account (restore it first) and for a change that would leave no live superuser.
   */
  async update(em: EntityManager, id: string, input: AdminUpdateUserInput, log: AdminAudit): Promise<User> {
    if (!isUuid(id)) throw notFound('User', 'id');
    const name = input.name != null ? assertName(input.name) : undefined;
    const username = input.username != null ? assertUsername(input.username) : undefined;
    const email = input.email != null ? assertEmail(input.email) : undefined;
    const limit = input.assessmentLimit;
    if (limit != null) assertAssessmentLimit(limit);
    const { sessions, clock } = this.deps;
    try {
      return await em.transactional(async (tx) => {
        const user = await lockAccount(tx, id, log.origin.actorId);
        if (!user) throw notFound('User', 'id');
        if (user.deletedAt) throw conflict('This account is deleted: restore it first.');
        const now = clock.now();
        const profile =
          limit !== undefined ? ((await tx.findOne(Profile, { user: id })) ?? tx.create(Profile, { user: id })) : null;
        const before = audited(user, profile);
        const status = input.disabled == null ? user.status : input.disabled ? 'disabled' : 'active';
        const isSuperuser = input.isSuperuser ?? user.isSuperuser;
        if (isLiveSuperuser(user) && !isLiveSuperuser({ isSuperuser, status, deletedAt: null })) await assertNotLastSuperuser(tx, user);

        if (username !== undefined && username !== user.username) {
          await assertUsernameFree(tx, username, now, id);
          user.username = username;
        }
        if (email !== undefined && email !== user.email) {
          await assertEmailFree(tx, email, id);
          user.email = email;
          await this.deps.oneTimeTokens.retire(tx, id); // they went to the old address
        }
        if (input.tierId != null && input.tierId !== user.tierId) {
          await this.assertTier(tx, input.tierId);
          user.tierId = input.tierId;
        }
        if (name !== undefined) user.name = name;
        user.isSuperuser = isSuperuser;
        user.status = status;
        if (profile && limit !== undefined) profile.assessmentLimit = limit;

        const lostAccess = (before.status === 'active' && user.status !== 'active') || (before.isSuperuser && !user.isSuperuser);
        if (lostAccess) await sessions.revokeAllSessions(tx, id, user.status === 'disabled' ? 'account_disabled' : 'demoted');
        log.record(tx, { targetType: 'user', targetId: id, changes: changesBetween(before, audited(user, profile)) });
        return user;
      });
    } catch (err) {
      throw asConflict(err);
    }
  }

  /** Soft delete (see softDeleteAccount), or with `hard` erasure (see eraseAccount). NOT_FOUND for no account. */
  async delete(em: EntityManager, id: string, hard: boolean, log: AdminAudit): Promise<true> {
    if (!isUuid(id)) throw notFound('User', 'id');
    await em.transactional(async (tx) => {
      const user = await lockAccount(tx, id, log.origin.actorId);
      if (!user) throw notFound('User', 'id');
      if (hard) {
        // A soft delete checks this itself (softDeleteAccount).
        await assertNotLastSuperuser(tx, user);
        await eraseAccount(tx, id, log.origin, 'hard');
        log.record(tx, { targetType: 'user', targetId: id, changes: { hard: true } });
        return;
      }
      const before = audited(user, null);
      if (!user.deletedAt) await softDeleteAccount(tx, user, this.deps, log.origin);
      log.record(tx, { targetType: 'user', targetId: id, changes: changesBetween(before, audited(user, null)) });
    });
    return true;
  }

  /** Undoes a soft delete while the account is kept (before its purge); an account that is not deleted comes back as it is. */
  async restore(em: EntityManager, id: string, log: AdminAudit): Promise<User> {
    if (!isUuid(id)) throw notFound('User', 'id');
    return em.transactional(async (tx) => {
      const user = await lockAccount(tx, id, log.origin.actorId);
      if (!user) throw notFound('User', 'id');
      const before = audited(user, null);
      if (user.deletedAt || user.status === 'deleted') restoreAccount(tx, user, log.origin);
      log.record(tx, { targetType: 'user', targetId: id, changes: changesBetween(before, audited(user, null)) });
      return user;
    });
  }

  /** Ends every live session of an account; returns how many. */
  async revokeSessions(em: EntityManager, id: string, log: AdminAudit): Promise<number> {
    if (!isUuid(id)) throw notFound('User', 'id');
    return em.transactional(async (tx) => {
      if ((await tx.count(User, { id })) === 0) throw notFound('User', 'id');
      const revoked = await this.deps.sessions.revokeAllSessions(tx, id, 'revoked_by_staff');
      log.record(tx, { targetType: 'user', targetId: id, changes: { revokedSessions: revoked } });
      return revoked;
    });
  }
}
