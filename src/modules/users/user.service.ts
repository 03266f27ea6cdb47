import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { Context } from '../../graphql/context';
import type { PreparedSql, PreparedStatement } from '../../db/pg-pool';
import { User } from './user.entity';
import { EXISTING_USER, existingUserSql, parseLoginName } from './user.rules';
import { userSnapshots, type UserRow } from './user.snapshot';

/** An existing account found by its login name: a read-only snapshot, and its password hash apart. */
export interface LoginCandidate {
  user: Readonly<User>;
  passwordHash: string | null;
}

const loginStatements = new WeakMap<PreparedSql['metadata'], { email: PreparedStatement; username: PreparedStatement }>();

/**
 * The existing account a login name (email or username, any case) belongs to, with its password
 * hash: one prepared statement, since logIn is the path an attacker drives hardest.
 */
export async function findUserForLogin(db: PreparedSql, usernameOrEmail: string): Promise<LoginCandidate | null> {
  const snapshots = userSnapshots(db.metadata);
  let statements = loginStatements.get(db.metadata);
  if (!statements) {
    const by = (column: 'email' | 'username'): PreparedStatement => ({
      name: `posture_login_by_${column}`,
      text: `select ${snapshots.select('u')}, u.password_hash as "passwordHash"
               from users u where u.${column} = $1 and ${existingUserSql('u')}`,
    });
    statements = { email: by('email'), username: by('username') };
    loginStatements.set(db.metadata, statements);
  }
  const name = parseLoginName(usernameOrEmail);
  const [row] = await db.query<UserRow & { passwordHash: string | null }>(
    'email' in name ? statements.email : statements.username,
    ['email' in name ? name.email : name.username],
  );
  return row ? { user: snapshots.read(row), passwordHash: row.passwordHash } : null;
}

const REHASH: PreparedStatement = {
  name: 'posture_rehash_password',
  text: 'update users set password_hash = $3, updated_at = $4 where id = $1 and password_hash = $2',
};

/** Replaces a password hash made with older parameters, unless it has changed since it was read. */
export async function replacePasswordHash(db: PreparedSql, userId: string, old: string, fresh: string, now: Date): Promise<void> {
  await db.query(REHASH, [userId, old, fresh, now]);
}

/** The account holding an address, whatever its status: a deleted one too, until it is purged (see EXISTING_USER). */
export function findLiveUserByEmail(em: EntityManager, email: string): Promise<User | null> {
  return em.findOne(User, { email, ...EXISTING_USER });
}

/** The request's loader of accounts by id (any state): null for one that is gone (hard-deleted or purged). */
export const userLoader = (ctx: Pick<Context, 'em' | 'loader'>) =>
  ctx.loader(
    'users.byId',
    () =>
      new DataLoader<string, User | null>(async (ids) => {
        const users = await ctx.em.find(User, { id: { $in: [...ids] } });
        const byId = new Map(users.map((u) => [u.id, u]));
        return ids.map((id) => byId.get(id) ?? null);
      }),
  );
