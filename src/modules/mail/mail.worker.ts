import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger';
import { renderMail, type MailMessage } from './mail.messages';
import type { MailTransport } from './mail.transport';

interface ClaimedRow {
  id: string;
  recipient: string;
  payload: MailMessage | string | null;
  attempts: number;
}

const BATCH = 10;
const LEASE_SECONDS = 120;
const MAX_BACKOFF_SECONDS = 3600;

/** Retry delay after `attempts` failures: `first` seconds doubling, capped at an hour, with ±20 % jitter. */
export function backoffSeconds(attempts: number, first: number): number {
  const base = Math.min(MAX_BACKOFF_SECONDS, first * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(base * (0.8 + Math.random() * 0.4)));
}

/**
 * Delivers the outbox. Rows are claimed with FOR UPDATE SKIP LOCKED and leased by pushing
 * available_at forward, so several instances can run and a crashed worker's rows come back.
 */
export class MailWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly orm: MikroORM,
    private readonly transport: MailTransport,
    private readonly logger: Logger,
    private readonly options: { pollInterval: number; maxAttempts: number; retryDelay: number },
  ) {}

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

  /** Stops polling and waits for the batch in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const rows = await this.claim();
      for (const row of rows) {
        // Stopping waits for one message at most; the rest of the batch returns when its lease ends.
        if (this.stopped) return;
        await this.deliver(row);
      }
      if (rows.length < BATCH) return;
    }
  }

  private async claim(): Promise<ClaimedRow[]> {
    const em = this.orm.em.fork();
    return em.execute<ClaimedRow[]>(
      `update outbox_emails set available_at = now() + make_interval(secs => ?), attempts = attempts + 1
        where id in (select id from outbox_emails
                      where status = 'pending' and available_at <= now()
                      order by available_at limit ? for update skip locked)
        returning id, recipient, payload, attempts`,
      [LEASE_SECONDS, BATCH],
    );
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    const em = this.orm.em.fork();
    const message = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as MailMessage | null;
    try {
      if (!message) throw new Error('outbox row has no payload');
      await this.transport.send(row.recipient, renderMail(message));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const giveUp = row.attempts >= this.options.maxAttempts;
      const delay = backoffSeconds(row.attempts, this.options.retryDelay);
      this.logger.warn({ emailId: row.id, attempts: row.attempts, error, giveUp }, 'mail worker: delivery failed');
      await em.execute(
        `update outbox_emails set status = ?, last_error = ?, available_at = now() + make_interval(secs => ?) where id = ?`,
        [giveUp ? 'failed' : 'pending', error.slice(0, 1000), delay, row.id],
      );
      return;
    }
    await em.execute(
      `update outbox_emails set status = 'sent', sent_at = now(), payload = null, last_error = null where id = ?`,
      [row.id],
    );
    this.logger.info({ emailId: row.id, template: message.template }, 'mail worker: delivered');
  }
}
