import { ASSESSMENT_TEST_ENV } from '../assessments/support';
import { codes, firstCode, ok } from '../support/graphql';
import { bearer, createSuperuser, startTestApp, type TestApp } from '../support/test-app';
import {
  auditEvents,
  buildDraft,
  CIS,
  contentCounts,
  CREATE_DRAFT,
  DELETE_CATEGORY,
  DELETE_DRAFT,
  DELETE_OPTION,
  DELETE_QUESTION,
  DRAFTS,
  NIST,
  newSlug,
  PUBLISH,
  TEMPLATE_BY_SLUG,
  UPSERT_CATEGORY,
  UPSERT_OPTION,
  UPSERT_QUESTION,
} from './support';

// Editing content as staff: a draft made, filled, reordered and published; every write to a
// published version refused; every field checked; and the races (publish, new drafts, inserts)
// ending with one consistent outcome.
describe('editing template content', () => {
  let t: TestApp;
  let staff: string;
  let staffId: string;
  let baselineId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: ASSESSMENT_TEST_ENV });
    const admin = await createSuperuser(t, 'cms');
    staff = bearer(admin).token;
    staffId = admin.id;
    baselineId = ok(await t.gql(TEMPLATE_BY_SLUG, { slug: 'smb-baseline' }, { token: staff })).assessmentTemplate.id;
  });
  afterAll(() => t?.stop());

  const as = (doc: string, vars: Record<string, unknown>) => t.gql(doc, vars, { token: staff });
  const tree = async (slug: string, version: number) => ok(await as(TEMPLATE_BY_SLUG, { slug, version })).assessmentTemplate;
  const orderOf = (items: Array<{ order: number; name?: string; text?: string; label?: string }>) => items.map((i) => [i.order, i.name ?? i.text ?? i.label]);

  it('goes from a new draft through edits to a published version, unseen by the public until then', async () => {
    const slug = newSlug('flow');
    const draft = ok(await as(CREATE_DRAFT, { input: { slug, name: '  Flow  ', description: 'For the flow.', locale: 'en' } })).createTemplateDraft;
    expect(draft).toMatchObject({ slug, name: 'Flow', description: 'For the flow.', locale: 'en', version: 1, status: 'DRAFT', categories: [] });
    expect(ok(await as(DRAFTS, {})).templateDrafts.map((d: any) => d.id)).toContain(draft.id);
    // The public reads do not know it.
    expect(ok(await t.gql(TEMPLATE_BY_SLUG, { slug, version: 1 })).assessmentTemplate).toBeNull();
    expect(ok(await t.gql(TEMPLATE_BY_SLUG, { slug })).assessmentTemplate).toBeNull();
    expect(ok(await t.gql(`{ assessmentTemplates { slug } }`)).assessmentTemplates.map((x: any) => x.slug)).not.toContain(slug);
    expect(firstCode(await t.gql(`mutation { startAssessment(templateSlug: "${slug}") { questionsCount } }`, {}, { token: staff }))).toBe('NOT_FOUND');

    // Categories appended, then one inserted at the front: positions stay 1…n.
    const cat = async (input: Record<string, unknown>) => ok(await as(UPSERT_CATEGORY, { input: { templateId: draft.id, weight: 1, ...input } })).upsertCategory;
    const access = await cat({ name: 'Access', description: 'Who gets in.' });
    const backup = await cat({ name: 'Backup', weight: 2 });
    const first = await cat({ name: 'Basics', order: 1 });
    expect(first.order).toBe(1);
    expect(orderOf((await tree(slug, 1)).categories)).toEqual([[1, 'Basics'], [2, 'Access'], [3, 'Backup']]);

    // Questions, with references in the form Question.references shows them.
    const q = async (input: Record<string, unknown>) =>
      ok(await as(UPSERT_QUESTION, { input: { kind: 'SINGLE', weight: 2, recommendation: 'Do it.', references: [NIST], ...input } })).upsertQuestion;
    const mfa = await q({ categoryId: access.id, text: 'Is MFA on?', helpText: 'A second factor.', references: [NIST, CIS, NIST] });
    expect(mfa).toMatchObject({ text: 'Is MFA on?', helpText: 'A second factor.', kind: 'SINGLE', weight: 2, order: 1, allowsNotApplicable: false, references: [NIST, CIS], options: [] });
    const backups = await q({ categoryId: backup.id, text: 'Are backups tested?', kind: 'MULTIPLE', weight: 3 });
    const basics = await q({ categoryId: first.id, text: 'Is there an owner?' });
    const opt = async (questionId: string, label: string, points: number, order?: number) =>
      ok(await as(UPSERT_OPTION, { input: { questionId, label, points, order } })).upsertOption;
    await opt(mfa.id, 'Yes', 2);
    await opt(mfa.id, 'No', 0, 1);
    const partly = await opt(mfa.id, 'Partly', 1, 2);
    expect(orderOf((await tree(slug, 1)).categories[1].questions[0].options)).toEqual([[1, 'No'], [2, 'Partly'], [3, 'Yes']]);
    await opt(backups.id, 'Monthly', 2);
    await opt(backups.id, 'Offsite', 1);
    await opt(basics.id, 'Yes', 2);
    const basicsNo = await opt(basics.id, 'No', 0);

    // Changes: fields, an order, and a move to another category of the draft.
    const renamed = ok(await as(UPSERT_CATEGORY, { input: { id: access.id, name: 'Access control', description: null, order: 3 } })).upsertCategory;
    expect(renamed).toMatchObject({ name: 'Access control', description: null, weight: 1, order: 3 });
    expect(orderOf((await tree(slug, 1)).categories)).toEqual([[1, 'Basics'], [2, 'Backup'], [3, 'Access control']]);
    const moved = ok(await as(UPSERT_QUESTION, { input: { id: mfa.id, categoryId: first.id, order: 1, allowsNotApplicable: true, references: [CIS, NIST] } })).upsertQuestion;
    expect(moved).toMatchObject({ order: 1, allowsNotApplicable: true, references: [NIST, CIS], text: 'Is MFA on?' });
    const afterMove = await tree(slug, 1);
    expect(afterMove.categories[0].questions.map((x: any) => [x.order, x.id])).toEqual([[1, mfa.id], [2, basics.id]]);
    expect(afterMove.categories[2].questions).toEqual([]);
    ok(await as(UPSERT_OPTION, { input: { id: partly.id, label: 'Half', points: 1.5, order: 1 } }));
    ok(await as(UPSERT_OPTION, { input: { id: basicsNo.id, questionId: mfa.id, order: 2 } }));
    const options = (await tree(slug, 1)).categories[0].questions[0].options;
    expect(options.map((o: any) => [o.order, o.label, o.points])).toEqual([[1, 'Half', 1.5], [2, 'No', 0], [3, 'No', 0], [4, 'Yes', 2]]);
    expect((await tree(slug, 1)).categories[0].questions[1].options.map((o: any) => [o.order, o.label])).toEqual([[1, 'Yes']]);

    // Deletes close the gaps; a category goes with its questions and options.
    expect(ok(await as(DELETE_OPTION, { id: basicsNo.id })).deleteOption).toBe(true);
    expect(ok(await as(DELETE_CATEGORY, { id: access.id })).deleteCategory).toBe(true);
    const spare = await q({ categoryId: backup.id, text: 'Spare?', order: 1 });
    expect(ok(await as(DELETE_QUESTION, { id: spare.id })).deleteQuestion).toBe(true);
    const final = await tree(slug, 1);
    expect(orderOf(final.categories)).toEqual([[1, 'Basics'], [2, 'Backup']]);
    expect(final.categories[1].questions.map((x: any) => [x.order, x.text])).toEqual([[1, 'Are backups tested?']]);
    expect(final.categories[0].questions[0].options.map((o: any) => [o.order, o.label])).toEqual([[1, 'Half'], [2, 'No'], [3, 'Yes']]);

    const published = ok(await as(PUBLISH, { id: draft.id })).publishTemplate;
    expect(published).toMatchObject({ id: draft.id, version: 1, status: 'PUBLISHED' });
    expect(ok(await as(DRAFTS, {})).templateDrafts.map((d: any) => d.id)).not.toContain(draft.id);
    const publicView = ok(await t.gql(TEMPLATE_BY_SLUG, { slug })).assessmentTemplate;
    expect(publicView).toMatchObject({ id: draft.id, status: 'PUBLISHED' });
    // The answer key and the recommendations stay staff-only on the public read.
    const publicOptions = publicView.categories.flatMap((c: any) => c.questions.flatMap((x: any) => x.options));
    expect(publicOptions.every((o: any) => o.points === null)).toBe(true);
    expect(publicView.categories.flatMap((c: any) => c.questions.map((x: any) => x.recommendation))).toEqual([null, null, null]);
    expect(ok(await t.gql(`{ assessmentTemplates { slug } }`)).assessmentTemplates.map((x: any) => x.slug)).toContain(slug);

    // Each change is in the audit log, by the staff member, with what changed.
    const created = await auditEvents(t, 'admin.upsertCategory', access.id);
    expect(created.map((e) => e.actor_id)).toEqual([staffId, staffId]);
    expect(created[0]).toMatchObject({ target_type: 'category', changes: { name: { before: null, after: 'Access' }, order: { before: null, after: 1 } } });
    expect(created[1]!.changes).toEqual({
      name: { before: 'Access', after: 'Access control' },
      description: { before: 'Who gets in.', after: null },
      order: { before: 2, after: 3 },
    });
    expect((await auditEvents(t, 'admin.upsertQuestion', mfa.id))[1]!.changes).toMatchObject({
      categoryId: { before: access.id, after: first.id },
      allowsNotApplicable: { before: false, after: true },
    });
    expect((await auditEvents(t, 'admin.deleteCategory', access.id))[0]).toMatchObject({ actor_id: staffId, changes: { name: { before: 'Access control', after: null } } });
    expect(await auditEvents(t, 'admin.createTemplateDraft', draft.id)).toHaveLength(1);
    expect((await auditEvents(t, 'admin.publishTemplate', draft.id))[0]).toMatchObject({
      actor_id: staffId,
      target_type: 'template',
      changes: { status: { before: 'DRAFT', after: 'PUBLISHED' }, slug, version: 1 },
    });
    expect(await auditEvents(t, 'admin.deleteOption', basicsNo.id)).toHaveLength(1);
    expect(await auditEvents(t, 'admin.deleteQuestion', spare.id)).toHaveLength(1);
  });

  it('refuses every write to or under a published version with CONFLICT, and changes nothing', async () => {
    const base = await tree('smb-baseline', 1);
    const category = base.categories[0];
    const question = category.questions[0];
    const option = question.options[0];
    const before = await contentCounts(t);
    const attempts: Array<[string, Record<string, unknown>]> = [
      [UPSERT_CATEGORY, { input: { templateId: base.id, name: 'Extra', weight: 1 } }],
      [UPSERT_CATEGORY, { input: { id: category.id, name: 'Renamed' } }],
      [UPSERT_QUESTION, { input: { categoryId: category.id, text: 'Extra?', kind: 'SINGLE', weight: 1, recommendation: 'x' } }],
      [UPSERT_QUESTION, { input: { id: question.id, weight: 9 } }],
      [UPSERT_OPTION, { input: { questionId: question.id, label: 'Extra', points: 0 } }],
      [UPSERT_OPTION, { input: { id: option.id, points: 99 } }],
      [DELETE_CATEGORY, { id: category.id }],
      [DELETE_QUESTION, { id: question.id }],
      [DELETE_OPTION, { id: option.id }],
      [PUBLISH, { id: base.id }],
      [DELETE_DRAFT, { id: base.id }],
    ];
    for (const [doc, vars] of attempts) {
      const res = await as(doc, vars);
      expect({ doc: doc.slice(0, 40), codes: codes(res) }).toEqual({ doc: doc.slice(0, 40), codes: ['CONFLICT'] });
    }
    expect(await contentCounts(t)).toEqual(before);
    expect(await tree('smb-baseline', 1)).toEqual(base);
    // A refused change leaves no audit event.
    expect(await auditEvents(t, 'admin.upsertOption', option.id)).toEqual([]);
  });

  it('copies a published version into the next draft of its slug, new ids throughout, one draft at a time', async () => {
    const base = await tree('smb-baseline', 1);
    const copy = ok(await as(CREATE_DRAFT, { input: { fromTemplateId: baselineId } })).createTemplateDraft;
    expect(copy).toMatchObject({ slug: 'smb-baseline', version: 2, status: 'DRAFT', name: base.name, description: base.description, locale: 'en' });
    const idsOf = (x: any): string[] => [x.id, ...x.categories.flatMap((c: any) => [c.id, ...c.questions.flatMap((q: any) => [q.id, ...q.options.map((o: any) => o.id)])])];
    const strip = (x: any): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'id' || k === 'version' || k === 'status' ? undefined : v)));
    expect(idsOf(copy).filter((id) => idsOf(base).includes(id))).toEqual([]);
    expect(strip(copy)).toEqual(strip(base));
    // The published version is still the one the public gets.
    expect(ok(await t.gql(TEMPLATE_BY_SLUG, { slug: 'smb-baseline' })).assessmentTemplate.version).toBe(1);

    expect(firstCode(await as(CREATE_DRAFT, { input: { fromTemplateId: baselineId } }))).toBe('CONFLICT');
    // A draft is edited, not copied; a slug that exists is continued, not started again.
    expect(firstCode(await as(CREATE_DRAFT, { input: { fromTemplateId: copy.id, slug: newSlug() } }))).toBe('BAD_USER_INPUT');
    expect(firstCode(await as(CREATE_DRAFT, { input: { slug: 'smb-baseline-nb', name: 'Again', locale: 'nb' } }))).toBe('CONFLICT');
    // A copy under a new slug starts that slug at version 1.
    const fork = ok(await as(CREATE_DRAFT, { input: { fromTemplateId: baselineId, slug: newSlug('fork'), name: 'Fork' } })).createTemplateDraft;
    expect(fork).toMatchObject({ version: 1, name: 'Fork', status: 'DRAFT' });
    expect(fork.categories).toHaveLength(base.categories.length);
    // A slug keeps its language.
    const nb = ok(await t.gql(TEMPLATE_BY_SLUG, { slug: 'smb-baseline-nb' })).assessmentTemplate;
    const wrongLocale = await as(CREATE_DRAFT, { input: { fromTemplateId: nb.id, locale: 'en' } });
    expect(wrongLocale.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'locale' });

    for (const id of [copy.id, fork.id]) expect(ok(await as(DELETE_DRAFT, { id })).deleteTemplateDraft).toBe(true);
    expect(ok(await as(TEMPLATE_BY_SLUG, { slug: 'smb-baseline', version: 2 })).assessmentTemplate).toBeNull();
    expect((await auditEvents(t, 'admin.deleteTemplateDraft', copy.id))[0]!.changes).toMatchObject({ slug: { before: 'smb-baseline', after: null } });
  });

  it('checks every field, naming it, before anything is written', async () => {
    const draft = await buildDraft(t, staff);
    const category = draft.categories[0];
    const question = category.questions[0];
    const before = await contentCounts(t);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [CREATE_DRAFT, { input: { slug: 'Bad Slug', name: 'x', locale: 'en' } }, 'slug'],
      [CREATE_DRAFT, { input: { slug: newSlug(), name: '   ', locale: 'en' } }, 'name'],
      [CREATE_DRAFT, { input: { slug: newSlug(), name: 'x', locale: 'de' } }, 'locale'],
      [CREATE_DRAFT, { input: { slug: newSlug(), name: 'x'.repeat(201), locale: 'en' } }, 'name'],
      [CREATE_DRAFT, { input: { slug: newSlug(), name: 'Tab\u0007bell', locale: 'en' } }, 'name'],
      [UPSERT_CATEGORY, { input: { templateId: draft.id, weight: 1 } }, 'name'],
      [UPSERT_CATEGORY, { input: { name: 'Orphan', weight: 1 } }, 'templateId'],
      [UPSERT_QUESTION, { input: { text: 'Orphan?', kind: 'SINGLE', weight: 1, recommendation: 'r' } }, 'categoryId'],
      [UPSERT_OPTION, { input: { label: 'Orphan', points: 0 } }, 'questionId'],
      [UPSERT_CATEGORY, { input: { templateId: draft.id, name: 'No weight' } }, 'weight'],
      [UPSERT_CATEGORY, { input: { templateId: draft.id, name: 'Negative', weight: -1 } }, 'weight'],
      [UPSERT_CATEGORY, { input: { templateId: draft.id, name: 'Huge', weight: 1e9 } }, 'weight'],
      [UPSERT_CATEGORY, { input: { templateId: draft.id, name: 'Nul\u0000', weight: 1 } }, 'name'],
      [UPSERT_CATEGORY, { input: { templateId: draft.id, name: 'Zero', weight: 1, order: 0 } }, 'order'],
      [UPSERT_CATEGORY, { input: { id: category.id, description: 'd'.repeat(2001) } }, 'description'],
      [UPSERT_CATEGORY, { input: { id: category.id, name: null } }, 'name'],
      [UPSERT_CATEGORY, { input: { id: category.id, templateId: baselineId } }, 'templateId'],
      [UPSERT_QUESTION, { input: { categoryId: category.id, kind: 'SINGLE', weight: 1, recommendation: 'r' } }, 'text'],
      [UPSERT_QUESTION, { input: { categoryId: category.id, text: 't', weight: 1, recommendation: 'r' } }, 'kind'],
      [UPSERT_QUESTION, { input: { categoryId: category.id, text: 't', kind: 'SINGLE', weight: 1 } }, 'recommendation'],
      [UPSERT_QUESTION, { input: { id: question.id, references: ['PR.AA-99'] } }, 'references'],
      [UPSERT_QUESTION, { input: { id: question.id, references: ['CIS 99.9'] } }, 'references'],
      [UPSERT_QUESTION, { input: { id: question.id, references: ['NIST PR.AA-01'] } }, 'references'],
      [UPSERT_QUESTION, { input: { id: question.id, helpText: 'line\r\nbreak' } }, 'helpText'],
      [UPSERT_QUESTION, { input: { id: question.id, weight: -0.5 } }, 'weight'],
      [UPSERT_QUESTION, { input: { id: question.id, kind: null } }, 'kind'],
      [UPSERT_QUESTION, { input: { id: question.id, categoryId: ok(await as(TEMPLATE_BY_SLUG, { slug: 'smb-baseline' })).assessmentTemplate.categories[0].id } }, 'categoryId'],
      [UPSERT_OPTION, { input: { questionId: question.id, points: 1 } }, 'label'],
      [UPSERT_OPTION, { input: { questionId: question.id, label: 'x' } }, 'points'],
      [UPSERT_OPTION, { input: { id: question.options[0].id, points: -1 } }, 'points'],
      [UPSERT_OPTION, { input: { id: question.options[0].id, label: 'x'.repeat(501) } }, 'label'],
    ];
    for (const [doc, vars, field] of cases) {
      const res = await as(doc, vars);
      const error = res.errors?.[0];
      expect({ vars, code: error?.extensions?.code, field: error?.extensions?.field }).toEqual({ vars, code: 'BAD_USER_INPUT', field });
    }
    // Empty inputs and an empty document: refused, never an internal error.
    for (const [doc, vars, code] of [
      [CREATE_DRAFT, { input: {} }, 'BAD_USER_INPUT'],
      [UPSERT_CATEGORY, { input: {} }, 'BAD_USER_INPUT'],
      [UPSERT_QUESTION, { input: {} }, 'BAD_USER_INPUT'],
      [UPSERT_OPTION, { input: {} }, 'BAD_USER_INPUT'],
      [UPSERT_CATEGORY, { input: { name: 'x', weight: 1 } }, 'BAD_USER_INPUT'],
      [`mutation { importTemplate(document: {}) { id } }`, {}, 'BAD_USER_INPUT'],
      [`mutation { importTemplate(document: null) { id } }`, {}, 'GRAPHQL_VALIDATION_FAILED'],
    ] as const) {
      expect({ doc: doc.slice(0, 40), codes: codes(await as(doc, vars)) }).toEqual({ doc: doc.slice(0, 40), codes: [code] });
    }
    // An enum value GraphQL does not know is refused before the resolver.
    expect(firstCode(await as(UPSERT_QUESTION, { input: { id: question.id, kind: 'ANY' } }))).toBe('BAD_USER_INPUT');
    expect(await contentCounts(t)).toEqual(before);
    expect(await tree(draft.slug, 1)).toEqual(draft);
  });

  it('accepts only the declared input fields (no status, version or publication set through an edit)', async () => {
    const draft = await buildDraft(t, staff);
    const before = await contentCounts(t);
    const attempts: Array<[string, Record<string, unknown>]> = [
      [CREATE_DRAFT, { input: { slug: newSlug(), name: 'x', locale: 'en', status: 'PUBLISHED' } }],
      [CREATE_DRAFT, { input: { slug: newSlug(), name: 'x', locale: 'en', version: 7 } }],
      [UPSERT_CATEGORY, { input: { id: draft.categories[0].id, status: 'PUBLISHED' } }],
      [UPSERT_QUESTION, { input: { id: draft.categories[0].questions[0].id, nist: ['PR.AA-01'] } }],
      [UPSERT_OPTION, { input: { id: draft.categories[0].questions[0].options[0].id, publishedAt: '2020-01-01T00:00:00Z' } }],
    ];
    for (const [doc, vars] of attempts) expect(codes(await as(doc, vars))).toEqual(['BAD_USER_INPUT']);
    expect(await contentCounts(t)).toEqual(before);
    expect(await tree(draft.slug, 1)).toEqual(draft);
  });

  it('answers NOT_FOUND for ids that are malformed, unknown or of the wrong kind', async () => {
    const draft = await buildDraft(t, staff);
    const question = draft.categories[0].questions[0];
    const ids = ['not-a-uuid', '', '00000000-0000-4000-8000-000000000000', `${draft.id}x`, "' or 1=1 --"];
    const docs: Array<[string, (id: string) => Record<string, unknown>]> = [
      [UPSERT_CATEGORY, (id) => ({ input: { id, name: 'x' } })],
      [UPSERT_CATEGORY, (id) => ({ input: { templateId: id, name: 'x', weight: 1 } })],
      [UPSERT_QUESTION, (id) => ({ input: { id, text: 'x' } })],
      [UPSERT_QUESTION, (id) => ({ input: { categoryId: id, text: 'x', kind: 'SINGLE', weight: 1, recommendation: 'r' } })],
      [UPSERT_OPTION, (id) => ({ input: { id, label: 'x' } })],
      [UPSERT_OPTION, (id) => ({ input: { questionId: id, label: 'x', points: 0 } })],
      [DELETE_CATEGORY, (id) => ({ id })],
      [DELETE_QUESTION, (id) => ({ id })],
      [DELETE_OPTION, (id) => ({ id })],
      [PUBLISH, (id) => ({ id })],
      [DELETE_DRAFT, (id) => ({ id })],
      [CREATE_DRAFT, (id) => ({ input: { fromTemplateId: id } })],
    ];
    for (const [doc, vars] of docs) {
      for (const id of ids) expect({ doc: doc.slice(0, 45), id, codes: codes(await as(doc, vars(id))) }).toEqual({ doc: doc.slice(0, 45), id, codes: ['NOT_FOUND'] });
    }
    // The id of another kind of row names nothing of this kind.
    expect(firstCode(await as(DELETE_OPTION, { id: question.id }))).toBe('NOT_FOUND');
    expect(firstCode(await as(UPSERT_QUESTION, { input: { categoryId: draft.id, text: 'x', kind: 'SINGLE', weight: 1, recommendation: 'r' } }))).toBe('NOT_FOUND');
    expect(firstCode(await as(PUBLISH, { id: question.id }))).toBe('NOT_FOUND');
  });

  it('refuses to publish a draft that fails the checks of the bundled files, listing the problems', async () => {
    const draft = await buildDraft(t, staff);
    const question = draft.categories[0].questions[0];
    // No option worth the full weight any more, and an option above it.
    ok(await as(UPSERT_OPTION, { input: { id: question.options[1].id, points: 1 } }));
    ok(await as(UPSERT_OPTION, { input: { questionId: question.id, label: 'Too much', points: 5 } }));
    const empty = ok(await as(UPSERT_CATEGORY, { input: { templateId: draft.id, name: 'Empty', weight: 0 } })).upsertCategory;
    const res = await as(PUBLISH, { id: draft.id });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    const problems: string[] = res.errors![0]!.extensions!.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/categories\[0\]\.questions\[0\]: options\[2\]: points 5 are outside \[0, 2\]/),
        expect.stringMatching(/categories\[0\]\.questions\[0\]: a SINGLE question needs an option worth the full weight 2/),
        expect.stringMatching(/categories\[2\]: weight 0 must be a number > 0/),
        expect.stringMatching(/categories\[2\]: questions must be a non-empty list/),
      ]),
    );
    expect((await tree(draft.slug, 1)).status).toBe('DRAFT');
    expect(await auditEvents(t, 'admin.publishTemplate', draft.id)).toEqual([]);
    // Fixed, it publishes.
    ok(await as(DELETE_CATEGORY, { id: empty.id }));
    ok(await as(UPSERT_OPTION, { input: { id: question.options[1].id, points: 2 } }));
    ok(await as(DELETE_OPTION, { id: (await tree(draft.slug, 1)).categories[0].questions[0].options[2].id }));
    expect(ok(await as(PUBLISH, { id: draft.id })).publishTemplate.status).toBe('PUBLISHED');
  });

  it('shows an edit to the mutations after it in the same request', async () => {
    const draft = await buildDraft(t, staff);
    const option = draft.categories[0].questions[0].options[0];
    const res = ok(
      await as(
        `mutation ($id: ID!, $option: ID!) {
          before: exportTemplate(id: $id)
          edit: upsertOption(input: { id: $option, label: "Not yet" }) { label }
          after: exportTemplate(id: $id)
          published: publishTemplate(id: $id) { status categories { questions { options { label } } } } }`,
        { id: draft.id, option: option.id },
      ),
    );
    expect(res.before.categories[0].questions[0].options[0].label).toBe('No');
    expect(res.after.categories[0].questions[0].options[0].label).toBe('Not yet');
    expect(res.published).toMatchObject({ status: 'PUBLISHED', categories: [{ questions: [{ options: [{ label: 'Not yet' }, { label: 'Yes' }] }, expect.anything()] }, expect.anything()] });
  });

  it('publishes a draft once under 20 concurrent publishes', async () => {
    const draft = await buildDraft(t, staff);
    const results = await Promise.all(Array.from({ length: 20 }, () => as(PUBLISH, { id: draft.id })));
    const outcomes = results.map((r) => (r.errors ? r.errors[0]!.extensions!.code : 'OK'));
    expect(outcomes.filter((o) => o === 'OK')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'OK')).toEqual(Array(19).fill('CONFLICT'));
    expect(await auditEvents(t, 'admin.publishTemplate', draft.id)).toHaveLength(1);
    expect((await tree(draft.slug, 1)).status).toBe('PUBLISHED');
  });

  it('makes one draft of a slug under concurrent createTemplateDraft, and keeps positions whole under concurrent inserts', async () => {
    const source = await buildDraft(t, staff);
    ok(await as(PUBLISH, { id: source.id }));
    const results = await Promise.all(Array.from({ length: 10 }, () => as(CREATE_DRAFT, { input: { fromTemplateId: source.id } })));
    const made = results.filter((r) => !r.errors).map((r) => r.data!.createTemplateDraft);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ slug: source.slug, version: 2, status: 'DRAFT' });
    expect(results.filter((r) => r.errors).map((r) => codes(r))).toEqual(Array(9).fill(['CONFLICT']));
    const [row] = await t.sql<{ n: string }>(`select count(*) as n from assessment_templates where slug = ?`, [source.slug]);
    expect(Number(row!.n)).toBe(2);

    const draftId = made[0].id;
    const inserted = await Promise.all(
      Array.from({ length: 10 }, (_, i) => as(UPSERT_CATEGORY, { input: { templateId: draftId, name: `Parallel ${i}`, weight: 1, order: 1 } })),
    );
    inserted.forEach((r) => ok(r));
    const categories = (await tree(source.slug, 2)).categories;
    expect(categories.map((c: any) => c.order)).toEqual(Array.from({ length: categories.length }, (_, i) => i + 1));
    expect(categories).toHaveLength(source.categories.length + 10);
  });
});
