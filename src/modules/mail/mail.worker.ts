import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger';
import { renderMail, type MailMessage } from './mail.messages';
import { isDeferred, type DeferredMail, type DeferredMailHandler, type OutboxPayload } from './mail.outbox';
import type { MailTransport } from './mail.transport';

interface ClaimedRow {
  id: string;
  payload: OutboxPayload | string | null;
  attempts: number;
}

const BATCH = 10;
/** How long a claim holds a row unless renewed: a crashed worker's rows are due again this soon. */
export const LEASE_SECONDS = 15;
/** Leases are renewed this often while their message is worked on, so one or two late renewals do no harm. */
const RENEW_EVERY_MS = (LEASE_SECONDS * 1000) / 3;
const MAX_BACKOFF_SECONDS = 3600;

/** This worker's claim on a row has passed to another worker (or the row is gone): leave the row alone. */
class LeaseLost extends Error {}

/** Retry delay after `attempts` failures: `first` seconds doubling, capped at an hour, with ±20 % jitter. */
export function backoffSeconds(attempts: number, first: number): number {
  const base = Math.min(MAX_BACKOFF_SECONDS, first * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(base * (0.8 + Math.random() * 0.4)));
}

/**
 * Delivers the outbox. Rows are claimed with FOR UPDATE SKIP LOCKED and leased by pushing
 * available_at forward, so several instances can run and a crashed worker's rows come back within
 * LEASE_SECONDS. The lease is renewed while a message is being sent, so a slow send is never taken
 * over; each claim carries a token, and every write is conditional on it, so a worker whose lease
 * lapsed cannot act on a row another worker has claimed since.
 */
export class MailWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly deferred = new Map<string, DeferredMailHandler>();

  constructor(
    private readonly orm: MikroORM,
    private readonly transport: MailTransport,
    private readonly logger: Logger,
    private readonly options: { pollInterval: number; maxAttempts: number; retryDelay: number },
  ) {}

  /** Registers the handlers that decide deferred emails, by kind (see DeferredMail). */
  handleDeferred(handlers: Record<string, DeferredMailHandler>): void {
    for (const [kind, handler] of Object.entries(handlers)) {
      if (this.deferred.has(kind)) throw new Error(`deferred mail "${kind}" already has a handler`);
      this.deferred.set(kind, handler);
    }
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Delivers now instead of at the next poll (called after a commit that queued mail). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.drain()
      .catch((err) => this.logger.error({ err }, 'mail worker: drain failed'))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = setTimeout(() => this.kick(), this.options.pollInterval * 1000);
          this.timer.unref();
        }
      });
  }

  /** Stops polling and waits for the message in flight; the rest of its batch is handed back. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const claimedAt = Date.now();
      const { lease, rows } = await this.claim();
      for (const row of rows) {
        if (this.stopped) return this.release(lease);
        // A row that waited behind slow sends may have outlived its lease and been claimed again.
        if (Date.now() - claimedAt > RENEW_EVERY_MS && !(await this.renew(row.id, lease))) continue;
        await this.process(row, lease);
      }
      if (rows.length < BATCH) return;
    }
  }

  private async claim(): Promise<{ lease: string; rows: ClaimedRow[] }> {
    const lease = randomUUID();
    const rows = await this.orm.em.fork().execute<ClaimedRow[]>(
      `update outbox_emails set available_at = now() + make_interval(secs => ?), attempts = attempts + 1, lease_token = ?
        where id in (select id from outbox_emails
                      where status = 'pending' and available_at <= now()
                      order by available_at limit ? for update skip locked)
        returning id, payload, attempts`,
      [LEASE_SECONDS, lease, BATCH],
    );
    return { lease, rows };
  }

  /** Extends the lease on a row; false when this claim no longer holds it. */
  private async renew(id: string, lease: string): Promise<boolean> {
    const result = await this.orm.em.fork().execute<{ affectedRows: number }>(
      `update outbox_emails set available_at = now() + make_interval(secs => ?)
        where id = ? and lease_token = ? and status = 'pending'`,
      [LEASE_SECONDS, id, lease],
      'run',
    );
    return result.affectedRows > 0;
  }

  /** Renews the lease on a row every few seconds until the returned function is called (and awaited). */
  private keepLease(id: string, lease: string): () => Promise<void> {
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renewing
        .then(() => this.renew(id, lease))
        .then(
          (held) => void (held || this.logger.warn({ emailId: id }, 'mail worker: lost the lease of a message in progress')),
          (err) => this.logger.warn({ err, emailId: id }, 'mail worker: could not renew a lease'),
        );
    }, RENEW_EVERY_MS);
    timer.unref();
    return () => {
      clearInterval(timer);
      return renewing;
    };
  }

  /** Gives back the rows of a claim that this worker will not start (it is stopping), for another to take at once. */
  private async release(lease: string): Promise<void> {
    // The claim counted a try that was never made.
    await this.orm.em.fork().execute(
      `update outbox_emails set available_at = now(), attempts = attempts - 1, lease_token = null
        where lease_token = ? and status = 'pending'`,
      [lease],
    );
  }

  private async process(row: ClaimedRow, lease: string): Promise<void> {
    const stopRenewing = this.keepLease(row.id, lease);
    let sent: MailMessage | null;
    try {
      sent = await this.attempt(row, lease);
    } catch (err) {
      await stopRenewing();
      if (err instanceof LeaseLost) {
        this.logger.info({ emailId: row.id }, 'mail worker: another worker has claimed this message since');
        return;
      }
      await this.recordFailure(row, lease, err);
      return;
    }
    await stopRenewing();
    if (!sent) {
      this.logger.debug({ emailId: row.id }, 'mail worker: a deferred email called for no message');
      return;
    }
    const result = await this.orm.em.fork().execute<{ affectedRows: number }>(
      `update outbox_emails set status = 'sent', sent_at = now(), payload = null, last_error = null, lease_token = null
        where id = ? and lease_token = ?`,
      [row.id, lease],
      'run',
    );
    if (result.affectedRows === 0) {
      this.logger.warn({ emailId: row.id }, 'mail worker: sent a message after its lease had lapsed; it may go out twice');
    }
    this.logger.info({ emailId: row.id, template: sent.template }, 'mail worker: delivered');
  }

  /** Decides a deferred row if need be, and sends its message; null when there was nothing to send. */
  private async attempt(row: ClaimedRow, lease: string): Promise<MailMessage | null> {
    const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as OutboxPayload | null;
    if (!payload) throw new Error('outbox row has no payload');
    const message = isDeferred(payload) ? await this.decide(row.id, lease, payload) : payload;
    if (message) await this.transport.send(message.to, renderMail(message));
    return message;
  }

  /**
   * Turns a deferred request into the message its handler produces, in one transaction with the
   * handler's work (so a token it issues commits with the email that carries it), or deletes the
   * request when there is nothing to send. The row then waits for delivery like any other message.
   */
  private async decide(id: string, lease: string, request: DeferredMail): Promise<MailMessage | null> {
    const handler = this.deferred.get(request.deferred);
    if (!handler) throw new Error(`no handler for deferred mail "${request.deferred}"`);
    return this.orm.em.fork().transactional(async (tx) => {
      const message = await handler(tx, request.to);
      const result = await tx.execute<{ affectedRows: number }>(
        message
          ? `update outbox_emails set template = ?, recipient = ?, payload = ? where id = ? and lease_token = ? and status = 'pending'`
          : `delete from outbox_emails where id = ? and lease_token = ? and status = 'pending'`,
        message ? [message.template, message.to, JSON.stringify(message), id, lease] : [id, lease],
        'run',
      );
      if (result.affectedRows === 0) throw new LeaseLost(); // rolls back the handler's work too
      return message;
    });
  }

  private async recordFailure(row: ClaimedRow, lease: string, err: unknown): Promise<void> {
    const error = err instanceof Error ? err.message : String(err);
    const giveUp = row.attempts >= this.options.maxAttempts;
    const delay = backoffSeconds(row.attempts, this.options.retryDelay);
    this.logger.warn({ emailId: row.id, attempts: row.attempts, error, giveUp }, 'mail worker: delivery failed');
    await this.orm.em.fork().execute(
      `update outbox_emails set status = ?, last_error = ?, available_at = now() + make_interval(secs => ?), lease_token = null
        where id = ? and lease_token = ?`,
      [giveUp ? 'failed' : 'pending', error.slice(0, 1000), delay, row.id, lease],
    );
  }
}
