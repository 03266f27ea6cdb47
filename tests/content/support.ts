import { auditRows } from '../support/audit';
import { ok } from '../support/graphql';
import type { TestApp } from '../support/test-app';

/** The fields of a template tree as staff see them (option points and recommendations included). */
export const TREE = `id slug name description locale version status
  categories { id name description weight order questions { id text helpText kind weight order allowsNotApplicable recommendation references nist cis
    options { id label points order } } }`;

export const DRAFTS = `{ templateDrafts { ${TREE} } }`;
export const TEMPLATE_BY_SLUG = `query ($slug: String!, $version: Int) { assessmentTemplate(slug: $slug, version: $version) { ${TREE} } }`;
export const CREATE_DRAFT = `mutation ($input: TemplateDraftInput!) { createTemplateDraft(input: $input) { ${TREE} } }`;
export const UPSERT_CATEGORY = `mutation ($input: CategoryInput!) { upsertCategory(input: $input) { id name description weight order questions { id } } }`;
export const UPSERT_QUESTION = `mutation ($input: QuestionInput!) { upsertQuestion(input: $input) {
  id text helpText kind weight order allowsNotApplicable recommendation references options { id label points order } } }`;
export const UPSERT_OPTION = `mutation ($input: OptionInput!) { upsertOption(input: $input) { id label points order } }`;
export const DELETE_CATEGORY = `mutation ($id: ID!) { deleteCategory(id: $id) }`;
export const DELETE_QUESTION = `mutation ($id: ID!) { deleteQuestion(id: $id) }`;
export const DELETE_OPTION = `mutation ($id: ID!) { deleteOption(id: $id) }`;
export const PUBLISH = `mutation ($id: ID!) { publishTemplate(id: $id) { ${TREE} } }`;
export const EXPORT = `mutation ($id: ID!) { exportTemplate(id: $id) }`;
export const IMPORT = `mutation ($document: JSON!) { importTemplate(document: $document) { ${TREE} } }`;
export const DELETE_DRAFT = `mutation ($id: ID!) { deleteTemplateDraft(id: $id) }`;

/** The valid NIST ids and CIS safeguards the tests reference. */
export const NIST = 'PR.AA-01';
export const CIS = 'CIS 5.2';

let n = 0;
/** A slug no other test of the run uses. */
export const newSlug = (prefix = 'tpl') => `${prefix}-${Date.now().toString(36)}-${(n++).toString(36)}`;

/**
 * Builds a small draft through the API: `shape[c]` is the number of SINGLE questions of category
 * c, each with options worth 0 and the full weight 2. Returns the draft as staff read it.
 */
export async function buildDraft(t: TestApp, token: string, slug = newSlug(), shape: number[] = [2, 1]) {
  const draft = ok(await t.gql(CREATE_DRAFT, { input: { slug, name: `Draft ${slug}`, locale: 'en' } }, { token })).createTemplateDraft;
  for (const [c, questions] of shape.entries()) {
    const category = ok(await t.gql(UPSERT_CATEGORY, { input: { templateId: draft.id, name: `Category ${c + 1}`, weight: 1 } }, { token })).upsertCategory;
    for (let q = 0; q < questions; q++) {
      const question = ok(
        await t.gql(
          UPSERT_QUESTION,
          { input: { categoryId: category.id, text: `Question ${c + 1}.${q + 1}?`, kind: 'SINGLE', weight: 2, recommendation: `Fix ${c + 1}.${q + 1}.`, references: [NIST, CIS] } },
          { token },
        ),
      ).upsertQuestion;
      for (const [label, points] of [['No', 0], ['Yes', 2]] as const) {
        ok(await t.gql(UPSERT_OPTION, { input: { questionId: question.id, label, points } }, { token }));
      }
    }
  }
  return ok(await t.gql(TEMPLATE_BY_SLUG, { slug, version: draft.version }, { token })).assessmentTemplate;
}

/** The audit events of one action, oldest first. */
export const auditEvents = (t: TestApp, action: string, targetId?: string) => auditRows(t, { action, targetId });

/** Row counts of the template tables: to show that a refused call changed nothing. */
export async function contentCounts(t: TestApp) {
  const [row] = await t.sql<Record<string, string>>(
    `select (select count(*) from assessment_templates) as templates, (select count(*) from template_categories) as categories,
            (select count(*) from template_questions) as questions, (select count(*) from question_options) as options,
            (select count(*) from assessment_templates where status = 'PUBLISHED') as published,
            (select coalesce(sum(length(name)), 0) from template_categories) as names,
            (select coalesce(sum(points), 0) from question_options) as points`,
  );
  return row;
}
