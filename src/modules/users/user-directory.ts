import type { EntityManager } from '@mikro-orm/postgresql';
import { escapeLike } from '../../common/text';
import { connectionOf, decodeCursor, encodeCursor, pageOf, pageSize } from '../../graphql/connection';
import { isUuid } from '../../common/ids';
import type { UserFilter } from './account.input';
import { AccountStatus, type UserConnection } from './account.type';
import { liveUserSql } from './user.rules';
import { userSnapshots, type UserRow } from './user.snapshot';

type Db = Pick<EntityManager, 'execute' | 'getMetadata'>;

/** SQL over `users u` for each status, as accountStatusOf decides it. */
const STATUS_SQL: Record<AccountStatus, string> = {
  ACTIVE: `${liveUserSql('u')} and u.email_verified_at is not null`,
  UNVERIFIED: `${liveUserSql('u')} and u.email_verified_at is null`,
  DISABLED: `u.deleted_at is null and u.status = 'disabled'`,
  DELETED: `(u.deleted_at is not null or u.status = 'deleted')`,
};

/** The where clause and parameters of a filter over `users u`. A malformed tier id matches nothing. */
function filterSql(filter: UserFilter | null | undefined): { sql: string[]; params: unknown[] } {
  const sql: string[] = [];
  const params: unknown[] = [];
  const search = filter?.search?.trim();
  if (search) {
    const like = `%${escapeLike(search.toLowerCase())}%`;
    sql.push(`(u.email like ? or u.username like ? or lower(u.name) like ?)`);
    params.push(like, like, like);
  }
  if (filter?.tierId != null) {
    sql.push(isUuid(filter.tierId) ? 'u.tier_id = ?' : 'false');
    if (isUuid(filter.tierId)) params.push(filter.tierId);
  }
  if (filter?.status != null) sql.push(STATUS_SQL[filter.status]);
  if (filter?.emailVerified != null) sql.push(`u.email_verified_at is ${filter.emailVerified ? 'not ' : ''}null`);
  if (filter?.isSuperuser != null) {
    sql.push('u.is_superuser = ?');
    params.push(filter.isSuperuser);
  }
  return { sql, params };
}

/** One page of accounts matching `filter`, newest first, with how many match in all (staff's `users`). */
export async function listUsers(
  db: Db,
  first: number | null | undefined,
  after: string | null | undefined,
  filter: UserFilter | null | undefined,
): Promise<UserConnection> {
  const limit = pageSize(first);
  // The cursor keeps created_at as PostgreSQL prints it (microseconds), so no row is skipped or repeated.
  const position = after ? decodeCursor(after) : null;
  const where = filterSql(filter);
  const snapshots = userSnapshots(db.getMetadata());
  const page = position ? [...where.sql, '(u.created_at, u.id) < (?::timestamptz, ?::uuid)'] : where.sql;
  const clause = (parts: string[]) => (parts.length ? `where ${parts.join(' and ')}` : '');
  const [rows, [count]] = await Promise.all([
    db.execute<Array<UserRow & { cursorAt: string }>>(
      `select ${snapshots.select('u')}, u.created_at::text as "cursorAt" from users u ${clause(page)}
        order by u.created_at desc, u.id desc limit ?`,
      [...where.params, ...(position ? [position.at, position.id] : []), limit + 1],
    ),
    db.execute<Array<{ n: string | number }>>(`select count(*) as n from users u ${clause(where.sql)}`, where.params),
  ]);
  return connectionOf(
    pageOf(rows, limit, Number(count?.n ?? 0), position),
    (row) => encodeCursor(row.cursorAt, row.id),
    (row) => snapshots.read(row),
  );
}
