import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, conflict, notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { assembleTree, TREE_COLUMNS, type CategoryRow, type QuestionRow, type TemplateRow } from './template.catalog';
import type { OptionNode, TemplateLocale, TemplateNode } from './template.types';

/**
 * The statements of editing content, run inside the editing transaction. Every write first locks
 * its template version's row (`for update`) and checks that it is a draft: writes to one draft, its
 * publication and its deletion therefore run one at a time, and nothing commits under a version
 * once it is published.
 */

type Db = Pick<EntityManager, 'execute'>;

/** A row kind of a template tree, with its table, its parent column and how to find its template. */
export const LEVELS = {
  category: {
    what: 'Category',
    table: 'template_categories',
    parent: 'template_id',
    templateOf: `select template_id as id from template_categories where id = ?`,
  },
  question: {
    what: 'Question',
    table: 'template_questions',
    parent: 'category_id',
    templateOf: `select c.template_id as id from template_questions q join template_categories c on c.id = q.category_id where q.id = ?`,
  },
  option: {
    what: 'Option',
    table: 'question_options',
    parent: 'question_id',
    templateOf: `select c.template_id as id from question_options o
                   join template_questions q on q.id = o.question_id
                   join template_categories c on c.id = q.category_id where o.id = ?`,
  },
} as const;
export type Level = keyof typeof LEVELS;

/** Locks a template version's row for the rest of the transaction; NOT_FOUND naming `field` when there is none. */
export async function lockTemplate(tx: Db, id: string | null | undefined, field: string): Promise<TemplateRow> {
  if (!id || !isUuid(id)) throw notFound('Template', field);
  const [row] = await tx.execute<TemplateRow[]>(`select ${TREE_COLUMNS.templates} from assessment_templates where id = ? for update`, [id]);
  if (!row) throw notFound('Template', field);
  return row;
}

const published = (field: string) =>
  conflict('A published version never changes: make a draft of the next version (createTemplateDraft) and edit that.', { field });

/** Locks a draft by its id: NOT_FOUND when there is none, CONFLICT when it is published. */
export async function lockDraft(tx: Db, id: string | null | undefined, field: string): Promise<TemplateRow> {
  const row = await lockTemplate(tx, id, field);
  if (row.status !== 'DRAFT') throw published(field);
  return row;
}

/**
 * Locks the draft a category, question or option (`id`) belongs to, and returns its id: NOT_FOUND
 * when the row does not exist (or is gone once the lock is held), CONFLICT when it is published.
 */
export async function lockDraftOf(tx: Db, level: Level, id: string | null | undefined, field: string): Promise<string> {
  const { what, table, templateOf } = LEVELS[level];
  if (!id || !isUuid(id)) throw notFound(what, field);
  // A row never changes template, so its template is found before the lock and stays right.
  const [owner] = await tx.execute<Array<{ id: string }>>(templateOf, [id]);
  if (!owner) throw notFound(what, field);
  const template = await lockTemplate(tx, owner.id, field);
  if (template.status !== 'DRAFT') throw published(field);
  const [still] = await tx.execute(`select 1 from ${table} where id = ?`, [id]);
  if (!still) throw notFound(what, field);
  return template.id;
}

/** The rows under `parentId` at one level. */
export async function countUnder(tx: Db, level: Level, parentId: string): Promise<number> {
  const { table, parent } = LEVELS[level];
  const [row] = await tx.execute<Array<{ n: string | number }>>(`select count(*) as n from ${table} where ${parent} = ?`, [parentId]);
  return Number(row?.n ?? 0);
}

/**
 * Shifts the siblings under `parentId` at or after `from` by `delta` (±1), leaving `exceptId` (the
 * row being moved) where it is: positions stay 1…n without gaps as rows come, go and move.
 */
export async function shiftSiblings(tx: Db, level: Level, parentId: string, from: number, delta: 1 | -1, exceptId: string | null = null): Promise<void> {
  const { table, parent } = LEVELS[level];
  await tx.execute(`update ${table} set position = position + ? where ${parent} = ? and position >= ? and id is distinct from ?`, [
    delta,
    parentId,
    from,
    exceptId,
  ]);
}

/** The parent of a row at one level, when it belongs to `templateId`: for moves within a draft. */
export async function parentIn(tx: Db, level: 'question' | 'option', parentId: string | null | undefined, templateId: string, field: string): Promise<string> {
  const parentLevel: Level = level === 'question' ? 'category' : 'question';
  const what = LEVELS[parentLevel].what;
  if (!parentId || !isUuid(parentId)) throw notFound(what, field);
  const [owner] = await tx.execute<Array<{ id: string }>>(LEVELS[parentLevel].templateOf, [parentId]);
  if (!owner) throw notFound(what, field);
  if (owner.id !== templateId) throw badInput(field, `${field}: must be in the same draft.`);
  return parentId;
}

/** A version's whole tree, read in the transaction that holds its row locked. */
export async function treeIn(tx: Db, row: TemplateRow): Promise<TemplateNode> {
  // One after the other: a transaction is one connection.
  const categories = await tx.execute<CategoryRow[]>(
    `select ${TREE_COLUMNS.categories} from template_categories where template_id = ? order by position`,
    [row.id],
  );
  const questions = await tx.execute<QuestionRow[]>(
    `select ${prefixed('q', TREE_COLUMNS.questions)} from template_questions q
       join template_categories c on c.id = q.category_id where c.template_id = ? order by q.position`,
    [row.id],
  );
  const options = await tx.execute<OptionNode[]>(
    `select ${prefixed('o', TREE_COLUMNS.options)} from question_options o
       join template_questions q on q.id = o.question_id
       join template_categories c on c.id = q.category_id where c.template_id = ? order by o.position`,
    [row.id],
  );
  return assembleTree(row, categories, questions, options);
}

/** A column list with each column qualified by `alias` (`id` → `q.id`), for the joins above. */
function prefixed(alias: string, columns: string): string {
  return columns
    .split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}

/**
 * The version a new draft of `slug` gets: 1 for a new slug, else one past the newest. CONFLICT when
 * the slug has a draft already (one at a time), BAD_USER_INPUT when `locale` is not the slug's.
 * Read in one statement, so a draft committed meanwhile is either seen here or makes the insert
 * of the same version fail (the unique (slug, version)).
 */
export async function nextVersion(tx: Db, slug: string, locale: TemplateLocale, field?: string): Promise<{ version: number; exists: boolean }> {
  const [state] = await tx.execute<Array<{ latest: number | null; drafts: string | number; locales: string[] | null }>>(
    `select max(version) as latest, count(*) filter (where status = 'DRAFT') as drafts, array_agg(distinct locale) as locales
       from assessment_templates where slug = ?`,
    [slug],
  );
  if (!state || state.latest === null) return { version: 1, exists: false };
  if (Number(state.drafts) > 0) throw conflict(`The template "${slug}" has a draft already: edit or publish that one.`, { field: field ?? 'slug' });
  if (state.locales && !state.locales.includes(locale)) {
    throw badInput(field ?? 'locale', `locale: the template "${slug}" is in "${state.locales[0]}"; a template keeps its language across versions.`);
  }
  return { version: Number(state.latest) + 1, exists: true };
}
