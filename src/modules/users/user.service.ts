import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from './user.entity';
import { EXISTING_USER, parseLoginName } from './user.rules';

/** The live account a login name (email or username, any case) belongs to, with its password hash. */
export function findUserForLogin(em: EntityManager, usernameOrEmail: string): Promise<User | null> {
  return em.findOne(User, { ...parseLoginName(usernameOrEmail), ...EXISTING_USER }, { populate: ['passwordHash'] });
}

export function findLiveUserByEmail(em: EntityManager, email: string): Promise<User | null> {
  return em.findOne(User, { email, ...EXISTING_USER });
}
