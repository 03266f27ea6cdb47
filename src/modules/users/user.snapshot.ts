import { User, type UserStatus } from './user.entity';

export interface UserRow {
  id: string;
  created_at: string | Date;
  updated_at: string | Date;
  email: string;
  username: string;
  name: string;
  email_verified_at: string | Date | null;
  is_superuser: boolean;
  status: UserStatus;
  tier: string;
  deleted_at: string | Date | null;
}

/** The columns userSnapshot reads, for a select list (`u` is the users alias). */
export const USER_SNAPSHOT_COLUMNS =
  'u.id, u.created_at, u.updated_at, u.email, u.username, u.name, u.email_verified_at, u.is_superuser, u.status, u.tier, u.deleted_at';

const date = (v: string | Date) => (v instanceof Date ? v : new Date(v));

/**
 * A read-only User from a row, outside the ORM's identity map: the authenticated user is read on
 * every request, and hydrating a managed entity cost about a tenth of a small request. Frozen, so
 * a write meant for the database fails loudly; load the entity through the EntityManager to change it.
 */
export function userSnapshot(row: UserRow): Readonly<User> {
  // Object.create skips the entity's field initializers (a random id, dates) that would be overwritten.
  const user = Object.assign(Object.create(User.prototype) as User, {
    id: row.id,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    email: row.email,
    username: row.username,
    name: row.name,
    emailVerifiedAt: row.email_verified_at === null ? null : date(row.email_verified_at),
    isSuperuser: row.is_superuser,
    status: row.status,
    tier: row.tier,
    deletedAt: row.deleted_at === null ? null : date(row.deleted_at),
  });
  return Object.freeze(user);
}
