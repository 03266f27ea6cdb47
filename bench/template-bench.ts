import { statementCounter } from './counting';
import { withServer, type BenchContext } from './context';
import { graphqlRequest } from './load';
import { graphqlBody } from './posture';
import { fixed, table } from './report';
import { alternate, compareRuns, measureLoad, type LoadRun, type SideBySideFigure } from './side-by-side';
import { insertSynthetic, withOrm } from './assessment-data';
import { median } from './stats';

/** The full template, as an anonymous caller asks for it (option points come back null). */
export const TEMPLATE_QUERY =
  'query($slug:String!){ assessmentTemplate(slug:$slug){ id slug name version categories { id name weight order questions { id text kind weight order allowsNotApplicable references options { id label order points } } } } }';

const READ_SLUG = 'bench-read-10x10';
const READ_SIZE = { categories: 10, questionsPerCategory: 10, optionsPerQuestion: 4 };

interface TemplateAnswer {
  data?: {
    assessmentTemplate: {
      categories: Array<{ questions: Array<{ options: Array<{ points: number | null }> }> }>;
    } | null;
  };
  errors?: unknown[];
}

/** Raw body of the template query, for `slug`. */
const templateBody = (baseUrl: string, slug: string) => graphqlBody(baseUrl, TEMPLATE_QUERY, { slug });

/** Categories, questions and options in an answer, and whether any option shows its points; throws on errors. */
function shapeOf(body: string): { categories: number; questions: number; options: number; pointsShown: boolean } {
  const json = JSON.parse(body) as TemplateAnswer;
  const template = json.data?.assessmentTemplate;
  if (json.errors?.length || !template) throw new Error(`the template query failed: ${body.slice(0, 300)}`);
  const questions = template.categories.flatMap((c) => c.questions);
  const options = questions.flatMap((q) => q.options);
  return { categories: template.categories.length, questions: questions.length, options: options.length, pointsShown: options.some((o) => o.points !== null) };
}

export type TemplateRun = LoadRun;

export interface TemplateFigure extends SideBySideFigure {
  /** Size of the answer both servers give, bytes. */
  responseBytes: number;
}

/**
 * 4. The full 10 × 10 × 4 template over HTTP, anonymous: Posture (A) against the hand-written
 * baseline (B), each restarted for every run, as figure 1. Posture reads a published version
 * through its DataLoaders once and then from memory; the baseline reads it from pg on every request.
 */
export async function benchTemplateRead(ctx: BenchContext, serverEnv: Record<string, string>): Promise<TemplateFigure> {
  const { options: o, log } = ctx;
  log(`4. Full template read over HTTP (assessmentTemplate, ${READ_SIZE.categories} categories × ${READ_SIZE.questionsPerCategory} questions × ${READ_SIZE.optionsPerQuestion} options, anonymous):`);
  log(`   ${o.meConnections} keep-alive connections from 127.0.0.1, closed loop (autocannon), ${o.seconds} s per run after ${o.warmupSeconds} s warm-up; each server freshly started per run; order A B, B A, A B …`);
  log('   A = Posture at its defaults: the published version is read through the request\'s DataLoaders once, then kept in memory.');
  log('   B = baseline: graphql-js schema with the same types and field names, resolved from pg with plain SQL on every request');
  log('       (template by slug, then categories, questions and options in parallel: 4 named statements, no cache across requests).');
  log('   Both answer points: null (anonymous). Before measuring, the bench checks that both give the identical body.');

  await withOrm(serverEnv, (orm) => insertSynthetic(orm, READ_SLUG, READ_SIZE));

  const postureAnswer = await withServer(() => ctx.startPosture(), (server) => templateBody(server.url, READ_SLUG));
  const shape = shapeOf(postureAnswer);
  const want = READ_SIZE.categories * READ_SIZE.questionsPerCategory;
  if (shape.categories !== READ_SIZE.categories || shape.questions !== want || shape.options !== want * READ_SIZE.optionsPerQuestion || shape.pointsShown) {
    throw new Error(`Posture's template answer has an unexpected shape: ${JSON.stringify(shape)}`);
  }
  const expected = postureAnswer.trim();
  const verify = (body: string) => body.trim().length === expected.length && body.includes('"assessmentTemplate":{"id":"');

  let checked = false;
  const load = (server: { url: string; pid: number }): Promise<TemplateRun> =>
    measureLoad(
      server.pid,
      graphqlRequest(server.url, TEMPLATE_QUERY, { slug: READ_SLUG }),
      { connections: o.meConnections, verify, seconds: o.seconds, warmupSeconds: o.warmupSeconds },
      ctx.db.backendCpu,
    );
  const runPosture = () => withServer(() => ctx.startPosture(), load);
  const runBaseline = () =>
    withServer(ctx.startBaseline, async (server) => {
      if (!checked) {
        const baselineAnswer = (await templateBody(server.url, READ_SLUG)).trim();
        if (baselineAnswer !== expected) {
          throw new Error(`Posture and the baseline answer the template query differently:\n  Posture:  ${expected.slice(0, 400)}…\n  baseline: ${baselineAnswer.slice(0, 400)}…`);
        }
        checked = true;
      }
      return load(server);
    });

  const runs = await alternate(o.rounds, runPosture, runBaseline, log, 'read');
  const failures = runs.reduce((n, r) => n + r.posture.load.failed + r.baseline.load.failed, 0);
  log(`   Both servers gave the identical ${expected.length}-byte body.` + (failures ? ` FAILED REQUESTS: ${failures}` : ' No failed requests.'));
  return { ...compareRuns(runs, 'read', log), responseBytes: expected.length };
}

/** Template sizes of figure 5, in categories (each of 10 questions with 4 options). */
export const SQL_SIZES = [5, 10, 20, 40] as const;
const SQL_REPEATS = 3;

export interface SqlSizeResult {
  categories: number;
  questions: number;
  options: number;
  /** Statements of each first read (one fresh version each). */
  firstReads: number[];
  /** Statements of a second read of the same version (served from memory). */
  repeatReads: number[];
}

export interface SqlFigure {
  /** Median statements per first full read, by size (categories). */
  perRead: Record<string, number>;
  /** Median statements per repeated read, by size. */
  perRepeatRead: Record<string, number>;
  constant: boolean;
  /** The statements of one first read of the 10-category template, as the counter saw them. */
  sample: string[];
  sizes: SqlSizeResult[];
}

/**
 * 5. SQL statements per full template read, by size: a counting Posture (statement-counter.ts,
 * preloaded) answers the anonymous template query for versions it has never read, each a new
 * published template, so every read goes through the request's DataLoaders. Then once more (memory).
 */
export async function benchSqlPerRead(ctx: BenchContext, serverEnv: Record<string, string>): Promise<SqlFigure> {
  const { log } = ctx;
  log(`5. SQL statements per full template read, by size (${SQL_SIZES.join(', ')} categories × 10 questions × 4 options), anonymous, over HTTP:`);
  log('   Posture at its defaults, with bench/statement-counter.js preloaded (NODE_OPTIONS=--require): it counts every call of');
  log("   pg's Client.prototype.query in the process (both copies of pg: MikroORM's and the prepared-statement pool's), one");
  log(`   statement sent to PostgreSQL each. Each size: ${SQL_REPEATS} never-read published versions (new slugs), each read once (through`);
  log('   the DataLoaders), then read again (from memory); medians. The count is the difference across one request.');

  const slug = (size: number, rep: number) => `bench-sql-${size}-${rep}`;
  await withOrm(serverEnv, async (orm) => {
    await insertSynthetic(orm, 'bench-sql-warm', { categories: 2, questionsPerCategory: 10, optionsPerQuestion: 4 });
    for (const size of SQL_SIZES) {
      for (let rep = 0; rep < SQL_REPEATS; rep++) {
        await insertSynthetic(orm, slug(size, rep), { categories: size, questionsPerCategory: 10, optionsPerQuestion: 4 });
      }
    }
  });

  const counter = await statementCounter(ctx);
  return withServer(
    () => ctx.startPosture(counter.env),
    async (server) => {
      const probe = await counter.read().catch(() => undefined);
      if (!probe) throw new Error('the statement counter did not answer in the Posture process');
      if (probe.count === 0) throw new Error('the statement counter saw no statement during start-up: it did not hook pg');
      // One read first, so nothing a first request does once (a connection opened, a cache filled) is counted.
      shapeOf(await templateBody(server.url, 'bench-sql-warm'));

      const read = async (s: string): Promise<{ statements: string[]; body: string }> => {
        const { result: body, statements } = await counter.around(() => templateBody(server.url, s));
        return { statements, body };
      };
      const sizes: SqlSizeResult[] = [];
      let sample: string[] = [];
      for (const size of SQL_SIZES) {
        const result: SqlSizeResult = { categories: size, questions: size * 10, options: size * 40, firstReads: [], repeatReads: [] };
        for (let rep = 0; rep < SQL_REPEATS; rep++) {
          const first = await read(slug(size, rep));
          const shape = shapeOf(first.body);
          if (shape.categories !== size || shape.questions !== size * 10 || shape.options !== size * 40) {
            throw new Error(`the ${size}-category template came back as ${JSON.stringify(shape)}`);
          }
          result.firstReads.push(first.statements.length);
          if (size === 10 && rep === 0) sample = first.statements;
          const again = await read(slug(size, rep));
          shapeOf(again.body);
          result.repeatReads.push(again.statements.length);
        }
        sizes.push(result);
      }

      const perRead = Object.fromEntries(sizes.map((s) => [String(s.categories), median(s.firstReads)]));
      const perRepeatRead = Object.fromEntries(sizes.map((s) => [String(s.categories), median(s.repeatReads)]));
      const constant = new Set(Object.values(perRead)).size === 1;
      log(
        table(
          ['categories', 'questions', 'options', 'first reads', 'median', 'repeat reads', 'median'],
          sizes.map((s) => [
            String(s.categories),
            String(s.questions),
            String(s.options),
            s.firstReads.join(' '),
            fixed(median(s.firstReads), 0),
            s.repeatReads.join(' '),
            fixed(median(s.repeatReads), 0),
          ]),
        ),
      );
      log('   The statements of the first read of a 10-category version:');
      for (const text of sample) log(`     ${text.length > 150 ? `${text.slice(0, 150)}…` : text}`);
      log(
        `   => ${constant ? 'constant' : 'NOT constant'}: ${SQL_SIZES.map((s) => `${perRead[String(s)]}`).join(' / ')} statements per first read ` +
          `(${SQL_SIZES.join(' / ')} categories); ${SQL_SIZES.map((s) => `${perRepeatRead[String(s)]}`).join(' / ')} per repeated read.`,
      );
      log(`   Counted in: ${probe.copies.join(', ')}`);
      log();
      return { perRead, perRepeatRead, constant, sample, sizes };
    },
  );
}
