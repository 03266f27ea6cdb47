import type { EntityManager } from '@mikro-orm/postgresql';
import type { MailMessage } from './mail.messages';
import { assertEmail, normalizeEmail } from '../users/user.rules';
import { OutboxEmail } from './outbox-email.entity';

/**
 * A request for an email that is decided after the response: the row holds only the address and
 * the kind of request, never a secret. When the worker claims it, the handler registered for the
 * kind looks at the address in a transaction and returns the message to send (issuing its secrets
 * there), or null to drop the request. An operation that must answer alike whether or not an
 * account exists queues one for every address, so the caller never waits for an account's work.
 */
export interface DeferredMail {
  deferred: string;
  to: string;
}

/** Decides a deferred email inside the worker's transaction `tx`: the message to send, or null for none. */
export type DeferredMailHandler = (tx: EntityManager, to: string) => Promise<MailMessage | null>;

/** What an outbox row carries: a message, or a request for one that is not decided yet. */
export type OutboxPayload = MailMessage | DeferredMail;

export const isDeferred = (payload: OutboxPayload): payload is DeferredMail => 'deferred' in payload;

/** Queues an email in the caller's unit of work, so it commits (or not) with the change that caused it. */
export function enqueueMail(em: EntityManager, message: MailMessage): OutboxEmail {
  return em.create(OutboxEmail, { template: message.template, recipient: message.to, payload: message });
}

/**
 * Requests a deferred email of `kind` for any well-formed address, with an account or not, and
 * does nothing else: the caller's answer waits for the same one insert either way, and the work
 * that depends on who has the address (lookups, tokens, the message) happens in the mail worker
 * after the response. A malformed address can belong to no one, so it is dropped.
 */
export async function requestDeferredMail(em: EntityManager, kind: string, rawEmail: string): Promise<void> {
  const email = normalizeEmail(rawEmail);
  try {
    assertEmail(email);
  } catch {
    return;
  }
  enqueueDeferredMail(em, kind, email);
  await em.flush();
}

/** Queues a deferred email of `kind` for `to` in the caller's unit of work (see DeferredMail). */
export function enqueueDeferredMail(em: EntityManager, kind: string, to: string): OutboxEmail {
  const request: DeferredMail = { deferred: kind, to };
  return em.create(OutboxEmail, { template: kind, recipient: to, payload: request });
}
