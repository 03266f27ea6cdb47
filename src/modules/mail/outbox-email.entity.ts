import { Entity, Index, Property } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import type { OutboxPayload } from './mail.outbox';

export type OutboxStatus = 'pending' | 'sent' | 'failed';

/** An email committed with the change that caused it; the outbox worker delivers it. */
@Entity({ tableName: 'outbox_emails' })
@Index({
  name: 'outbox_emails_due_index',
  expression: 'create index "outbox_emails_due_index" on "outbox_emails" ("available_at") where "status" = \'pending\'',
})
export class OutboxEmail extends BaseEntity<'status' | 'attempts' | 'availableAt' | 'leaseToken' | 'lastError' | 'sentAt'> {
  /** The message's template; for a deferred request, its kind until the worker decides it. */
  @Property({ type: 'string', length: 64 })
  template!: string;

  @Property({ type: 'string', length: 320 })
  recipient!: string;

  /** The typed message (cleared once delivered, since it may hold a one-time secret), or a deferred request. */
  @Property({ type: 'json', nullable: true })
  payload!: OutboxPayload | null;

  @Property({ type: 'string', length: 16, default: 'pending' })
  status: OutboxStatus = 'pending';

  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  /** When the message may next be tried; also the end of the lease of a worker that claimed it. */
  @Property({ type: 'datetime' })
  availableAt: Date = new Date();

  /** Set by each claim: a worker acts on the row only while it still holds this claim. */
  @Property({ type: 'uuid', nullable: true })
  leaseToken: string | null = null;

  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  sentAt: Date | null = null;
}
