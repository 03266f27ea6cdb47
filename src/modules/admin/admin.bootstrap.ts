import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '../../common/errors';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { assertAcceptablePassword, type PasswordService } from '../auth/password.service';
import { User } from '../users/user.entity';
import { assertEmail, assertUsername } from '../users/user.rules';
import { findLiveUserByEmail } from '../users/user.service';

/**
 * Creates the configured administrator as a verified superuser if no live account has that email.
 * An existing account is left exactly as it is, password included.
 */
export async function ensureAdmin(
  em: EntityManager,
  admin: NonNullable<Config['admin']>,
  passwords: PasswordService,
  logger: Logger,
): Promise<void> {
  let email: string;
  let username: string;
  try {
    email = assertEmail(admin.email, 'ADMIN_EMAIL');
    username = assertUsername(admin.username, 'ADMIN_USERNAME');
    assertAcceptablePassword(admin.password, 'ADMIN_PASSWORD', { email, username });
  } catch (err) {
    if (err instanceof DomainError) throw new Error(`${String(err.details.field)}: ${err.message}`);
    throw err;
  }
  const existing = await findLiveUserByEmail(em, email);
  if (existing) {
    if (!existing.isSuperuser) logger.warn({ email }, 'ADMIN_EMAIL belongs to an account that is not a superuser; left as it is');
    return;
  }
  if ((await em.count(User, { username })) > 0) {
    throw new Error(`ADMIN_USERNAME: "${username}" is taken by another account; choose another`);
  }
  em.create(User, {
    email,
    username,
    name: 'Administrator',
    passwordHash: await passwords.hash(admin.password),
    emailVerifiedAt: new Date(),
    isSuperuser: true,
  });
  try {
    await em.flush();
    logger.info({ email, username }, 'created the administrator account');
  } catch (err) {
    // Another instance starting at the same moment created it first.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
  }
}
