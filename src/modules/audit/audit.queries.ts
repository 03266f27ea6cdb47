import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { badInput } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { decodeCursor, pageSize } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { User } from '../users/user.entity';
import { AuditEvent } from './audit-event.entity';
import type { AuditFilter } from './audit.input';
import type { AuditEventType } from './audit.type';

export interface AuditPage {
  events: AuditEventType[];
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

const view = (e: AuditEvent): AuditEventType => ({
  id: e.id,
  at: e.createdAt,
  action: e.action,
  actorId: e.actorId,
  targetType: e.targetType,
  targetId: e.targetId,
  ip: e.ip,
  userAgent: e.userAgent,
  changes: e.changes,
});

/**
 * The conditions of a filter, or null when nothing can match it (an actor id that is not a UUID
 * cannot be in the uuid column: an empty page, as for any id nobody has).
 */
function whereOf(filter: AuditFilter | null | undefined): FilterQuery<AuditEvent>[] | null {
  const where: FilterQuery<AuditEvent>[] = [];
  if (!filter) return where;
  const action = filter.action?.trim();
  if (action?.endsWith('.*')) {
    const prefix = action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
    where.push({ action: { $like: `${prefix}%` } });
  } else if (action) {
    where.push({ action });
  }
  if (filter.actorId) {
    if (!isUuid(filter.actorId)) return null;
    where.push({ actorId: filter.actorId });
  }
  if (filter.targetId) where.push({ targetId: filter.targetId });
  if (filter.from && filter.to && filter.from > filter.to) throw badInput('to', 'to: must not come before from.');
  if (filter.from) where.push({ createdAt: { $gte: filter.from } });
  if (filter.to) where.push({ createdAt: { $lte: filter.to } });
  return where;
}

/** Reads of the audit log (staff). */
export class AuditQueries {
  /** One page of the events matching `filter`, newest first, with their total. */
  async page(em: EntityManager, filter: AuditFilter | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<AuditPage> {
    const limit = pageSize(first);
    const cursor = after ? decodeCursor(after) : null;
    const position = cursor && { at: new Date(cursor.at), id: cursor.id };
    const where = whereOf(filter);
    if (!where) return { events: [], totalCount: 0, hasNextPage: false, hasPreviousPage: position !== null };
    const before: FilterQuery<AuditEvent>[] = position
      ? [{ $or: [{ createdAt: { $lt: position.at } }, { createdAt: position.at, id: { $lt: position.id } }] }]
      : [];
    const [rows, totalCount] = await Promise.all([
      em.find(AuditEvent, { $and: [...where, ...before] }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: limit + 1 }),
      em.count(AuditEvent, { $and: where }),
    ]);
    return {
      events: rows.slice(0, limit).map(view),
      totalCount,
      hasNextPage: rows.length > limit,
      hasPreviousPage: position !== null,
    };
  }
}

/** The request's loader of acting accounts by id: null for one that is gone (hard-deleted). */
export const actorLoader = (ctx: Pick<Context, 'em' | 'loader'>) =>
  ctx.loader(
    'audit.actors',
    () =>
      new DataLoader<string, User | null>(async (ids) => {
        const users = await ctx.em.find(User, { id: { $in: [...ids] } });
        const byId = new Map(users.map((u) => [u.id, u]));
        return ids.map((id) => byId.get(id) ?? null);
      }),
  );
