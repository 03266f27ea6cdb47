import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { badInput } from '../../common/errors';
import { COMPANY_SIZES } from '../users/organisation';
import type { LeadDayCount, LeadMetrics, LeadScoreGroup } from './lead-metrics.type';

type Db = Pick<EntityManager, 'execute'>;

const DAY_MS = 86_400_000;
export const DEFAULT_PERIOD_DAYS = 30;
export const MAX_PERIOD_DAYS = 366;

export interface Period {
  from: Date;
  to: Date;
}

/**
 * The period asked for, both ends inclusive: by default the 30 days up to now; `to` alone reaches
 * back 30 days from it. BAD_USER_INPUT when `from` is after `to` or the period is over 366 days.
 */
export function periodOf(now: Date, from: Date | null | undefined, to: Date | null | undefined): Period {
  const end = to ?? now;
  const start = from ?? new Date(end.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS);
  if (start.getTime() > end.getTime()) throw badInput('from', 'from: must not be after to.');
  if (end.getTime() - start.getTime() > MAX_PERIOD_DAYS * DAY_MS) throw badInput('to', `to: the period is at most ${MAX_PERIOD_DAYS} days.`);
  return { from: start, to: end };
}

/** Every UTC day the period touches, YYYY-MM-DD, oldest first. */
export function daysOf(period: Period): string[] {
  const days: string[] = [];
  const last = utcDay(period.to);
  for (let t = Date.parse(utcDay(period.from)); ; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.push(day);
    if (day >= last) return days;
  }
}

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/** n ÷ d, 0 when d is 0, at most 1. */
export const rate = (n: number, d: number) => (d === 0 ? 0 : Math.min(1, n / d));

/** Groups in a stable order: `order` first (by its rank, or alphabetically without one), a null key last. */
export function sortGroups(groups: LeadScoreGroup[], order?: readonly string[]): LeadScoreGroup[] {
  const rank = (key: string) => (order ? order.indexOf(key) : -1);
  return [...groups].sort((a, b) => {
    if (a.key === null || b.key === null) return a.key === b.key ? 0 : a.key === null ? 1 : -1;
    return rank(a.key) - rank(b.key) || a.key.localeCompare(b.key, 'en');
  });
}

/** Every day of the period with its count, a zero for a day the rows do not name. */
export function zeroFilled(period: Period, rows: ReadonlyArray<{ day: string; count: number }>): LeadDayCount[] {
  const counts = new Map(rows.map((r) => [r.day, r.count]));
  return daysOf(period).map((date) => ({ date, count: counts.get(date) ?? 0 }));
}

/** The lead figures of a period, read with three statements whatever its length. */
export class LeadMetricsService {
  constructor(private readonly clock: Clock) {}

  async metrics(db: Db, from: Date | null | undefined, to: Date | null | undefined): Promise<LeadMetrics> {
    const period = periodOf(this.clock.now(), from, to);
    const range = [period.from, period.to];
    const [perDay, [assessments], scores] = await Promise.all([
      db.execute<Array<{ day: string; captured: string | number; converted: string | number }>>(
        `select to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*) as captured, count(l.converted_at) as converted
           from leads l where l.created_at >= ? and l.created_at <= ? group by 1`,
        range,
      ),
      // A lead's assessment keeps its lead_id when it moves to the account at conversion.
      db.execute<Array<{ started: string | number; completed: string | number }>>(
        `select count(*) filter (where a.started_at >= ? and a.started_at <= ?) as started,
                count(*) filter (where a.status = 'COMPLETED' and a.completed_at >= ? and a.completed_at <= ?) as completed
           from assessments a
          where a.lead_id is not null and ((a.started_at >= ? and a.started_at <= ?) or (a.completed_at >= ? and a.completed_at <= ?))`,
        [...range, ...range, ...range, ...range],
      ),
      db.execute<Array<{ grouped: number | string; industry: string | null; size: string | null; average: string | number; n: string | number }>>(
        // grouped: 0 in the rows grouped by industry, 1 in those by company size. Spellings of one
        // industry in other cases are one group, named by the first in byte order on every server.
        `select grouping(lower(l.industry)) as grouped, min(l.industry collate "C") as industry, l.company_size as size,
                round(avg(a.percentage_score::numeric), 1) as average, count(*) as n
           from assessments a join leads l on l.id = a.lead_id
          where a.status = 'COMPLETED' and a.percentage_score is not null and a.completed_at >= ? and a.completed_at <= ?
          group by grouping sets ((lower(l.industry)), (l.company_size))`,
        range,
      ),
    ]);

    const captured = perDay.reduce((sum, r) => sum + Number(r.captured), 0);
    const converted = perDay.reduce((sum, r) => sum + Number(r.converted), 0);
    const started = Number(assessments?.started ?? 0);
    const completed = Number(assessments?.completed ?? 0);
    const group = (key: string | null, r: (typeof scores)[number]): LeadScoreGroup => ({ key, averageScore: Number(r.average), count: Number(r.n) });
    const byIndustry = scores.filter((r) => Number(r.grouped) === 0);
    const bySize = scores.filter((r) => Number(r.grouped) !== 0);
    return {
      from: period.from,
      to: period.to,
      captured,
      converted,
      conversionRate: rate(converted, captured),
      assessmentsStarted: started,
      assessmentsCompleted: completed,
      completionRate: rate(completed, started),
      averageScoreByIndustry: sortGroups(byIndustry.map((r) => group(r.industry, r))),
      averageScoreByCompanySize: sortGroups(bySize.map((r) => group(r.size, r)), COMPANY_SIZES),
      capturedPerDay: zeroFilled(period, perDay.map((r) => ({ day: r.day, count: Number(r.captured) }))),
    };
  }
}
