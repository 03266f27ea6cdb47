import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../logger';
import { purgeDeletedAccounts } from '../users/account-lifecycle';

/**
 * What the cleanup deletes, as SQL both PostgreSQL 15 and PGlite accept. Rotated refresh tokens
 * live as long as their session, since reuse detection needs them; ended sessions are kept 30
 * days for the record; failed emails are kept for an operator to look at, except deferred requests.
 */
export const CLEANUP_STATEMENTS: ReadonlyArray<{ name: string; sql: string }> = [
  {
    name: 'sessions',
    sql: `delete from sessions where coalesce(revoked_at, expires_at) < now() - interval '30 days'`,
  },
  {
    name: 'sealed successors',
    sql: `update refresh_tokens set sealed_successor = null
           where sealed_successor is not null and rotated_at < now() - interval '1 day'`,
  },
  { name: 'one-time tokens', sql: `delete from one_time_tokens where expires_at < now() - interval '7 days'` },
  { name: 'lead sessions', sql: `delete from lead_sessions where coalesce(revoked_at, expires_at) < now() - interval '30 days'` },
  { name: 'login links', sql: `delete from login_links where expires_at < now() - interval '7 days'` },
  // A two-factor challenge lives 5 minutes; a day on it is kept for no one. An enrollment never
  // confirmed within a day is abandoned (beginning again makes a new secret anyway).
  { name: 'mfa challenges', sql: `delete from mfa_challenges where expires_at < now() - interval '1 day'` },
  {
    name: 'pending totp enrollments',
    sql: `delete from totp_credentials where confirmed_at is null and created_at < now() - interval '1 day'`,
  },
  // Spent or expired OpenID Connect states are of no use: each lives 10 minutes and is single-use.
  { name: 'oidc login states', sql: `delete from oidc_login_states where expires_at < now() - interval '1 hour'` },
  { name: 'sent emails', sql: `delete from outbox_emails where status = 'sent' and sent_at < now() - interval '30 days'` },
  // A deferred request is settled within seconds (and one without an account deleted then); one a
  // day old never will be, and it names an address that may have no account.
  {
    name: 'deferred emails',
    sql: `delete from outbox_emails where payload ->> 'deferred' is not null and created_at < now() - interval '1 day'`,
  },
  { name: 'username reservations', sql: `delete from username_reservations where expires_at < now()` },
];

/** Rows each statement deleted (or updated), by statement name. */
export type CleanupCounts = Record<string, number>;

export interface CleanupOptions {
  intervalMs?: number;
  /** Days a soft-deleted account is kept (ACCOUNT_RETENTION_DAYS) before the purge erases it. */
  accountRetentionDays?: number;
}

/**
 * Deletes what has outlived its use, hourly. Idempotent, so every instance may run it. After the
 * statements, it purges the accounts deleted more than ACCOUNT_RETENTION_DAYS ago, as a hard
 * delete would (see purgeDeletedAccounts), which frees their email and username.
 */
export class CleanupJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<CleanupCounts | null> | null = null;
  private readonly intervalMs: number;
  private readonly accountRetentionDays: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    { intervalMs = 3600_000, accountRetentionDays = 30 }: CleanupOptions = {},
  ) {
    this.intervalMs = intervalMs;
    this.accountRetentionDays = accountRetentionDays;
  }

  start(): void {
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * One pass over every statement (joins a pass already running): the rows each one affected, or
   * null when the pass failed. A failure is logged, never thrown, so the interval goes on.
   */
  run(): Promise<CleanupCounts | null> {
    this.running ??= (async () => {
      const em = this.orm.em.fork();
      const counts: CleanupCounts = {};
      try {
        for (const { name, sql } of CLEANUP_STATEMENTS) {
          const result = await em.getConnection().execute<{ affectedRows: number }>(sql, [], 'run');
          counts[name] = result.affectedRows;
        }
        counts['deleted accounts'] = await purgeDeletedAccounts(em, this.accountRetentionDays);
        this.logger.info({ deleted: counts }, 'cleanup done');
        return counts;
      } catch (err) {
        this.logger.warn({ err, deleted: counts }, 'cleanup failed; will try again at the next interval');
        return null;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
