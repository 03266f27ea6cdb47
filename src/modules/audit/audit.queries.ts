import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { escapeLike } from '../../common/text';
import type { Page } from '../../graphql/connection';
import { newestFirstPage } from '../../db/newest-first';
import { AuditEvent } from './audit-event.entity';
import type { AuditFilter } from './audit.input';
import type { AuditEventType } from './audit.type';

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
    const prefix = escapeLike(action.slice(0, -1));
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
  page(em: EntityManager, filter: AuditFilter | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<Page<AuditEventType>> {
    return newestFirstPage(em, AuditEvent, () => whereOf(filter), first, after, view);
  }

}
