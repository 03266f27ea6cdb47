import bundledEn from '../../src/modules/assessments/content/smb-baseline.en.json';
import { ASSESSMENT_TEST_ENV, bestAnswers, START, SUBMIT } from '../assessments/support';
import { codes, firstCode, ok } from '../support/graphql';
import { bearer, createSuperuser, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';
import { auditEvents, buildDraft, contentCounts, CREATE_DRAFT, DELETE_DRAFT, EXPORT, IMPORT, newSlug, PUBLISH, TEMPLATE_BY_SLUG, UPSERT_OPTION } from './support';

// Versions: publishing freezes a version, assessments keep the version they were taken on and
// its scores, new starts take the newest; and the data-file format round-trips exactly.
describe('template versions, export and import', () => {
  let t: TestApp;
  let staff: string;

  beforeAll(async () => {
    t = await startTestApp({ env: ASSESSMENT_TEST_ENV });
    staff = bearer(await createSuperuser(t, 'ver')).token;
  });
  afterAll(() => t?.stop());

  const as = (doc: string, vars: Record<string, unknown>) => t.gql(doc, vars, { token: staff });
  const exported = async (id: string) => ok(await as(EXPORT, { id })).exportTemplate;
  const ASSESSMENT = `query ($id: ID!) { assessment(id: $id) { id status totalScore maxPossibleScore percentageScore riskLevel
    template { id version status categories { questions { options { id points } } } }
    categoryScores { score maxScore } recommendations { title pointsLost } } }`;
  const withoutVersion = (file: any) => ({ ...file, version: undefined });

  it('exports a bundled version exactly as its data file', async () => {
    const v1 = ok(await t.gql(TEMPLATE_BY_SLUG, { slug: 'smb-baseline', version: 1 })).assessmentTemplate;
    expect(await exported(v1.id)).toEqual(bundledEn);
    expect(JSON.stringify(await exported(v1.id))).toBe(JSON.stringify(bundledEn));
    expect((await auditEvents(t, 'admin.exportTemplate', v1.id))[0]).toMatchObject({ target_type: 'template', changes: { slug: 'smb-baseline', version: 1 } });
  });

  it('publishes a new version while assessments taken on the old one keep it and their scores', async () => {
    const user = await createVerifiedUser(t, 'taker');
    const token = bearer(user).token;
    const v1 = ok(await as(TEMPLATE_BY_SLUG, { slug: 'smb-baseline', version: 1 })).assessmentTemplate;

    // One assessment completed and one in progress, both on version 1.
    const done = ok(await t.gql(START, { slug: 'smb-baseline' }, { token })).startAssessment.assessment;
    expect(done.template).toMatchObject({ id: v1.id, version: 1 });
    const doneResult = ok(await t.gql(SUBMIT, { id: done.id, answers: bestAnswers(v1) }, { token })).submitAssessment;
    expect(doneResult.percentageScore).toBe(100);
    const open = ok(await t.gql(START, { slug: 'smb-baseline' }, { token })).startAssessment.assessment;
    expect(open.template.version).toBe(1);
    const before = ok(await as(ASSESSMENT, { id: done.id })).assessment;

    // Version 2: the best answer of every SINGLE question is now worth half its weight, and a new
    // full-weight option is added after it (so the old "best" position no longer scores 100%).
    const draft = ok(await as(CREATE_DRAFT, { input: { fromTemplateId: v1.id } })).createTemplateDraft;
    expect(draft.version).toBe(2);
    for (const question of draft.categories.flatMap((c: any) => c.questions).filter((q: any) => q.kind === 'SINGLE').slice(0, 5)) {
      const best = question.options.at(-1);
      ok(await as(UPSERT_OPTION, { input: { id: best.id, points: question.weight / 2 } }));
      ok(await as(UPSERT_OPTION, { input: { questionId: question.id, label: 'Fully, and reviewed every year', points: question.weight, order: 1 } }));
    }
    const v2 = ok(await as(PUBLISH, { id: draft.id })).publishTemplate;
    expect(v2).toMatchObject({ version: 2, status: 'PUBLISHED' });

    // The completed assessment is as it was: version 1, its scores, version 1's answer key.
    const after = ok(await as(ASSESSMENT, { id: done.id })).assessment;
    expect(after).toEqual(before);
    expect(after.template).toMatchObject({ id: v1.id, version: 1, status: 'PUBLISHED' });
    expect(after.template.categories).toEqual(
      v1.categories.map((c: any) => ({ questions: c.questions.map((q: any) => ({ options: q.options.map((o: any) => ({ id: o.id, points: o.points })) })) })),
    );
    expect(ok(await as(TEMPLATE_BY_SLUG, { slug: 'smb-baseline', version: 1 })).assessmentTemplate).toEqual(v1);

    // The one in progress stays on version 1 and is scored on it.
    const openResult = ok(await t.gql(SUBMIT, { id: open.id, answers: bestAnswers(v1) }, { token })).submitAssessment;
    expect(openResult).toMatchObject({ percentageScore: 100, totalScore: doneResult.totalScore });

    // A new start takes version 2; the answers that scored 100% by position now score less.
    expect(ok(await t.gql(TEMPLATE_BY_SLUG, { slug: 'smb-baseline' })).assessmentTemplate.version).toBe(2);
    const fresh = ok(await t.gql(START, { slug: 'smb-baseline' }, { token })).startAssessment.assessment;
    expect(fresh.template).toMatchObject({ id: v2.id, version: 2 });
    // The last option of each question is the old best answer (the new one went first).
    const freshResult = ok(await t.gql(SUBMIT, { id: fresh.id, answers: bestAnswers(v2) }, { token })).submitAssessment;
    const halved = v2.categories.flatMap((c: any) => c.questions).filter((q: any) => q.kind === 'SINGLE').slice(0, 5);
    expect(freshResult.maxPossibleScore).toBe(doneResult.maxPossibleScore);
    expect(freshResult.totalScore).toBe(doneResult.totalScore - halved.reduce((sum: number, q: any) => sum + q.weight / 2, 0));
    expect(freshResult.percentageScore).toBeLessThan(100);
    // And the first result still reads as it did.
    expect(ok(await as(ASSESSMENT, { id: done.id })).assessment).toEqual(before);
  });

  it('gives an identical template after export → import → publish', async () => {
    // A version built through the API (null descriptions, fractional points) and a bundled one.
    const built = await buildDraft(t, staff, newSlug('trip'), [3, 2]);
    const q = built.categories[1].questions[0];
    ok(await as(UPSERT_OPTION, { input: { id: q.options[0].id, points: 2 / 3 } }));
    ok(await as(PUBLISH, { id: built.id }));
    const nb = ok(await t.gql(TEMPLATE_BY_SLUG, { slug: 'smb-baseline-nb' })).assessmentTemplate;

    for (const id of [built.id, nb.id]) {
      const original = await exported(id);
      const imported = ok(await as(IMPORT, { document: original })).importTemplate;
      expect(imported).toMatchObject({ slug: original.slug, version: original.version + 1, status: 'DRAFT' });
      // The draft as imported, then as published, exports as the original (bar the version).
      expect(withoutVersion(await exported(imported.id))).toEqual(withoutVersion(original));
      const published = ok(await as(PUBLISH, { id: imported.id })).publishTemplate;
      const again = await exported(published.id);
      expect(again.version).toBe(original.version + 1);
      expect(JSON.stringify(withoutVersion(again))).toBe(JSON.stringify(withoutVersion(original)));
      expect(await auditEvents(t, 'admin.importTemplate', imported.id)).toHaveLength(1);
    }
  });

  it('refuses invalid documents with BAD_USER_INPUT listing the problems, and writes nothing', async () => {
    const base = structuredClone(bundledEn) as any;
    const slug = newSlug('bad');
    const doc = (change: (d: any) => void) => {
      const d = structuredClone({ ...base, slug });
      change(d);
      return d;
    };
    const before = await contentCounts(t);
    const cases: Array<[string, unknown, RegExp]> = [
      ['not an object', [1, 2], /not a JSON object/],
      ['a string', 'template', /not a JSON object/],
      ['wrong format', doc((d) => (d.format = 'other/1')), /format is "other\/1"/],
      ['bad slug', doc((d) => (d.slug = 'Not A Slug')), /slug/],
      ['unknown locale', doc((d) => (d.locale = 'de')), /locale "de"/],
      ['unknown field', doc((d) => (d.categories[0].questions[0].answerKey = 'x')), /unknown field "answerKey"/],
      ['unknown NIST id', doc((d) => d.categories[0].questions[0].nist.push('XX.YY-01')), /unknown NIST CSF 2.0 subcategory "XX.YY-01"/],
      ['unknown CIS id', doc((d) => d.categories[0].questions[0].cis.push('99.9')), /unknown CIS v8 safeguard "99.9"/],
      ['points over weight', doc((d) => (d.categories[0].questions[0].options[0].points = 99)), /points 99 are outside/],
      ['no full-weight option', doc((d) => d.categories[0].questions[0].options.pop()), /needs an option worth the full weight/],
      ['no categories', doc((d) => (d.categories = [])), /categories must be a non-empty list/],
      ['a long name', doc((d) => (d.name = 'n'.repeat(201))), /name is longer than 200/],
      ['too many categories', doc((d) => (d.categories = Array(101).fill({ name: 'c', weight: 1, questions: [] }))), /categories: at most 100/],
      ['a negative weight', doc((d) => (d.categories[1].weight = -1)), /weight -1 must be a number > 0/],
    ];
    for (const [name, document, problem] of cases) {
      const res = await as(IMPORT, { document });
      const extensions = res.errors?.[0]?.extensions;
      expect({ name, code: extensions?.code, field: extensions?.field }).toEqual({ name, code: 'BAD_USER_INPUT', field: 'document' });
      expect({ name, problems: extensions?.problems }).toEqual({ name, problems: expect.arrayContaining([expect.stringMatching(problem)]) });
    }
    // NUL and control characters anywhere in the document are refused before the service sees it.
    expect(codes(await as(IMPORT, { document: doc((d) => (d.categories[2].questions[1].text = 'a\u0000b')) }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await as(IMPORT, { document: doc((d) => (d.categories[0].name = 'a\u001bb')) }))).toEqual(['BAD_USER_INPUT']);
    // A slug keeps its language; a slug with a draft takes no second one.
    expect(firstCode(await as(IMPORT, { document: { ...base, locale: 'nb' } }))).toBe('BAD_USER_INPUT');
    expect(await contentCounts(t)).toEqual(before);
    expect(await auditEvents(t, 'admin.importTemplate')).toHaveLength(2);

    const first = ok(await as(IMPORT, { document: doc(() => undefined) })).importTemplate;
    expect(first).toMatchObject({ slug, version: 1, status: 'DRAFT' });
    expect(firstCode(await as(IMPORT, { document: doc(() => undefined) }))).toBe('CONFLICT');
    ok(await as(DELETE_DRAFT, { id: first.id }));
  });
});
