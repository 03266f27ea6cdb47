import { Entity, Index, Property } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';

/**
 * One thing that happened, append-only: who did it (the actor, null when anonymous), to what (the
 * target), from where, and for administrative changes the fields before and after (never a
 * secret). `createdAt` is when. A hard delete erases the personal data in the events about a
 * person and keeps the events (see eraseAuditSubject).
 */
@Entity({ tableName: 'audit_events' })
@Index({ name: 'audit_events_created_at_index', properties: ['createdAt', 'id'] })
@Index({ name: 'audit_events_action_index', properties: ['action'] })
@Index({ name: 'audit_events_actor_id_index', properties: ['actorId'] })
@Index({ name: 'audit_events_target_id_index', properties: ['targetId'] })
export class AuditEvent extends BaseEntity<'actorId' | 'targetType' | 'targetId' | 'ip' | 'userAgent' | 'changes'> {
  /** Dotted, past tense, lower case: `user.logged_in`, `admin.adminUpdateUser`. */
  @Property({ type: 'string', length: 64 })
  action!: string;

  @Property({ type: 'uuid', nullable: true })
  actorId: string | null = null;

  @Property({ type: 'string', length: 32, nullable: true })
  targetType: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  targetId: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'json', nullable: true })
  changes: Record<string, unknown> | null = null;
}
