/**
 * The raw side of the submit figure (6), as a child process: one closed loop per bench account,
 * each running, on a connection of a pg pool the size of Posture's, the transaction that
 * AssessmentService.submit commits, with no server, GraphQL or ORM around it:
 *
 *   begin
 *   select id, status, answers from assessments where id = $1 and user_id = $2 and deleted_at is null for update
 *   with event as (insert into audit_events …)   -- the assessment.completed event, as Posture writes it
 *   update assessments set status = 'COMPLETED', answers, total_score, max_possible_score, percentage_score,
 *          risk_level, category_scores, recommendations, insights, completed_at, attestation where id = $1
 *   commit
 *
 * The values written are the ones Posture writes for the same 100 answers (worked out once by the
 * bench with Posture's own scoring, and its attestation as Posture signed it), sent as the same
 * JSON text. Each transaction takes a fresh assessment in progress of its account. Statements are
 * named (prepared once per connection). With DATABASE_URL it uses PostgreSQL; without, the embedded
 * PGlite on DATA_DIR, as the servers do.
 *
 * IPC in: { type: 'load', queues, userIds, values } then { type: 'run', seconds }; out: SubmitLoopRun.
 */
import pg from 'pg';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded';
import { createLogger } from '../src/logger';
import { eventInsertSql, eventValues, originFrom } from '../src/modules/audit/audit';
import { percentile } from './stats';

/** What the update writes, in its parameter order after the id: the text Posture sends for each. */
export interface SubmitValues {
  answers: string;
  totalScore: number;
  maxPossibleScore: number;
  percentageScore: number;
  riskLevel: string;
  categoryScores: string;
  recommendations: string;
  insights: string;
  attestation: string;
}

export type SubmitLoopMessage =
  | { type: 'load'; queues: string[][]; userIds: string[]; values: SubmitValues }
  | { type: 'run'; seconds: number };

export interface SubmitLoopRun {
  /** Transactions committed. */
  transactions: number;
  /** Transactions that failed (an error, or a row not found or not in progress). */
  failed: number;
  seconds: number;
  perSecond: number;
  /** Transaction latency, ms. */
  p50: number;
  p99: number;
  /** A loop ran out of fresh assessments: the run is void and is repeated with more. */
  ranOut: boolean;
  error?: string;
}

const LOCK = {
  name: 'raw_submit_lock',
  text: `select id, status, answers from assessments where id = $1 and user_id = $2 and deleted_at is null for update`,
};
const UPDATE = {
  name: 'raw_submit_update',
  text: `with completed as (${eventInsertSql(12)})
         update assessments set status = 'COMPLETED', answers = $2, total_score = $3, max_possible_score = $4, percentage_score = $5,
                risk_level = $6, category_scores = $7, recommendations = $8, insights = $9, completed_at = $10, attestation = $11
          where id = $1`,
};

let pool: pg.Pool;
let embedded: EmbeddedDatabase | undefined;
let queues: string[][] = [];
let userIds: string[] = [];
let values: SubmitValues;
const cursors: number[] = [];

async function submitOne(id: string, userId: string): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ status: string }>({ ...LOCK, values: [id, userId] });
    if (rows[0]?.status !== 'IN_PROGRESS') {
      await client.query('rollback');
      return false;
    }
    const v = values;
    await client.query({
      ...UPDATE,
      values: [
        ...[id, v.answers, v.totalScore, v.maxPossibleScore, v.percentageScore, v.riskLevel, v.categoryScores, v.recommendations, v.insights, new Date(), v.attestation],
        ...eventValues(originFrom({ ip: '127.0.0.1', userAgent: 'bench' }, userId), {
          action: 'assessment.completed',
          targetType: 'assessment',
          targetId: id,
          changes: { percentageScore: v.percentageScore, riskLevel: v.riskLevel },
        }),
      ],
    });
    await client.query('commit');
    return true;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function run(seconds: number): Promise<SubmitLoopRun> {
  let transactions = 0;
  let failed = 0;
  let ranOut = false;
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let firstError: string | undefined;
  await Promise.all(
    queues.map(async (queue, i) => {
      while (performance.now() < end) {
        const id = queue[cursors[i]!];
        if (id === undefined) {
          ranOut = true;
          return;
        }
        cursors[i]!++;
        const t0 = performance.now();
        try {
          if (await submitOne(id, userIds[i]!)) {
            transactions++;
            latencies.push(performance.now() - t0);
          } else failed++;
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    transactions,
    failed,
    seconds: elapsed,
    perSecond: transactions / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ranOut,
    ...(firstError ? { error: firstError } : {}),
  };
}

async function open(): Promise<void> {
  const env = process.env;
  if (env.DATABASE_URL) {
    pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DATABASE_POOL_MAX ?? 10) });
  } else {
    embedded = await startEmbeddedDatabase(env.DATA_DIR ?? '', createLogger('warn'));
    pool = new pg.Pool({ connectionString: embedded.url, max: 1 });
  }
}

process.on('message', (message: SubmitLoopMessage) => {
  if (message.type === 'load') {
    queues = message.queues;
    userIds = message.userIds;
    values = message.values;
    cursors.length = 0;
    cursors.push(...queues.map(() => 0));
    process.send!({ loaded: true });
    return;
  }
  run(message.seconds).then(
    (result) => process.send!(result),
    (err: unknown) => process.send!({ error: String(err) } as SubmitLoopRun),
  );
});

process.once('SIGTERM', () => {
  void pool
    ?.end()
    .then(() => embedded?.stop())
    .finally(() => process.exit(0));
});
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));

open().then(
  () => process.send!({ ready: true }),
  (err: unknown) => {
    console.error('raw submit loop failed to start:', err);
    process.exit(1);
  },
);
