import { Entity, Index, Property } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import type { MailMessage } from './mail.messages';

export type OutboxStatus = 'pending' | 'sent' | 'failed';

/** An email committed with the change that caused it; the outbox worker delivers it. */
@Entity({ tableName: 'outbox_emails' })
@Index({
  name: 'outbox_emails_due_index',
  expression: 'create index "outbox_emails_due_index" on "outbox_emails" ("available_at") where "status" = \'pending\'',
})
export class OutboxEmail extends BaseEntity<'status' | 'attempts' | 'availableAt' | 'lastError' | 'sentAt'> {
  @Property({ type: 'string', length: 64 })
  template!: MailMessage['template'];

  @Property({ type: 'string', length: 320 })
  recipient!: string;

  /** The typed message; cleared once delivered, since it may hold a one-time secret. */
  @Property({ type: 'json', nullable: true })
  payload!: MailMessage | null;

  @Property({ type: 'string', length: 16, default: 'pending' })
  status: OutboxStatus = 'pending';

  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  /** When the message may next be tried; also the lease of a worker that claimed it. */
  @Property({ type: 'datetime' })
  availableAt: Date = new Date();

  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  sentAt: Date | null = null;
}
