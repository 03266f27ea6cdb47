import { ASSESSMENT_TEST_ENV, captureLead, LEAD_ONLY_LIMITS } from '../assessments/support';
import { type GraphQLResponse, ok, valuesOf } from '../support/graphql';
import { bearer, createSuperuser, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';
import {
  buildDraft,
  contentCounts,
  CREATE_DRAFT,
  DELETE_CATEGORY,
  DELETE_DRAFT,
  DELETE_OPTION,
  DELETE_QUESTION,
  DRAFTS,
  EXPORT,
  IMPORT,
  newSlug,
  PUBLISH,
  TEMPLATE_BY_SLUG,
  UPSERT_CATEGORY,
  UPSERT_OPTION,
  UPSERT_QUESTION,
} from './support';

// Who may administer content: every operation, called by every kind of caller. Staff only; the
// others are refused before anything is looked up (a malformed id too), and nothing changes.
const CALLERS = ['anon', 'lead', 'user', 'other', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
type Expected = Record<Caller, string>;
const STAFF_ONLY: Expected = { anon: 'UNAUTHENTICATED', lead: 'FORBIDDEN', user: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'OK' };
const EVERYONE: Expected = { anon: 'OK', lead: 'OK', user: 'OK', other: 'OK', admin: 'OK' };

describe('the content administration access matrix', () => {
  let t: TestApp;
  const tokens = {} as Record<Caller, string | undefined>;
  let draft: any;
  let baseline: any;
  let staff: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: LEAD_ONLY_LIMITS } });
    tokens.user = bearer(await createVerifiedUser(t, 'cu')).token;
    tokens.other = bearer(await createVerifiedUser(t, 'co')).token;
    tokens.admin = staff = bearer(await createSuperuser(t, 'ca')).token;
    tokens.lead = (await captureLead(t)).token;
    draft = await buildDraft(t, staff, newSlug('matrix'));
    baseline = ok(await t.gql(TEMPLATE_BY_SLUG, { slug: 'smb-baseline' }, { token: staff })).assessmentTemplate;
  });
  afterAll(() => t?.stop());

  /** A fresh row for a row's admin call to act on (staff make it). */
  const fresh = {
    category: async () => ok(await t.gql(UPSERT_CATEGORY, { input: { templateId: draft.id, name: 'Throwaway', weight: 1 } }, { token: staff })).upsertCategory.id,
    question: async () =>
      ok(
        await t.gql(
          UPSERT_QUESTION,
          { input: { categoryId: draft.categories[0].id, text: `Throwaway ${newSlug()}?`, kind: 'SINGLE', weight: 1, recommendation: 'r' } },
          { token: staff },
        ),
      ).upsertQuestion.id,
    option: async () => ok(await t.gql(UPSERT_OPTION, { input: { questionId: draft.categories[0].questions[0].id, label: 'Throwaway', points: 0 } }, { token: staff })).upsertOption.id,
    draft: async () => (await buildDraft(t, staff, newSlug('fresh'), [1])).id,
  };

  const question = () => draft.categories[0].questions[0];
  type Row = {
    name: string;
    doc: string;
    /** The variables, made once per row (before any caller), so that the admin's call has something to act on. */
    vars: () => Promise<Record<string, unknown>>;
    expected: Expected;
    check?: (caller: Caller, data: any) => void;
  };
  const staffNothingElse = (field: string) => (caller: Caller, data: any) => {
    if (caller === 'admin') expect(data[field]).toBeTruthy();
  };
  const rows: Row[] = [
    { name: 'templateDrafts', doc: DRAFTS, vars: async () => ({}), expected: STAFF_ONLY, check: (_, d) => expect(d.templateDrafts.map((x: any) => x.id)).toContain(draft.id) },
    {
      name: 'assessmentTemplate: a draft (nested points and recommendations)',
      doc: TEMPLATE_BY_SLUG,
      vars: async () => ({ slug: draft.slug, version: 1 }),
      expected: EVERYONE,
      check: (caller, d) => {
        if (caller !== 'admin') return expect(d.assessmentTemplate).toBeNull();
        expect(d.assessmentTemplate).toMatchObject({ id: draft.id, status: 'DRAFT' });
        expect(valuesOf(d, 'points').every((p) => typeof p === 'number')).toBe(true);
        expect(valuesOf(d, 'recommendation').every((r) => typeof r === 'string')).toBe(true);
      },
    },
    {
      name: 'assessmentTemplate: published (nested points and recommendations)',
      doc: TEMPLATE_BY_SLUG,
      vars: async () => ({ slug: 'smb-baseline' }),
      expected: EVERYONE,
      check: (caller, d) => {
        expect(d.assessmentTemplate.status).toBe('PUBLISHED');
        const staffOnly = [...valuesOf(d, 'points'), ...valuesOf(d, 'recommendation')];
        expect(staffOnly.length).toBeGreaterThan(0);
        expect(staffOnly.every((v) => (caller === 'admin' ? v !== null : v === null))).toBe(true);
      },
    },
    {
      name: 'assessmentTemplates: drafts left out',
      doc: `{ assessmentTemplates { id slug status categories { questions { recommendation options { points } } } } }`,
      vars: async () => ({}),
      expected: EVERYONE,
      check: (caller, d) => {
        expect(d.assessmentTemplates.map((x: any) => x.status)).toEqual(d.assessmentTemplates.map(() => 'PUBLISHED'));
        expect(d.assessmentTemplates.map((x: any) => x.slug)).not.toContain(draft.slug);
        if (caller !== 'admin') expect([...valuesOf(d, 'points'), ...valuesOf(d, 'recommendation')].every((v) => v === null)).toBe(true);
      },
    },
    { name: 'createTemplateDraft', doc: CREATE_DRAFT, vars: async () => ({ input: { slug: newSlug('made'), name: 'Made', locale: 'en' } }), expected: STAFF_ONLY, check: staffNothingElse('createTemplateDraft') },
    { name: 'createTemplateDraft: malformed source', doc: CREATE_DRAFT, vars: async () => ({ input: { fromTemplateId: 'not-a-uuid' } }), expected: { ...STAFF_ONLY, admin: 'NOT_FOUND' } },
    { name: 'upsertCategory: create', doc: UPSERT_CATEGORY, vars: async () => ({ input: { templateId: draft.id, name: 'New', weight: 1 } }), expected: STAFF_ONLY, check: staffNothingElse('upsertCategory') },
    { name: 'upsertCategory: update', doc: UPSERT_CATEGORY, vars: async () => ({ input: { id: draft.categories[0].id, description: 'Changed' } }), expected: STAFF_ONLY, check: staffNothingElse('upsertCategory') },
    { name: 'upsertCategory: published', doc: UPSERT_CATEGORY, vars: async () => ({ input: { id: baseline.categories[0].id, name: 'x' } }), expected: { ...STAFF_ONLY, admin: 'CONFLICT' } },
    { name: 'upsertCategory: malformed id', doc: UPSERT_CATEGORY, vars: async () => ({ input: { id: 'nope', name: 'x' } }), expected: { ...STAFF_ONLY, admin: 'NOT_FOUND' } },
    { name: 'deleteCategory', doc: DELETE_CATEGORY, vars: async () => ({ id: await fresh.category() }), expected: STAFF_ONLY, check: staffNothingElse('deleteCategory') },
    {
      name: 'upsertQuestion: create',
      doc: UPSERT_QUESTION,
      vars: async () => ({ input: { categoryId: draft.categories[1].id, text: 'Matrix?', kind: 'MULTIPLE', weight: 1, recommendation: 'r', references: ['GV.RR-01'] } }),
      expected: STAFF_ONLY,
      check: staffNothingElse('upsertQuestion'),
    },
    { name: 'upsertQuestion: update', doc: UPSERT_QUESTION, vars: async () => ({ input: { id: question().id, helpText: 'Help' } }), expected: STAFF_ONLY, check: staffNothingElse('upsertQuestion') },
    { name: 'upsertQuestion: published', doc: UPSERT_QUESTION, vars: async () => ({ input: { id: baseline.categories[0].questions[0].id, text: 'x' } }), expected: { ...STAFF_ONLY, admin: 'CONFLICT' } },
    { name: 'deleteQuestion', doc: DELETE_QUESTION, vars: async () => ({ id: await fresh.question() }), expected: STAFF_ONLY, check: staffNothingElse('deleteQuestion') },
    { name: 'upsertOption: create', doc: UPSERT_OPTION, vars: async () => ({ input: { questionId: question().id, label: 'Maybe', points: 1 } }), expected: STAFF_ONLY, check: staffNothingElse('upsertOption') },
    { name: 'upsertOption: update', doc: UPSERT_OPTION, vars: async () => ({ input: { id: question().options[0].id, label: 'Nope' } }), expected: STAFF_ONLY, check: staffNothingElse('upsertOption') },
    { name: 'upsertOption: published', doc: UPSERT_OPTION, vars: async () => ({ input: { id: baseline.categories[0].questions[0].options[0].id, points: 9 } }), expected: { ...STAFF_ONLY, admin: 'CONFLICT' } },
    { name: 'deleteOption', doc: DELETE_OPTION, vars: async () => ({ id: await fresh.option() }), expected: STAFF_ONLY, check: staffNothingElse('deleteOption') },
    { name: 'publishTemplate', doc: PUBLISH, vars: async () => ({ id: await fresh.draft() }), expected: STAFF_ONLY, check: (c, d) => c === 'admin' && expect(d.publishTemplate.status).toBe('PUBLISHED') },
    { name: 'publishTemplate: published', doc: PUBLISH, vars: async () => ({ id: baseline.id }), expected: { ...STAFF_ONLY, admin: 'CONFLICT' } },
    { name: 'exportTemplate', doc: EXPORT, vars: async () => ({ id: baseline.id }), expected: STAFF_ONLY, check: (c, d) => c === 'admin' && expect(d.exportTemplate.slug).toBe('smb-baseline') },
    { name: 'exportTemplate: malformed id', doc: EXPORT, vars: async () => ({ id: 'x' }), expected: { ...STAFF_ONLY, admin: 'NOT_FOUND' } },
    {
      name: 'importTemplate',
      doc: IMPORT,
      vars: async () => ({ document: { ...ok(await t.gql(EXPORT, { id: baseline.id }, { token: staff })).exportTemplate, slug: newSlug('imported') } }),
      expected: STAFF_ONLY,
      check: (c, d) => c === 'admin' && expect(d.importTemplate.status).toBe('DRAFT'),
    },
    { name: 'deleteTemplateDraft', doc: DELETE_DRAFT, vars: async () => ({ id: await fresh.draft() }), expected: STAFF_ONLY, check: staffNothingElse('deleteTemplateDraft') },
    { name: 'deleteTemplateDraft: published', doc: DELETE_DRAFT, vars: async () => ({ id: baseline.id }), expected: { ...STAFF_ONLY, admin: 'CONFLICT' } },
  ];

  const outcomeOf = (res: GraphQLResponse) => (res.errors?.length ? String(res.errors[0]!.extensions?.code) : 'OK');
  const adminEvents = async () => Number((await t.sql<{ n: string }>(`select count(*) as n from audit_events where action like 'admin.%'`))[0]!.n);

  it.each(rows)('$name', async ({ doc, vars, expected, check }) => {
    const variables = await vars();
    const actual = {} as Expected;
    for (const caller of CALLERS) {
      const [counts, events] = [await contentCounts(t), await adminEvents()];
      const res = await t.gql(doc, variables, { token: tokens[caller] });
      actual[caller] = outcomeOf(res);
      if (caller !== 'admin') {
        // Nothing reaches anyone but staff: no answer key, no draft, and nothing changed or logged.
        expect({ caller, points: valuesOf(res.data, 'points').filter((p) => p !== null) }).toEqual({ caller, points: [] });
        expect({ caller, counts: await contentCounts(t), events: await adminEvents() }).toEqual({ caller, counts, events });
      }
      if (actual[caller] === 'OK') check?.(caller, res.data);
    }
    expect(actual).toEqual(expected);
  });

  it('the draft still reads as staff left it: only the admin calls changed it', async () => {
    const now = ok(await t.gql(TEMPLATE_BY_SLUG, { slug: draft.slug, version: 1 }, { token: staff })).assessmentTemplate;
    expect(now.categories[0]).toMatchObject({ id: draft.categories[0].id, description: 'Changed' });
    expect(now.categories[0].questions[0]).toMatchObject({ id: question().id, helpText: 'Help' });
    expect(now.categories[0].questions[0].options[0]).toMatchObject({ label: 'Nope' });
  });
});
