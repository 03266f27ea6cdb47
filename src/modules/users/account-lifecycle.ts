import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { conflict, DomainError, ErrorCode } from '../../common/errors';
import { audit, eraseAuditSubject, SYSTEM_ORIGIN, type AuditOrigin } from '../audit/audit';
import type { OneTimeTokenService } from '../auth/one-time-token.service';
import type { SessionService } from '../auth/session.service';
import { User } from './user.entity';
import { isLiveUser, LIVE_USER } from './user.rules';
import { UsernameReservation } from './username-reservation.entity';

/**
 * The rules every path that changes an account's standing shares: self-service (deleteMe), staff
 * (adminUpdateUser, adminDeleteUser, adminRestoreUser) and the cleanup job's purge.
 */

/** Every change that could remove a live superuser takes this lock first, on every instance. */
const SUPERUSERS_LOCK = 'posture.users:superusers';

/**
 * The account `id` for a change in `tx`: read afresh and row-locked, after the superusers' lock,
 * so the last-superuser check and the change it guards are one step (two staff demoting each
 * other at once are taken in turn, and the second finds the first's change). With `actorId`, the
 * caller must still be a live superuser at that moment (FORBIDDEN otherwise). Null for no account.
 */
export async function lockAccount(tx: EntityManager, id: string, actorId?: string | null): Promise<User | null> {
  await tx.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [SUPERUSERS_LOCK]);
  if (actorId !== undefined) {
    const staff = actorId !== null && (await tx.count(User, { id: actorId, isSuperuser: true, ...LIVE_USER })) > 0;
    if (!staff) throw new DomainError(ErrorCode.FORBIDDEN, 'Only administrators can do that.');
  }
  return tx.findOne(User, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true, populate: ['passwordHash'] });
}

export const isLiveSuperuser = (user: Pick<User, 'isSuperuser' | 'status' | 'deletedAt'>) => user.isSuperuser && isLiveUser(user);

/**
 * CONFLICT when `user`, a live superuser now, is the only one: demoting, disabling or deleting it
 * would leave no one to run the service. Call under lockAccount.
 */
export async function assertNotLastSuperuser(tx: EntityManager, user: User): Promise<void> {
  if (!isLiveSuperuser(user)) return;
  const others = await tx.count(User, { ...LIVE_USER, isSuperuser: true, id: { $ne: user.id } });
  if (others === 0) throw conflict('This is the last superuser: make another account a superuser first.');
}

/** Whether another account has `username`, or a sign-up holds it (see UsernameReservation). */
export async function isUsernameHeld(tx: EntityManager, username: string, now: Date, exceptUserId?: string): Promise<boolean> {
  return (
    (await tx.count(User, { username, ...(exceptUserId ? { id: { $ne: exceptUserId } } : {}) })) > 0 ||
    (await tx.count(UsernameReservation, { username, expiresAt: { $gt: now } })) > 0
  );
}

/** CONFLICT (field "username") when the username is held (isUsernameHeld). */
export async function assertUsernameFree(tx: EntityManager, username: string, now: Date, exceptUserId?: string): Promise<void> {
  if (await isUsernameHeld(tx, username, now, exceptUserId)) throw usernameTaken();
}

export const usernameTaken = () => conflict('This username is taken.', { field: 'username' });
const emailTaken = () => conflict('This email address already has an account.', { field: 'email' });

/** CONFLICT (field "email") when another account, a deleted one included, has the address. */
export async function assertEmailFree(tx: EntityManager, email: string, exceptUserId?: string): Promise<void> {
  const taken = await tx.count(User, { email, ...(exceptUserId ? { id: { $ne: exceptUserId } } : {}) });
  if (taken > 0) throw emailTaken();
}

/** A unique violation on the users table as the CONFLICT a check before it would have given (a race); anything else as it is. */
export function asConflict(err: unknown): unknown {
  if (!(err instanceof UniqueConstraintViolationException)) return err;
  const constraint = (err as { constraint?: string }).constraint;
  if (constraint === 'users_username_unique') return usernameTaken();
  if (constraint === 'users_email_live_unique') return emailTaken();
  return err;
}

export interface LifecycleDeps {
  clock: Clock;
  sessions: SessionService;
  oneTimeTokens: OneTimeTokenService;
}

/**
 * Soft-deletes a live or disabled account in `tx` (loaded with lockAccount): it stops working at
 * once (the session check wants a live user, and every session is revoked), its emailed tokens
 * die, and it keeps its email and username until it is purged or restored. Audited `user.deleted`.
 */
export async function softDeleteAccount(tx: EntityManager, user: User, deps: LifecycleDeps, origin: AuditOrigin): Promise<void> {
  await assertNotLastSuperuser(tx, user);
  const now = deps.clock.now();
  user.status = 'deleted';
  user.deletedAt = now;
  await deps.sessions.revokeAllSessions(tx, user.id, 'account_deleted');
  // Every emailed token dies: they were sent for an account that no longer acts.
  await deps.oneTimeTokens.retire(tx, user.id);
  audit(tx, origin, { action: 'user.deleted', targetType: 'user', targetId: user.id });
}

/** Brings a soft-deleted account back as active; audited `user.restored`. */
export function restoreAccount(tx: EntityManager, user: User, origin: AuditOrigin): void {
  user.status = 'active';
  user.deletedAt = null;
  audit(tx, origin, { action: 'user.restored', targetType: 'user', targetId: user.id });
}

/**
 * Removes an account and everything it owns, in `tx`: the row, and through its foreign keys its
 * sessions (with their refresh tokens), emailed tokens, profile and assessments; the leads it
 * converted from stay as staff's records but lose the link to it. Its mail and login links, which
 * hold its address, go too; the audit keeps its events with the personal data erased. Not other
 * people's data. Audited `user.deleted` with `changes.hard` or `changes.purged`. Returns false
 * when the row was already gone.
 */
export async function eraseAccount(tx: EntityManager, userId: string, origin: AuditOrigin, how: 'hard' | 'purged'): Promise<boolean> {
  const [row] = await tx.execute<Array<{ email: string }>>(`delete from users where id = ? returning email`, [userId]);
  if (!row) return false;
  await eraseAuditSubject(tx, userId);
  await tx.execute(`delete from outbox_emails where recipient = ?`, [row.email]);
  await tx.execute(`delete from login_links where email = ?`, [row.email]);
  // Written after the erasure, and with nothing personal in it.
  audit(tx, origin, { action: 'user.deleted', targetType: 'user', targetId: userId, changes: { [how]: true } });
  return true;
}

/**
 * The purge: erases the accounts deleted more than `retentionDays` ago, which frees their email
 * and username. Each in a transaction of its own, skipping one another instance is erasing, so
 * every instance may run it at once. Returns how many it erased.
 */
export async function purgeDeletedAccounts(em: EntityManager, retentionDays: number): Promise<number> {
  const due = `deleted_at is not null and deleted_at < now() - (? * interval '1 day')`;
  const rows = await em.execute<Array<{ id: string }>>(`select id from users where ${due} order by deleted_at limit 1000`, [retentionDays]);
  let erased = 0;
  for (const { id } of rows) {
    const done = await em.fork().transactional(async (tx) => {
      const [locked] = await tx.execute<Array<{ id: string }>>(`select id from users where id = ? and ${due} for update skip locked`, [id, retentionDays]);
      return locked ? eraseAccount(tx, id, SYSTEM_ORIGIN, 'purged') : false;
    });
    if (done) erased++;
  }
  return erased;
}
