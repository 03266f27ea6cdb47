import DataLoader from 'dataloader';
import type { Context } from '../../graphql/context';
import type { PreparedSql, PreparedStatement } from '../../db/pg-pool';
import type { CategoryNode, OptionNode, QuestionNode, TemplateLocale, TemplateNode } from './template.types';
import { isUuid } from '../../common/ids';

export type TemplateRow = Omit<TemplateNode, 'categories'>;
export type CategoryRow = Omit<CategoryNode, 'questions'>;
export type QuestionRow = Omit<QuestionNode, 'options'>;

/**
 * The columns of each level of a tree, as TemplateNode names them: the catalog's statements and
 * the reads of a draft inside an editing transaction (template-draft.queries.ts) share them.
 */
export const TREE_COLUMNS = {
  templates: `id, slug, name, description, locale, version, status`,
  categories: `id, template_id as "templateId", name, description, weight, position as "order"`,
  questions: `id, category_id as "categoryId", text, help_text as "helpText", kind, weight, position as "order",
            allows_not_applicable as "allowsNotApplicable", recommendation, nist, cis`,
  options: `id, question_id as "questionId", label, points, position as "order"`,
} as const;

const statement = (name: string, text: string): PreparedStatement => ({ name: `posture_catalog_${name}`, text });

const SQL = {
  templates: statement('templates', `select ${TREE_COLUMNS.templates} from assessment_templates where id = any($1::uuid[])`),
  categories: statement(
    'categories',
    `select ${TREE_COLUMNS.categories} from template_categories where template_id = any($1::uuid[]) order by position`,
  ),
  questions: statement(
    'questions',
    `select ${TREE_COLUMNS.questions} from template_questions where category_id = any($1::uuid[]) order by position`,
  ),
  options: statement(
    'options',
    `select ${TREE_COLUMNS.options} from question_options where question_id = any($1::uuid[]) order by position`,
  ),
  latest: statement(
    'latest',
    `select id from assessment_templates where slug = $1 and status = 'PUBLISHED' order by version desc limit 1`,
  ),
  version: statement('version', `select id, status from assessment_templates where slug = $1 and version = $2`),
  latestAll: statement(
    'latest_all',
    `select distinct on (slug) id from assessment_templates
      where status = 'PUBLISHED' and ($1::text is null or locale = $1) order by slug, version desc`,
  ),
};

function groupBy<T>(rows: readonly T[], key: (row: T) => string, keys: readonly string[]): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(key(row))?.push(row);
  return keys.map((k) => groups.get(k)!);
}

/** The per-request loaders a template tree is read through: one statement per level, whatever its size. */
function loadersFor(sql: PreparedSql) {
  return {
    templates: new DataLoader<string, TemplateRow | undefined>(async (ids) => {
      const rows = await sql.query<TemplateRow>(SQL.templates, [ids]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id));
    }),
    categoriesByTemplate: new DataLoader<string, CategoryRow[]>(async (ids) =>
      groupBy(await sql.query<CategoryRow>(SQL.categories, [ids]), (r) => r.templateId, ids),
    ),
    questionsByCategory: new DataLoader<string, QuestionRow[]>(async (ids) =>
      groupBy(await sql.query<QuestionRow>(SQL.questions, [ids]), (r) => r.categoryId, ids),
    ),
    optionsByQuestion: new DataLoader<string, OptionNode[]>(async (ids) =>
      groupBy(await sql.query<OptionNode>(SQL.options, [ids]), (r) => r.questionId, ids),
    ),
  };
}
type Loaders = ReturnType<typeof loadersFor>;

/**
 * Templates as plain trees. Published versions never change, so each is read once per process and
 * kept in memory as a plain object: a repeated read costs no SQL and no ORM hydration. Drafts (and
 * first reads) go through the request's DataLoaders: four statements for a whole tree, however big.
 */
export class TemplateCatalog {
  private readonly published = new Map<string, TemplateNode>();
  /** `slug@version` → id: a published version's id never changes either. */
  private readonly versionIds = new Map<string, string>();

  constructor(private readonly sql: PreparedSql) {}

  private loaders(ctx: Pick<Context, 'loader'> | undefined): Loaders {
    return ctx ? ctx.loader('assessments.templates', () => loadersFor(this.sql)) : loadersFor(this.sql);
  }

  /** A published version's tree if this process has read it already; no SQL. */
  peek(id: string): TemplateNode | undefined {
    return this.published.get(id);
  }

  /** The tree of a template version by id; null when there is none. */
  async byId(id: string, ctx?: Pick<Context, 'loader'>): Promise<TemplateNode | null> {
    const cached = this.published.get(id);
    if (cached) return cached;
    if (!isUuid(id)) return null;
    const loaders = this.loaders(ctx);
    const row = await loaders.templates.load(id);
    if (!row) return null;
    const categories = await loaders.categoriesByTemplate.load(id);
    const questions = await loaders.questionsByCategory.loadMany(categories.map((c) => c.id));
    const questionRows = questions.flatMap((q) => (q instanceof Error ? [] : q));
    const options = await loaders.optionsByQuestion.loadMany(questionRows.map((q) => q.id));
    const tree = assembleTree(row, categories, questionRows, options.flatMap((o) => (o instanceof Error ? [] : o)));
    if (tree.status === 'PUBLISHED') this.published.set(id, deepFreeze(tree));
    return tree;
  }

  /**
   * A version by slug: the given version, or the latest published one. A draft only with
   * `drafts` (staff): for anyone else it is null before its tree is read.
   */
  async bySlug(
    slug: string,
    version: number | null | undefined,
    ctx?: Pick<Context, 'loader'>,
    { drafts = false }: { drafts?: boolean } = {},
  ): Promise<TemplateNode | null> {
    if (slug.length > 64) return null;
    if (version === null || version === undefined) {
      const latest = (await this.sql.query<{ id: string }>(SQL.latest, [slug]))[0]?.id;
      return latest ? this.byId(latest, ctx) : null;
    }
    const key = `${slug}@${version}`;
    let id = this.versionIds.get(key);
    if (!id) {
      const row = (await this.sql.query<{ id: string; status: string }>(SQL.version, [slug, version]))[0];
      if (!row || (row.status !== 'PUBLISHED' && !drafts)) return null;
      id = row.id;
    }
    const tree = await this.byId(id, ctx);
    if (tree?.status === 'PUBLISHED') this.versionIds.set(key, id);
    return tree;
  }

  /** The latest published version of every template, in one locale or all, by slug. */
  async latest(locale: TemplateLocale | null, ctx?: Pick<Context, 'loader'>): Promise<TemplateNode[]> {
    const rows = await this.sql.query<{ id: string }>(SQL.latestAll, [locale]);
    const trees = await Promise.all(rows.map((r) => this.byId(r.id, ctx)));
    return trees.filter((t): t is TemplateNode => t !== null);
  }
}

/** A tree from the rows of its levels, each in order; children keep the order they come in. */
export function assembleTree(row: TemplateRow, categories: readonly CategoryRow[], questions: readonly QuestionRow[], options: readonly OptionNode[]): TemplateNode {
  const optionsOf = groupBy(options, (o) => o.questionId, questions.map((q) => q.id));
  const questionsOf = groupBy(
    questions.map((q, i) => ({ ...q, options: optionsOf[i]! })),
    (q) => q.categoryId,
    categories.map((c) => c.id),
  );
  return { ...row, categories: categories.map((c, i) => ({ ...c, questions: questionsOf[i]! })) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
