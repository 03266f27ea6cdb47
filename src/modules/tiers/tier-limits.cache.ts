import type { PreparedSql, PreparedStatement } from '../../db/pg-pool';
import type { Logger } from '../../logger';
import type { Worker } from '../module';
import type { TierLimit, TierLimitTable } from '../rate-limit/tiered-rate-limits';

/** How often an instance checks whether another one changed the tier limits. */
export const TIER_LIMITS_POLL_MS = 2000;

const CURRENT_VERSION = `select coalesce((select version from tier_limits_version where id = 1), 0) as version`;

// Marked `/* background */`: run by a timer, not by a request, so the statement counters of the
// tests and the bench leave it out of a request's count (the mark is in the text, which every
// path sends; the embedded database's drops statement names).
const SQL = {
  version: { name: 'posture_tier_limits_version', text: `/* background */ ${CURRENT_VERSION}` },
  // The version and the rows in one statement, so they come from one snapshot.
  rows: {
    name: 'posture_tier_limits_rows',
    text: `select v.version, r.tier_id, r.operation, r."limit", r.period_seconds
             from (${CURRENT_VERSION}) v left join tier_rate_limits r on true`,
  },
} satisfies Record<string, PreparedStatement>;

interface Row {
  version: number;
  tier_id: string | null;
  operation: string | null;
  limit: number | null;
  period_seconds: number | null;
}

/**
 * The tier rate limits, in memory: the rate-limit gate reads them on every call and must not pay a
 * query for it. Reloaded at once after a change made here (TierService awaits `refresh` after its
 * commit) and, for changes made by other instances, when the polled version moves, within
 * TIER_LIMITS_POLL_MS.
 */
export class TierLimitCache implements TierLimitTable, Worker {
  private byTier = new Map<string, ReadonlyMap<string, TierLimit>>();
  private operations: ReadonlySet<string> = new Set();
  private version: number | null = null;
  private queued: Promise<void> | null = null;
  private running: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;

  constructor(
    private readonly sql: PreparedSql,
    private readonly logger: Logger,
    private readonly pollMs = TIER_LIMITS_POLL_MS,
  ) {}

  covers(operation: string): boolean {
    return this.operations.has(operation);
  }

  limitOf(tierId: string, operation: string): TierLimit | undefined {
    return this.byTier.get(tierId)?.get(operation);
  }

  /**
   * Reloads the rows. Loads run one at a time, and a caller joins a load that has not started yet,
   * so one that asks after its commit always gets a load that sees it.
   */
  refresh(): Promise<void> {
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.load();
      });
    this.running = this.queued;
    return this.queued;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  private poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        const [row] = await this.sql.query<{ version: number }>(SQL.version, []);
        if (Number(row?.version ?? 0) !== this.version) await this.refresh();
      } catch (err) {
        this.logger.warn({ err }, 'tier limits: reload failed; the limits loaded before stay in force');
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  private async load(): Promise<void> {
    const rows = await this.sql.query<Row>(SQL.rows, []);
    const byTier = new Map<string, Map<string, TierLimit>>();
    for (const row of rows) {
      if (row.tier_id === null || row.operation === null) continue;
      let limits = byTier.get(row.tier_id);
      if (!limits) byTier.set(row.tier_id, (limits = new Map()));
      limits.set(row.operation, { max: Number(row.limit), windowSeconds: Number(row.period_seconds) });
    }
    this.byTier = byTier;
    this.operations = new Set([...byTier.values()].flatMap((limits) => [...limits.keys()]));
    this.version = Number(rows[0]?.version ?? 0);
  }
}
