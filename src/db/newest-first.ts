import type { EntityClass, FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { decodeCursor, pageOf, pageSize, type Page } from '../graphql/connection';

/**
 * One page of an entity's rows matching every condition `where` gives, newest first (creation
 * time, then id), after an opaque cursor, with how many match in all; `null` matches nothing. The
 * page size and cursor are checked before the filter, and the list and the count run side by side.
 */
export async function newestFirstPage<T extends { createdAt: Date; id: string }, R>(
  em: EntityManager,
  entity: EntityClass<T>,
  filter: () => FilterQuery<T>[] | null,
  first: number | null | undefined,
  after: string | null | undefined,
  view: (row: T) => R,
): Promise<Page<R>> {
  const size = pageSize(first);
  const cursor = after ? decodeCursor(after) : null;
  const where = filter();
  if (!where) return pageOf([], size, 0, after);
  const all = (conditions: FilterQuery<T>[]) => ({ $and: conditions }) as FilterQuery<T>;
  const before = cursor
    ? [{ $or: [{ createdAt: { $lt: new Date(cursor.at) } }, { createdAt: new Date(cursor.at), id: { $lt: cursor.id } }] } as FilterQuery<T>]
    : [];
  const [rows, totalCount] = await Promise.all([
    em.find(entity, all([...where, ...before]), { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] as never, limit: size + 1 }),
    em.count(entity, all(where)),
  ]);
  return pageOf(rows.map(view), size, totalCount, after);
}
