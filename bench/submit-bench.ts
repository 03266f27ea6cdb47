import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import type pg from 'pg';
import type { PreparedSql } from '../src/db/pg-pool';
import { mergeAnswers, scoreAssessment } from '../src/modules/assessments/scoring';
import { storedRecommendation } from '../src/modules/assessments/template.types';
import { TemplateCatalog } from '../src/modules/assessments/template.catalog';
import type { AnswerInputLike } from '../src/modules/assessments/template.types';
import { answersFor, clearAssessments, copyAccounts, insertInProgress, insertSynthetic, questionsOf, withOrm } from './assessment-data';
import { messagesOf, trackChild, type ChildServer } from './child-server';
import { statementCounter } from './counting';
import { TEMPLATE_QUERY } from './template-bench';
import { withServer, type BenchContext } from './context';
import { startWindow, type WindowCpu } from './cpu';
import type { LoadResult } from './load';
import { serverCommand } from './pinning';
import { graphql, logIn, ME_QUERY, RELAXED_LOGIN_LIMITS } from './posture';
import { alternate, compareRuns, type LoadRun, type SideBySideFigure } from './side-by-side';
import { percentile } from './stats';
import type { SubmitLoopMessage, SubmitLoopRun, SubmitValues } from './submit-loop';

const SUBMIT_SLUG = 'bench-submit-10x10';
const SUBMIT_SIZE = { categories: 10, questionsPerCategory: 10, optionsPerQuestion: 4 };

/** The submission and a small selection of its result (what a client shows right after submitting). */
export const SUBMIT_MUTATION =
  'mutation Submit($id: ID!, $answers: [AnswerInput!]) { submitAssessment(assessmentId: $id, answers: $answers) { id status percentageScore riskLevel completedAt } }';
const isSubmitted = (body: string) => body.includes('"status":"COMPLETED"') && !body.includes('"errors"');

/** Pacing off: at its default (300 s) a second submission by one account within 5 minutes is RATE_LIMITED. */
export const SUBMIT_ENV = { ASSESSMENT_SUBMIT_INTERVAL: '0' };

interface Account {
  id: string;
  token: string;
}

/**
 * Posture (A) against the raw loop (B, as `baseline`): cpuMicros.baseline is the raw loop process's
 * CPU per transaction. `failures` also counts runs in which Posture completed no submission.
 */
export type SubmitFigure = SideBySideFigure & {
  answers: number;
  /** The statements Posture sent for one submission (the check), as the counter saw them. */
  statements: string[];
};

/** A cursor over each account's fresh assessments, shared by a server's warm-up and measured run. */
interface Queue {
  account: Account;
  ids: string[];
  next: number;
}

/**
 * Closed loop, one keep-alive connection per account (one autocannon instance each, so that each
 * connection carries its own token and submits its own account's assessments, one fresh one per
 * request). Latencies as in load.ts.
 */
async function submitLoad(url: string, queues: Queue[], answers: readonly AnswerInputLike[], seconds: number): Promise<LoadResult & { ranOut: boolean }> {
  const latencies: number[] = [];
  let ranOut = false;
  const variables = JSON.stringify({ answers });
  // {"query":…,"variables":{"id":"<id>","answers":[…]}}: only the id changes.
  const prefix = `{"query":${JSON.stringify(SUBMIT_MUTATION)},"variables":{"id":"`;
  const suffix = `",${variables.slice(1)}}`;
  const results = await Promise.all(
    queues.map(
      (queue) =>
        new Promise<autocannon.Result>((resolve, reject) => {
          const instance = autocannon(
            {
              url: `${url}/graphql`,
              method: 'POST',
              connections: 1,
              duration: seconds,
              // autocannon stops on its next sample tick after `duration`: every 100 ms rather than every second, so
              // that no instance runs on alone for up to a second after the others (seen: 2 of 10 ran 6 s of 5).
              sampleInt: 100,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${queue.account.token}` },
              requests: [
                {
                  setupRequest: (req) => {
                    let id = queue.ids[queue.next];
                    if (id === undefined) {
                      ranOut = true; // the run is void (an already completed one answers at once); see the caller
                      id = queue.ids[queue.ids.length - 1]!;
                    } else queue.next++;
                    req.body = prefix + id + suffix;
                    return req;
                  },
                },
              ],
              verifyBody: (body) => typeof body === 'string' && isSubmitted(body),
            },
            (err, result) => (err ? reject(err) : resolve(result)),
          );
          instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
            if (status >= 200 && status < 300) latencies.push(ms);
          });
        }),
    ),
  );
  const sum = (pick: (r: autocannon.Result) => number) => results.reduce((n, r) => n + pick(r), 0);
  const secondsOf = (r: autocannon.Result) => (r.finish.getTime() - r.start.getTime()) / 1000;
  const okOf = (r: autocannon.Result) => Math.max(0, r.requests.total - r.non2xx - r.mismatches);
  const ok = sum(okOf);
  latencies.sort((a, b) => a - b);
  return {
    ok,
    failed: sum((r) => r.non2xx + r.mismatches + r.errors + r.timeouts),
    served: sum((r) => r.requests.total),
    seconds: Math.max(...results.map(secondsOf)),
    // Each connection's rate over its own run, added up.
    perSecond: sum((r) => okOf(r) / secondsOf(r)),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ranOut,
  };
}

interface RawLoop {
  pid: number;
  load(message: Extract<SubmitLoopMessage, { type: 'load' }>): Promise<void>;
  run(seconds: number): Promise<SubmitLoopRun>;
  stop(): Promise<void>;
}

/** The raw transaction loop (submit-loop.ts) as a child process, with the servers' database variables. */
async function startRawLoop(ctx: BenchContext, serverEnv: Record<string, string>): Promise<RawLoop> {
  const { command, args } = serverCommand(ctx.pinning, [ctx.benchScript('submit-loop')]);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...serverEnv };
  const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  trackChild(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = messagesOf(child, 'the raw submit loop');
  await next(); // { ready: true }
  return {
    pid: child.pid!,
    async load(message) {
      const answer = next();
      child.send(message);
      await answer;
    },
    async run(seconds) {
      const answer = next();
      child.send({ type: 'run', seconds } satisfies SubmitLoopMessage);
      const result = (await answer) as SubmitLoopRun;
      if (result.error && !result.transactions) throw new Error(`raw submit loop: ${result.error}`);
      return result;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A PreparedSql over one bench client, so Posture's own TemplateCatalog can read the tree. */
const sqlOn = (client: pg.Client): PreparedSql => ({
  metadata: undefined as unknown as PreparedSql['metadata'],
  query: async (statement, values) => (await client.query({ text: statement.text, values })).rows,
  transaction: () => Promise.reject(new Error('the bench reads templates only')),
  close: async () => undefined,
});

/**
 * 6. submitAssessment of 100 answers: Posture over HTTP (A) against the same writes as a raw pg
 * transaction (B), alternated, each side started afresh per run. Every request or transaction
 * takes a fresh assessment in progress, inserted with SQL before the run, for one of
 * `submitConnections` accounts (one per connection), so Posture's per-owner advisory lock
 * serializes nothing the raw side does not.
 */
export async function benchSubmit(ctx: BenchContext, serverEnv: Record<string, string>): Promise<SubmitFigure> {
  const { options: o, log, db } = ctx;
  const n = o.submitConnections;
  const questions = SUBMIT_SIZE.categories * SUBMIT_SIZE.questionsPerCategory;
  log(`6. submitAssessment with ${questions} answers (a ${SUBMIT_SIZE.categories} × ${SUBMIT_SIZE.questionsPerCategory} × ${SUBMIT_SIZE.optionsPerQuestion} template): ${o.seconds} s per run after ${o.warmupSeconds} s warm-up;`);
  log(`   each side freshly started per run; order A B, B A, A B …; ${n} accounts, one connection (A) or loop (B) each, a fresh`);
  log('   assessment in progress per submission (inserted with SQL before each run, deleted after it).');
  log(`   A = Posture at its defaults but ASSESSMENT_SUBMIT_INTERVAL=0 (pacing off), over HTTP, closed loop (autocannon);`);
  log('       the mutation merges the answers, scores them, signs the attestation and writes it all in one transaction.');
  log('   B = raw pg, in a child process: begin; select … for update; update (status, answers, scores, category scores,');
  log('       recommendations, insights, completed_at, attestation: the values Posture writes, precomputed); commit.');
  log('       Named statements, a pool the size of Posture\'s, no server, no GraphQL, no ORM: the floor for these writes.');

  // Setup: the template, the accounts, their answers, and the values Posture writes for them.
  const templateId = await withOrm(serverEnv, (orm) => insertSynthetic(orm, SUBMIT_SLUG, SUBMIT_SIZE));
  const setup = await db.withClient(async (client) => {
    const users = await copyAccounts(client, ctx.credentials.usernameOrEmail, 'benchsubmit', n);
    const shape = await questionsOf(client, templateId);
    const tree = await new TemplateCatalog(sqlOn(client)).byId(templateId);
    if (!tree) throw new Error('the submit template is not readable');
    const [[checkId]] = await insertInProgress(client, templateId, [users[0]!.id], 1);
    return { users, answers: answersFor(shape), tree, checkId: checkId! };
  });
  if (setup.answers.length !== questions) throw new Error(`expected ${questions} answers, made ${setup.answers.length}`);
  // The check submission runs on a Posture that counts its statements (as figure 5), for the report.
  const counter = await statementCounter(ctx);
  const { accounts, statements } = await withServer(
    () => ctx.startPosture({ ...SUBMIT_ENV, RATE_LIMITS: RELAXED_LOGIN_LIMITS, ...counter.env }),
    async (server) => {
      const list: Account[] = [];
      for (const user of setup.users) {
        list.push({ id: user.id, token: await logIn(server.url, { usernameOrEmail: user.email, password: ctx.credentials.password }) });
      }
      // As in a run, the template is in Posture's catalog already (a published version is read once) and the token was used.
      await graphql(server.url, TEMPLATE_QUERY, { slug: SUBMIT_SLUG });
      await graphql(server.url, ME_QUERY, undefined, list[0]!.token);
      const { result: checked, statements: sent } = await counter.around(() =>
        graphql<{ submitAssessment: { status: string } }>(server.url, SUBMIT_MUTATION, { id: setup.checkId, answers: setup.answers }, list[0]!.token),
      );
      if (checked.submitAssessment.status !== 'COMPLETED') throw new Error(`Posture did not complete the check submission: ${JSON.stringify(checked)}`);
      return { accounts: list, statements: sent };
    },
  );
  const merged = mergeAnswers(setup.tree, {}, setup.answers);
  const score = scoreAssessment(setup.tree, merged);
  const values: SubmitValues = await db.withClient(async (client) => {
    const { rows } = await client.query<{ total: number; max: number; pct: number; risk: string; attestation: string; same: boolean }>(
      `select total_score as total, max_possible_score as max, percentage_score as pct, risk_level as risk, attestation,
              answers = $2::jsonb and category_scores = $3::jsonb and recommendations = $4::jsonb and insights = $5 as same
         from assessments where id = $1`,
      [setup.checkId, JSON.stringify(merged), JSON.stringify(score.categoryScores), JSON.stringify(score.recommendations.map(storedRecommendation)), score.insights],
    );
    const row = rows[0];
    if (!row?.same || row.total !== score.totalScore || row.pct !== score.percentageScore) {
      throw new Error('what Posture wrote for the check submission differs from its own scoring of the same answers');
    }
    await clearAssessments(client, setup.users.map((u) => u.id));
    return {
      answers: JSON.stringify(merged),
      totalScore: score.totalScore,
      maxPossibleScore: score.maxPossibleScore,
      percentageScore: score.percentageScore,
      riskLevel: score.riskLevel,
      categoryScores: JSON.stringify(score.categoryScores),
      recommendations: JSON.stringify(score.recommendations.map(storedRecommendation)),
      insights: score.insights,
      attestation: row.attestation,
    };
  });
  log(`   Check: Posture's stored result for ${questions} answers equals its scoring in the bench process (${score.percentageScore}%, ${score.riskLevel}); the raw side writes those values.`);
  log(`   Statements Posture sent for that submission (counted as in figure 5; the raw transaction sends 4, begin and commit included):`);
  for (const text of statements) log(`     ${text.length > 150 ? `${text.slice(0, 150)}…` : text}`);

  const userIds = accounts.map((a) => a.id);
  // Assessments per account per run: enough for the fastest rate seen so far, half again, and retried with more if short.
  const rate = { posture: 40, raw: 150 };
  const budget = (perSecond: number) => Math.ceil(perSecond * (o.warmupSeconds + o.seconds) * 1.5) + 20;
  const fresh = (perUser: number) => db.withClient((client) => insertInProgress(client, templateId, userIds, perUser));
  const clear = () => db.withClient((client) => clearAssessments(client, userIds));

  const runPosture = async (): Promise<LoadRun> => {
    for (let attempt = 0; ; attempt++) {
      const perUser = budget(rate.posture);
      const queues: Queue[] = (await fresh(perUser)).map((ids, i) => ({ account: accounts[i]!, ids, next: 0 }));
      try {
        const result = await withServer(
          () => ctx.startPosture(SUBMIT_ENV),
          async (server: ChildServer) => {
            if (o.warmupSeconds > 0) await submitLoad(server.url, queues, setup.answers, o.warmupSeconds);
            const window = await startWindow(server.pid, db.backendCpu);
            const load = await submitLoad(server.url, queues, setup.answers, o.seconds);
            return { load, cpu: await window.stop(load.served) };
          },
        );
        const used = Math.max(...queues.map((q) => q.next));
        rate.posture = Math.max(rate.posture, used / (o.warmupSeconds + o.seconds));
        if (!result.load.ranOut) return result;
        if (attempt >= 3) throw new Error('Posture ran out of fresh assessments four times');
        log(`   (A ran out of fresh assessments at ${perUser} per account; repeating the run with more)`);
      } finally {
        await clear();
      }
    }
  };
  /** The raw loop's run as a LoadRun: a committed transaction is a served and ok submission. */
  const runRaw = async (): Promise<LoadRun> => {
    for (let attempt = 0; ; attempt++) {
      const perUser = budget(rate.raw);
      const queues = await fresh(perUser);
      try {
        const loop = await startRawLoop(ctx, serverEnv);
        let run: SubmitLoopRun;
        let cpu: WindowCpu;
        try {
          await loop.load({ type: 'load', queues, userIds, values });
          if (o.warmupSeconds > 0) await loop.run(o.warmupSeconds);
          const window = await startWindow(loop.pid, db.backendCpu);
          run = await loop.run(o.seconds);
          cpu = await window.stop(run.transactions);
          const used = run.transactions + run.failed; // measured run only: a floor for the rate
          rate.raw = Math.max(rate.raw, used / o.seconds / n);
        } finally {
          await loop.stop();
        }
        if (!run.ranOut) {
          return {
            load: { ok: run.transactions, failed: run.failed, served: run.transactions, seconds: run.seconds, perSecond: run.perSecond, p50: run.p50, p99: run.p99 },
            cpu,
          };
        }
        if (attempt >= 3) throw new Error('the raw loop ran out of fresh assessments four times');
        log(`   (B ran out of fresh assessments at ${perUser} per account; repeating the run with more)`);
      } finally {
        await clear();
      }
    }
  };

  const runs = await alternate(o.rounds, runPosture, runRaw, log, 'submission');
  // A run in which Posture served nothing counts as a failure too.
  const failures = runs.reduce((k, r) => k + r.posture.load.failed + (r.posture.load.ok === 0 ? 1 : 0) + r.baseline.load.failed, 0);
  log(failures ? `   FAILED submissions or transactions: ${failures}` : '   Every submission and transaction completed its assessment.');
  return { ...compareRuns(runs, 'submission', log), answers: questions, statements, failures };
}
