/**
 * Test data for the assessment figures (4, 5 and 6): synthetic templates inserted the way Posture
 * seeds its own (insertTemplateVersion, through MikroORM), bench accounts, and assessments in
 * progress inserted with SQL. Everything here runs while no server does, so it works on the
 * embedded PGlite as well (one process at a time).
 */
import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded';
import { ormOptions } from '../src/db/orm';
import { createLogger } from '../src/logger';
import { syntheticTemplate } from '../src/modules/assessments/synthetic-template';
import { insertTemplateVersion } from '../src/modules/assessments/template.seeder';
import type { AnswerInputLike, QuestionKind } from '../src/modules/assessments/template.types';

/**
 * Runs `fn` with a MikroORM of Posture's own configuration (its entities; no migrations: Posture
 * ran them when it first started) on the bench database: `DATABASE_URL` of the servers'
 * environment, or the embedded database on their `DATA_DIR`.
 */
export async function withOrm<T>(serverEnv: Record<string, string>, fn: (orm: MikroORM) => Promise<T>): Promise<T> {
  let embedded: EmbeddedDatabase | undefined;
  let url = serverEnv.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedDatabase(serverEnv.DATA_DIR ?? '', createLogger('warn'));
    url = embedded.url;
  }
  try {
    const orm = await MikroORM.init(ormOptions(url, { poolMax: 1 }));
    try {
      return await fn(orm);
    } finally {
      await orm.close();
    }
  } finally {
    await embedded?.stop();
  }
}

/** A template of `categories` × `questionsPerCategory` × `optionsPerQuestion`, as a new version: its id. */
export async function insertSynthetic(
  orm: MikroORM,
  slug: string,
  size: { categories: number; questionsPerCategory: number; optionsPerQuestion: number },
  status: 'DRAFT' | 'PUBLISHED' = 'PUBLISHED',
): Promise<string> {
  const file = syntheticTemplate(slug, size);
  const id = await orm.em.fork().transactional((tx) => insertTemplateVersion(tx, file, new Date(), status));
  if (!id) throw new Error(`template ${slug} v${file.version} exists already`);
  return id;
}

export interface QuestionShape {
  id: string;
  kind: QuestionKind;
  allowsNotApplicable: boolean;
  optionIds: string[];
}

/** A template's questions in order, with their option ids in order: what answers are made from. */
export async function questionsOf(client: pg.Client, templateId: string): Promise<QuestionShape[]> {
  const { rows } = await client.query<QuestionShape>(
    `select q.id, q.kind, q.allows_not_applicable as "allowsNotApplicable",
            array(select o.id::text from question_options o where o.question_id = q.id order by o.position) as "optionIds"
       from template_questions q join template_categories c on c.id = q.category_id
      where c.template_id = $1 order by c.position, q.position`,
    [templateId],
  );
  return rows;
}

/**
 * An answer to every question, a fixed mix: SINGLE questions take one option (cycling through
 * them), MULTIPLE ones two, and every tenth question that allows it is marked not applicable.
 */
export function answersFor(questions: readonly QuestionShape[]): AnswerInputLike[] {
  return questions.map((q, i) => {
    if (q.allowsNotApplicable && i % 10 === 4) return { questionId: q.id, optionIds: [], notApplicable: true };
    if (q.kind === 'MULTIPLE') return { questionId: q.id, optionIds: q.optionIds.slice(0, 2), notApplicable: false };
    return { questionId: q.id, optionIds: [q.optionIds[i % q.optionIds.length]!], notApplicable: false };
  });
}

/**
 * `count` more verified accounts like the bench account (same password hash, so the same
 * password logs in): a copy of its row, whatever columns `users` has, with a new id, email and
 * username. Returns their emails and ids, in order.
 */
export async function copyAccounts(
  client: pg.Client,
  fromEmail: string,
  prefix: string,
  count: number,
): Promise<Array<{ id: string; email: string }>> {
  const { rows: columns } = await client.query<{ name: string }>(
    `select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = 'users' order by ordinal_position`,
  );
  const override: Record<string, string> = {
    id: 'gen_random_uuid()',
    email: `$2 || i || '@posture.test'`,
    username: `left($2, 12) || i`,
    created_at: 'now()',
    updated_at: 'now()',
    email_verified_at: 'now()',
  };
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const values = columns.map((c) => override[c.name] ?? `u."${c.name}"`).join(', ');
  const { rows } = await client.query<{ id: string; email: string }>(
    `insert into users (${names}) select ${values} from users u, generate_series(1, $3::int) i where u.email = $1
     returning id, email`,
    [fromEmail, prefix, count],
  );
  if (rows.length !== count) throw new Error(`copied ${rows.length} bench accounts, wanted ${count}`);
  return rows.sort((a, b) => Number(/(\d+)@/.exec(a.email)![1]) - Number(/(\d+)@/.exec(b.email)![1]));
}

/** `perUser` assessments in progress on `templateId` for each user, inserted in one statement: their ids by user. */
export async function insertInProgress(client: pg.Client, templateId: string, userIds: readonly string[], perUser: number): Promise<string[][]> {
  const { rows } = await client.query<{ id: string; user_id: string }>(
    `insert into assessments (id, created_at, user_id, template_id, status, answers, started_at)
     select gen_random_uuid(), now(), u, $1, 'IN_PROGRESS', '{}', now() from unnest($2::uuid[]) u, generate_series(1, $3::int)
     returning id, user_id`,
    [templateId, userIds, perUser],
  );
  const byUser = new Map<string, string[]>(userIds.map((u) => [u, []]));
  for (const r of rows) byUser.get(r.user_id)!.push(r.id);
  return userIds.map((u) => byUser.get(u)!);
}

/** Drops the users' assessments and vacuums, so every run starts from the same small table. */
export async function clearAssessments(client: pg.Client, userIds: readonly string[]): Promise<void> {
  await client.query(`delete from assessments where user_id = any($1::uuid[])`, [userIds]);
  await client.query('vacuum analyze assessments');
}
