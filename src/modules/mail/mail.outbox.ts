import type { EntityManager } from '@mikro-orm/postgresql';
import type { MailMessage } from './mail.messages';
import { OutboxEmail } from './outbox-email.entity';

/** Queues an email in the caller's unit of work, so it commits (or not) with the change that caused it. */
export function enqueueMail(em: EntityManager, message: MailMessage): OutboxEmail {
  return em.create(OutboxEmail, { template: message.template, recipient: message.to, payload: message });
}
