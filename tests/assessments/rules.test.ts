import { randomBytes, randomUUID } from 'node:crypto';
import { syntheticTemplate } from '../../src/modules/assessments/synthetic-template';
import { insertTemplateVersion } from '../../src/modules/assessments/template.seeder';
import type { TemplateFile } from '../../src/modules/assessments/template.types';
import { firstCode, type GraphQLResponse, ok } from '../support/graphql';
import { createVerifiedUser, relaxedLimits, startTestApp, type TestApp } from '../support/test-app';
import { ASSESSMENT_TEST_ENV, bestAnswers, captureLead, RELAXED_LEAD_LIMITS, SAVE, START, SUBMIT, TEMPLATE, worstAnswers } from './support';

// The rules of taking assessments, through GraphQL: start and resume, the lifetime limit, pacing,
// answers, scoring, repeated and concurrent submission, deletion, sharing, paging and the
// dashboard's industry benchmark. Each top-level block runs its own app (one at a time: the
// embedded database is a single session) with the settings its rules need.

const SMB = 'smb-baseline';
const SMB_NB = 'smb-baseline-nb';

const ASSESSMENT = `query ($id: ID!) { assessment(id: $id) { id status completedAt percentageScore
  answers { question { id } selectedOptions { id } notApplicable } } }`;
const SCORED = `mutation ($id: ID!, $answers: [AnswerInput!]) { submitAssessment(assessmentId: $id, answers: $answers) {
  id status totalScore maxPossibleScore percentageScore riskLevel completedAt attestation
  categoryScores { category { id order } score maxScore percentage riskLevel }
  recommendations { priority pointsLost title category { id order weight } } } }`;
const PROFILE = `{ me { profile { assessmentLimit assessmentsRemaining } } }`;
const DELETE = `mutation ($id: ID!) { deleteAssessment(id: $id) }`;
const SHARE = `mutation ($id: ID!) { shareAssessment(id: $id) { token url } }`;
const REVOKE = `mutation ($id: ID!) { revokeAssessmentShare(id: $id) }`;
const SHARED = `query ($t: String!) { sharedAssessment(token: $t) { completedAt percentageScore attestation } }`;
const MINE = `query ($first: Int, $after: String) { myAssessments(first: $first, after: $after) {
  totalCount edges { cursor node { id status } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const DASHBOARD = `{ dashboard { industryBenchmark { industry averagePercentage contributors } } }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { industry } }`;

/** The settings every block starts from: pacing off, capture and sign-up limits relaxed. */
const appEnv = (overrides: Record<string, string> = {}) => ({
  ...ASSESSMENT_TEST_ENV,
  RATE_LIMITS: relaxedLimits(...RELAXED_LEAD_LIMITS),
  ...overrides,
});

/** The extensions of the first error (code, field, id, retryAfter…). */
const extensionsOf = (res: GraphQLResponse) => {
  expect(res.errors?.length).toBeGreaterThan(0);
  return res.errors![0]!.extensions ?? {};
};

const templates = new WeakMap<TestApp, Map<string, any>>();
/** A template tree as a visitor reads it (no points), cached per app. */
async function templateOf(t: TestApp, slug: string): Promise<any> {
  let bySlug = templates.get(t);
  if (!bySlug) templates.set(t, (bySlug = new Map()));
  if (!bySlug.has(slug)) bySlug.set(slug, ok(await t.gql(TEMPLATE, { slug })).assessmentTemplate);
  return bySlug.get(slug);
}

const questionsOf = (template: any): any[] => template.categories.flatMap((c: any) => c.questions);

/** Adds a template version straight to the database, as the seeder does. */
async function addTemplate(t: TestApp, file: TemplateFile, status: 'DRAFT' | 'PUBLISHED' = 'PUBLISHED') {
  const id = await t.app.orm.em.fork().transactional((tx) => insertTemplateVersion(tx, file, t.clock.now(), status));
  expect(id).toEqual(expect.any(String));
  return id!;
}

const uniqueSlug = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

async function startOn(t: TestApp, token: string, slug: string) {
  return ok(await t.gql(START, { slug }, { token })).startAssessment as { questionsCount: number; assessment: any };
}

async function readBack(t: TestApp, token: string, id: string) {
  return ok(await t.gql(ASSESSMENT, { id }, { token })).assessment;
}

async function profileOf(t: TestApp, token: string) {
  return ok(await t.gql(PROFILE, {}, { token })).me.profile;
}

async function accountToken(t: TestApp) {
  const user = await createVerifiedUser(t, 'ar');
  return { id: user.id, token: user.tokens.accessToken! };
}

/** Starts and submits one assessment with `answers`; returns the scored result. */
async function takeAssessment(t: TestApp, token: string, slug: string, answers: unknown[]) {
  const { assessment } = await startOn(t, token, slug);
  return ok(await t.gql(SCORED, { id: assessment.id, answers }, { token })).submitAssessment;
}

/** Rounds half up to one decimal place, float noise dropped first (as the server does). */
const round1 = (value: number) => Math.round(Number((value * 10).toPrecision(12))) / 10;

// ---------------------------------------------------------------------------------------------

describe('assessment rules (pacing off)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: appEnv({ ASSESSMENT_LIMIT_FREE: '50' }) });
  });
  afterAll(() => t?.stop());

  describe('start and resume', () => {
    it('resumes the one assessment in progress per template instead of starting another', async () => {
      const lead = await captureLead(t);
      const smb = await templateOf(t, SMB);
      const first = await startOn(t, lead.token, SMB);
      expect(first.questionsCount).toBe(questionsOf(smb).length);
      expect(first.assessment).toMatchObject({ status: 'IN_PROGRESS', template: { slug: SMB, version: 1 } });

      const again = await startOn(t, lead.token, SMB);
      expect(again.assessment).toEqual(first.assessment);
      expect(again.questionsCount).toBe(first.questionsCount);

      // Another template is another assessment.
      const nb = await startOn(t, lead.token, SMB_NB);
      expect(nb.assessment.id).not.toBe(first.assessment.id);
      expect(nb.questionsCount).toBe(questionsOf(await templateOf(t, SMB_NB)).length);

      const mine = ok(await t.gql(MINE, {}, { token: lead.token })).myAssessments;
      expect(mine.totalCount).toBe(2);
    });

    it('makes one assessment of ten starts at once on one template', async () => {
      const lead = await captureLead(t);
      const results = await Promise.all(Array.from({ length: 10 }, () => t.gql(START, { slug: SMB }, { token: lead.token })));
      expect(new Set(results.map((r) => ok(r).startAssessment.assessment.id)).size).toBe(1);
      expect(ok(await t.gql(MINE, {}, { token: lead.token })).myAssessments.totalCount).toBe(1);
    });

    it('counts the questions of the version taken, and resumes across a newer version', async () => {
      const slug = uniqueSlug('resume');
      await addTemplate(t, syntheticTemplate(slug, { categories: 3, questionsPerCategory: 4 }));
      const lead = await captureLead(t);
      const v1 = await startOn(t, lead.token, slug);
      expect(v1.questionsCount).toBe(12);

      await addTemplate(t, syntheticTemplate(slug, { categories: 5, questionsPerCategory: 2, version: 2 }));
      const resumed = await startOn(t, lead.token, slug);
      expect(resumed.assessment.id).toBe(v1.assessment.id);
      expect(resumed.assessment.template.version).toBe(1);
      expect(resumed.questionsCount).toBe(12);

      // Once that one is completed, a new start takes the latest version.
      const v1Tree = ok(await t.gql(TEMPLATE, { slug, version: 1 })).assessmentTemplate;
      ok(await t.gql(SUBMIT, { id: v1.assessment.id, answers: bestAnswers(v1Tree) }, { token: lead.token }));
      const v2 = await startOn(t, lead.token, slug);
      expect(v2.assessment.id).not.toBe(v1.assessment.id);
      expect(v2.assessment.template.version).toBe(2);
      expect(v2.questionsCount).toBe(10);
    });

    it('refuses an unknown template or a draft with NOT_FOUND', async () => {
      const lead = await captureLead(t);
      expect(firstCode(await t.gql(START, { slug: 'no-such-template' }, { token: lead.token }))).toBe('NOT_FOUND');
      const draft = uniqueSlug('draft');
      await addTemplate(t, syntheticTemplate(draft, { categories: 1 }), 'DRAFT');
      expect(firstCode(await t.gql(START, { slug: draft }, { token: lead.token }))).toBe('NOT_FOUND');
      expect(firstCode(await t.gql(START, { slug: SMB }))).toBe('UNAUTHENTICATED');
    });

    it('paces nothing when both intervals are 0', async () => {
      const lead = await captureLead(t);
      const a = await startOn(t, lead.token, SMB);
      const b = await startOn(t, lead.token, SMB_NB);
      ok(await t.gql(SUBMIT, { id: a.assessment.id, answers: bestAnswers(await templateOf(t, SMB)) }, { token: lead.token }));
      ok(await t.gql(SUBMIT, { id: b.assessment.id, answers: bestAnswers(await templateOf(t, SMB_NB)) }, { token: lead.token }));
      // A third start right away, on a template just completed.
      expect((await startOn(t, lead.token, SMB)).assessment.id).not.toBe(a.assessment.id);
    });
  });

  describe('answers', () => {
    let smb: any;
    let lead: { token: string };
    let id: string;
    let single: any; // a SINGLE question that does not allow "not applicable"
    let other: any; // another question
    let multiple: any; // a MULTIPLE question
    let optional: any; // a question that allows "not applicable"

    beforeAll(async () => {
      smb = await templateOf(t, SMB);
      const questions = questionsOf(smb);
      single = questions.find((q) => q.kind === 'SINGLE' && !q.allowsNotApplicable && q.options.length >= 2);
      other = questions.find((q) => q.id !== single.id && q.kind === 'SINGLE');
      multiple = questions.find((q) => q.kind === 'MULTIPLE' && q.options.length >= 2);
      optional = questions.find((q) => q.allowsNotApplicable);
      expect([single, other, multiple, optional].every(Boolean)).toBe(true);
      lead = await captureLead(t);
      id = (await startOn(t, lead.token, SMB)).assessment.id;
    });

    const answerMap = (assessment: any) =>
      Object.fromEntries(
        assessment.answers.map((a: any) => [a.question.id, { optionIds: a.selectedOptions.map((o: any) => o.id), notApplicable: a.notApplicable }]),
      );

    it('merges by question: a new answer replaces the old one, the others stay', async () => {
      ok(
        await t.gql(
          SAVE,
          {
            id,
            answers: [
              { questionId: single.id, optionIds: [single.options[0].id] },
              { questionId: other.id, optionIds: [other.options[1].id] },
              { questionId: multiple.id, optionIds: [multiple.options[0].id, multiple.options[1].id] },
              { questionId: optional.id, optionIds: [], notApplicable: true },
            ],
          },
          { token: lead.token },
        ),
      );
      const saved = ok(await t.gql(SAVE, { id, answers: [{ questionId: single.id, optionIds: [single.options[1].id] }] }, { token: lead.token })).saveAnswers;
      expect(answerMap(saved)).toEqual({
        [single.id]: { optionIds: [single.options[1].id], notApplicable: false },
        [other.id]: { optionIds: [other.options[1].id], notApplicable: false },
        [multiple.id]: { optionIds: [multiple.options[0].id, multiple.options[1].id], notApplicable: false },
        [optional.id]: { optionIds: [], notApplicable: true },
      });
      // Read back, in template order.
      const read = await readBack(t, lead.token, id);
      expect(answerMap(read)).toEqual(answerMap(saved));
      const order = questionsOf(smb).map((q: any) => q.id);
      const positions = read.answers.map((a: any) => order.indexOf(a.question.id));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    });

    it('refuses a bad answer with BAD_USER_INPUT naming it, and saves nothing of the batch', async () => {
      const before = answerMap(await readBack(t, lead.token, id));
      const valid = { questionId: other.id, optionIds: [other.options[0].id] };
      const unknownQuestion = randomUUID();
      const cases: Array<{ name: string; bad: Record<string, unknown>; offending: string }> = [
        { name: "an option of another question", bad: { questionId: single.id, optionIds: [other.options[0].id] }, offending: other.options[0].id },
        { name: 'a second option on a SINGLE question', bad: { questionId: single.id, optionIds: [single.options[0].id, single.options[1].id] }, offending: single.options[1].id },
        { name: 'an unknown question', bad: { questionId: unknownQuestion, optionIds: [] }, offending: unknownQuestion },
        { name: 'not applicable where not allowed', bad: { questionId: single.id, optionIds: [], notApplicable: true }, offending: single.id },
        { name: 'not applicable with options', bad: { questionId: optional.id, optionIds: [optional.options[0].id], notApplicable: true }, offending: optional.id },
        { name: 'a question answered twice', bad: { questionId: other.id, optionIds: [other.options[1].id] }, offending: other.id },
      ];
      for (const { name, bad, offending } of cases) {
        for (const op of [SAVE, SUBMIT]) {
          const res = await t.gql(op, { id, answers: [valid, bad] }, { token: lead.token });
          expect({ name, op: op.slice(0, 30), extensions: extensionsOf(res) }).toMatchObject({
            name,
            extensions: { code: 'BAD_USER_INPUT', field: 'answers', id: offending },
          });
        }
      }
      const after = await readBack(t, lead.token, id);
      expect(after.status).toBe('IN_PROGRESS');
      expect(answerMap(after)).toEqual(before);
    });

    it('keeps a completed assessment as it is: saveAnswers is a CONFLICT, a new submission returns the same result', async () => {
      const own = await captureLead(t);
      const { assessment } = await startOn(t, own.token, SMB);
      const first = ok(await t.gql(SCORED, { id: assessment.id, answers: bestAnswers(smb) }, { token: own.token })).submitAssessment;
      expect(first).toMatchObject({ status: 'COMPLETED', percentageScore: 100 });

      const save = await t.gql(SAVE, { id: assessment.id, answers: [{ questionId: single.id, optionIds: [single.options[0].id] }] }, { token: own.token });
      expect(extensionsOf(save).code).toBe('CONFLICT');

      const again = ok(await t.gql(SCORED, { id: assessment.id, answers: worstAnswers(smb) }, { token: own.token })).submitAssessment;
      expect(again).toEqual(first);
      const read = await readBack(t, own.token, assessment.id);
      expect(read.answers.find((a: any) => a.question.id === single.id).selectedOptions).toEqual([{ id: single.options.at(-1).id }]);
    });

    it('is NOT_FOUND for someone else', async () => {
      const stranger = await captureLead(t);
      expect(firstCode(await t.gql(SAVE, { id, answers: [] }, { token: stranger.token }))).toBe('NOT_FOUND');
      expect(firstCode(await t.gql(SUBMIT, { id }, { token: stranger.token }))).toBe('NOT_FOUND');
      expect(firstCode(await t.gql(ASSESSMENT, { id }, { token: stranger.token }))).toBe('NOT_FOUND');
    });
  });

  describe('scoring', () => {
    let smb: any;
    beforeAll(async () => {
      smb = await templateOf(t, SMB);
    });

    /** Recommendations come most important first: pointsLost × category weight, then template order. */
    function expectOrdered(result: any) {
      const keys = result.recommendations.map((r: any) => Math.round(r.pointsLost * r.category.weight * 1e4) / 1e4);
      for (let i = 1; i < keys.length; i++) {
        expect(keys[i]).toBeLessThanOrEqual(keys[i - 1]);
        if (keys[i] === keys[i - 1]) expect(result.recommendations[i].category.order).toBeGreaterThanOrEqual(result.recommendations[i - 1].category.order);
      }
      const riskOf = new Map(result.categoryScores.map((c: any) => [c.category.id, c.riskLevel]));
      for (const r of result.recommendations) expect(r.priority).toBe(riskOf.get(r.category.id));
      const lost = result.recommendations.reduce((sum: number, r: any) => sum + r.pointsLost, 0);
      expect(lost).toBeCloseTo(result.maxPossibleScore - result.totalScore, 4);
    }

    it('gives the worst answers a CRITICAL result, one recommendation per question, most important first', async () => {
      const lead = await captureLead(t);
      const result = await takeAssessment(t, lead.token, SMB, worstAnswers(smb));
      expect(result).toMatchObject({ status: 'COMPLETED', totalScore: 0, percentageScore: 0, riskLevel: 'CRITICAL' });
      const weights = questionsOf(smb).reduce((sum: number, q: any) => sum + q.weight, 0);
      expect(result.maxPossibleScore).toBeCloseTo(weights, 4);
      expect(result.recommendations).toHaveLength(questionsOf(smb).length);
      expect(new Set(result.recommendations.map((r: any) => r.priority))).toEqual(new Set(['CRITICAL']));
      expectOrdered(result);
    });

    it("gives each recommendation its category's risk level as priority", async () => {
      // Category i gets the best answer to its first i questions and the worst to the rest.
      const answers = smb.categories.flatMap((c: any, ci: number) =>
        c.questions.map((q: any, qi: number) => {
          const best = qi < ci % (c.questions.length + 1);
          return { questionId: q.id, optionIds: q.kind === 'SINGLE' ? [best ? q.options.at(-1).id : q.options[0].id] : best ? q.options.map((o: any) => o.id) : [] };
        }),
      );
      const lead = await captureLead(t);
      const result = await takeAssessment(t, lead.token, SMB, answers);
      expect(new Set(result.categoryScores.map((c: any) => c.riskLevel)).size).toBeGreaterThanOrEqual(3);
      expect(new Set(result.recommendations.map((r: any) => r.priority)).size).toBeGreaterThanOrEqual(2);
      expect(result.riskLevel).toBe(
        result.percentageScore >= 80 ? 'LOW' : result.percentageScore >= 60 ? 'MEDIUM' : result.percentageScore >= 40 ? 'HIGH' : 'CRITICAL',
      );
      expectOrdered(result);
    });

    it('never raises the score for a skipped question', async () => {
      const lead = await captureLead(t);
      const best = bestAnswers(smb);
      const worst = worstAnswers(smb);
      // Half best, half worst; then the same with some of each skipped.
      const mixed = best.map((a: any, i: number) => (i % 2 === 0 ? a : worst[i]));
      const full = await takeAssessment(t, lead.token, SMB, mixed);
      const skippedWorst = await takeAssessment(t, lead.token, SMB, mixed.filter((_: any, i: number) => i % 2 === 0 || i % 3 !== 0));
      const skippedBest = await takeAssessment(t, lead.token, SMB, mixed.filter((_: any, i: number) => i % 4 !== 0));

      for (const skipped of [skippedWorst, skippedBest]) {
        expect(skipped.maxPossibleScore).toBe(full.maxPossibleScore);
        expect(skipped.totalScore).toBeLessThanOrEqual(full.totalScore);
        expect(skipped.percentageScore).toBeLessThanOrEqual(full.percentageScore);
      }
      // Skipping a worst answer loses nothing more; skipping a best one loses its points.
      expect(skippedWorst.totalScore).toBe(full.totalScore);
      expect(skippedBest.totalScore).toBeLessThan(full.totalScore);
      // Submitting with nothing answered scores 0.
      const { assessment } = await startOn(t, lead.token, SMB);
      expect(ok(await t.gql(SCORED, { id: assessment.id }, { token: lead.token })).submitAssessment).toMatchObject({ totalScore: 0, riskLevel: 'CRITICAL' });
    });

    it('leaves questions marked not applicable out of the maximum', async () => {
      const lead = await captureLead(t);
      const optional = questionsOf(smb).filter((q: any) => q.allowsNotApplicable);
      expect(optional.length).toBeGreaterThan(0);
      const skip = new Set(optional.map((q: any) => q.id));
      const all = questionsOf(smb).reduce((sum: number, q: any) => sum + q.weight, 0);
      const naWeight = optional.reduce((sum: number, q: any) => sum + q.weight, 0);
      const na = optional.map((q: any) => ({ questionId: q.id, optionIds: [], notApplicable: true }));

      const best = await takeAssessment(t, lead.token, SMB, [...bestAnswers(smb).filter((a: any) => !skip.has(a.questionId)), ...na]);
      expect(best).toMatchObject({ percentageScore: 100, riskLevel: 'LOW', recommendations: [] });
      expect(best.maxPossibleScore).toBeCloseTo(all - naWeight, 4);
      expect(best.totalScore).toBeCloseTo(all - naWeight, 4);

      const worst = await takeAssessment(t, lead.token, SMB, [...worstAnswers(smb).filter((a: any) => !skip.has(a.questionId)), ...na]);
      expect(worst.maxPossibleScore).toBeCloseTo(all - naWeight, 4);
      // No recommendation for a question that does not apply.
      expect(worst.recommendations).toHaveLength(questionsOf(smb).length - optional.length);
      expect(worst.recommendations.map((r: any) => r.title)).not.toEqual(expect.arrayContaining(optional.map((q: any) => q.text)));
    });

    it('refuses a submission where everything is not applicable, and leaves it in progress', async () => {
      const slug = uniqueSlug('all-na');
      const file = syntheticTemplate(slug, { categories: 2, questionsPerCategory: 3 });
      for (const c of file.categories) for (const q of c.questions) q.allowsNotApplicable = true;
      await addTemplate(t, file);
      const tree = await templateOf(t, slug);
      const questions = questionsOf(tree);
      expect(questions.every((q: any) => q.allowsNotApplicable)).toBe(true);
      const lead = await captureLead(t);
      const { assessment } = await startOn(t, lead.token, slug);
      const allNa = questions.map((q: any) => ({ questionId: q.id, optionIds: [], notApplicable: true }));

      expect(extensionsOf(await t.gql(SUBMIT, { id: assessment.id, answers: allNa }, { token: lead.token }))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'answers',
      });
      // Refused as a whole: nothing merged, still in progress.
      expect(await readBack(t, lead.token, assessment.id)).toMatchObject({ status: 'IN_PROGRESS', answers: [], completedAt: null });
      // Saved first, then submitted without answers: refused alike.
      ok(await t.gql(SAVE, { id: assessment.id, answers: allNa }, { token: lead.token }));
      expect(extensionsOf(await t.gql(SUBMIT, { id: assessment.id }, { token: lead.token })).code).toBe('BAD_USER_INPUT');
      expect((await readBack(t, lead.token, assessment.id)).status).toBe('IN_PROGRESS');

      // One question answered in the second category: only it is scored, the first category is left out.
      const answered = tree.categories[1].questions[0];
      const result = ok(
        await t.gql(SCORED, { id: assessment.id, answers: [{ questionId: answered.id, optionIds: [answered.options.at(-1).id] }] }, { token: lead.token }),
      ).submitAssessment;
      expect(result).toMatchObject({ status: 'COMPLETED', totalScore: 2, maxPossibleScore: 2, percentageScore: 100 });
      expect(result.categoryScores.map((c: any) => c.category.id)).toEqual([tree.categories[1].id]);
    });
  });

  describe('repeated and concurrent submission', () => {
    it('scores once: ten submissions at once all get the same result', async () => {
      const lead = await captureLead(t);
      const smb = await templateOf(t, SMB);
      const { assessment } = await startOn(t, lead.token, SMB);
      const answers = bestAnswers(smb).slice(0, 20);
      const results = await Promise.all(Array.from({ length: 10 }, () => t.gql(SCORED, { id: assessment.id, answers }, { token: lead.token })));
      const scored = results.map((r) => ok(r).submitAssessment);
      for (const r of scored) expect(r).toEqual(scored[0]);
      expect(scored[0]).toMatchObject({ status: 'COMPLETED', completedAt: expect.any(String), attestation: expect.any(String) });

      const [row] = await t.sql(`select completed_at, attestation, status from assessments where id = ?`, [assessment.id]);
      expect(new Date(row!.completed_at).toISOString()).toBe(scored[0].completedAt);
      expect(row!.attestation).toBe(scored[0].attestation);

      // And once more, later, with other answers: unchanged.
      t.clock.advance(5);
      expect(ok(await t.gql(SCORED, { id: assessment.id, answers: worstAnswers(smb) }, { token: lead.token })).submitAssessment).toEqual(scored[0]);
    });
  });

  describe('deleteAssessment', () => {
    it('deletes one in progress: gone from the list and NOT_FOUND after; a completed one is a CONFLICT', async () => {
      const { token } = await accountToken(t);
      const smb = await templateOf(t, SMB);
      const done = (await startOn(t, token, SMB)).assessment.id;
      ok(await t.gql(SUBMIT, { id: done, answers: bestAnswers(smb) }, { token }));
      const open = (await startOn(t, token, SMB_NB)).assessment.id;

      expect(ok(await t.gql(DELETE, { id: open }, { token })).deleteAssessment).toBe(true);
      const mine = ok(await t.gql(MINE, {}, { token })).myAssessments;
      expect(mine.totalCount).toBe(1);
      expect(mine.edges.map((e: any) => e.node.id)).toEqual([done]);
      expect(firstCode(await t.gql(ASSESSMENT, { id: open }, { token }))).toBe('NOT_FOUND');
      expect(firstCode(await t.gql(DELETE, { id: open }, { token }))).toBe('NOT_FOUND');
      expect(firstCode(await t.gql(SAVE, { id: open, answers: [] }, { token }))).toBe('NOT_FOUND');

      expect(extensionsOf(await t.gql(DELETE, { id: done }, { token }))).toMatchObject({ code: 'CONFLICT', field: 'id' });
      expect((await readBack(t, token, done)).status).toBe('COMPLETED');

      // A new start on the deleted one's template is a new assessment.
      expect((await startOn(t, token, SMB_NB)).assessment.id).not.toBe(open);
    });

    it("is NOT_FOUND for someone else's and EMAIL_NOT_VERIFIED for a lead session", async () => {
      const owner = await accountToken(t);
      const other = await accountToken(t);
      const id = (await startOn(t, owner.token, SMB)).assessment.id;
      expect(firstCode(await t.gql(DELETE, { id }, { token: other.token }))).toBe('NOT_FOUND');
      expect(firstCode(await t.gql(DELETE, { id: randomUUID() }, { token: owner.token }))).toBe('NOT_FOUND');
      const lead = await captureLead(t);
      const leadOwn = (await startOn(t, lead.token, SMB)).assessment.id;
      expect(firstCode(await t.gql(DELETE, { id: leadOwn }, { token: lead.token }))).toBe('EMAIL_NOT_VERIFIED');
      expect((await readBack(t, owner.token, id)).status).toBe('IN_PROGRESS');
    });
  });

  describe('sharing', () => {
    it('shares only a completed assessment, one working link at a time, until revoked', async () => {
      const { token } = await accountToken(t);
      const smb = await templateOf(t, SMB);
      const { assessment } = await startOn(t, token, SMB);
      expect(extensionsOf(await t.gql(SHARE, { id: assessment.id }, { token }))).toMatchObject({ code: 'CONFLICT', field: 'id' });
      const result = ok(await t.gql(SCORED, { id: assessment.id, answers: bestAnswers(smb) }, { token })).submitAssessment;

      const first = ok(await t.gql(SHARE, { id: assessment.id }, { token })).shareAssessment;
      expect(first.url).toBe(`http://posture.test/shared/${first.token}`);
      expect(ok(await t.gql(SHARED, { t: first.token })).sharedAssessment).toEqual({
        completedAt: result.completedAt,
        percentageScore: result.percentageScore,
        attestation: result.attestation,
      });

      const second = ok(await t.gql(SHARE, { id: assessment.id }, { token })).shareAssessment;
      expect(second.token).not.toBe(first.token);
      expect(ok(await t.gql(SHARED, { t: first.token })).sharedAssessment).toBeNull();
      expect(ok(await t.gql(SHARED, { t: second.token })).sharedAssessment).not.toBeNull();
      expect(ok(await t.gql(`query ($id: ID!) { assessment(id: $id) { isShared } }`, { id: assessment.id }, { token })).assessment.isShared).toBe(true);

      expect(ok(await t.gql(REVOKE, { id: assessment.id }, { token })).revokeAssessmentShare).toBe(true);
      expect(ok(await t.gql(SHARED, { t: second.token })).sharedAssessment).toBeNull();
      expect(ok(await t.gql(`query ($id: ID!) { assessment(id: $id) { isShared } }`, { id: assessment.id }, { token })).assessment.isShared).toBe(false);

      expect(ok(await t.gql(SHARED, { t: randomBytes(32).toString('base64url') })).sharedAssessment).toBeNull();
      expect(ok(await t.gql(SHARED, { t: 'x' })).sharedAssessment).toBeNull();

      // Someone else can neither share nor revoke it.
      const other = await accountToken(t);
      expect(firstCode(await t.gql(SHARE, { id: assessment.id }, { token: other.token }))).toBe('NOT_FOUND');
      expect(firstCode(await t.gql(REVOKE, { id: assessment.id }, { token: other.token }))).toBe('NOT_FOUND');
    });
  });

  describe('myAssessments paging', () => {
    let token: string;
    const ids: string[] = []; // oldest first

    beforeAll(async () => {
      token = (await accountToken(t)).token;
      const smb = await templateOf(t, SMB);
      for (let i = 0; i < 5; i++) {
        const { assessment } = await startOn(t, token, SMB);
        ids.push(assessment.id);
        if (i < 4) ok(await t.gql(SUBMIT, { id: assessment.id, answers: bestAnswers(smb).slice(0, i + 1) }, { token }));
        t.clock.advance(1);
      }
    });

    it('lists newest first, page by page with the end cursor', async () => {
      const newest = [...ids].reverse();
      const all = ok(await t.gql(MINE, {}, { token })).myAssessments;
      expect(all.totalCount).toBe(5);
      expect(all.edges.map((e: any) => e.node.id)).toEqual(newest);
      expect(all.edges[0].node.status).toBe('IN_PROGRESS');
      expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });

      const seen: string[] = [];
      let after: string | null = null;
      const pages: any[] = [];
      do {
        const page: any = ok(await t.gql(MINE, { first: 2, after }, { token })).myAssessments;
        pages.push(page);
        expect(page.totalCount).toBe(5);
        expect(page.pageInfo.startCursor).toBe(page.edges[0].cursor);
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
        expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
        seen.push(...page.edges.map((e: any) => e.node.id));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      expect(pages.map((p) => p.edges.length)).toEqual([2, 2, 1]);
      expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
      expect(seen).toEqual(newest);

      const empty = ok(await t.gql(MINE, { first: 0 }, { token })).myAssessments;
      expect(empty).toMatchObject({ totalCount: 5, edges: [], pageInfo: { hasNextPage: true, startCursor: null, endCursor: null } });
      expect(ok(await t.gql(MINE, { first: 100 }, { token })).myAssessments.edges).toHaveLength(5);
    });

    it('refuses first over 100 or below 0, and a cursor it did not make, with BAD_USER_INPUT', async () => {
      expect(extensionsOf(await t.gql(MINE, { first: 101 }, { token }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      expect(extensionsOf(await t.gql(MINE, { first: -1 }, { token }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
      for (const after of ['garbage', Buffer.from('2026-01-01T00:00:00.000Z|not-a-uuid').toString('base64url'), Buffer.from(`yesterday|${randomUUID()}`).toString('base64url')]) {
        expect(extensionsOf(await t.gql(MINE, { after }, { token }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      }
    });

    it("shows nobody else's", async () => {
      const other = await accountToken(t);
      expect(ok(await t.gql(MINE, {}, { token: other.token })).myAssessments).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    });
  });

  describe('dashboard industry benchmark', () => {
    it('appears once 5 other owners in the industry have completed assessments, without the viewer\'s own', async () => {
      const industry = `Benchmarking ${randomBytes(3).toString('hex')}`;
      const smb = await templateOf(t, SMB);
      const best = bestAnswers(smb);
      const viewer = await accountToken(t);
      expect(ok(await t.gql(UPDATE_PROFILE, { input: { industry } }, { token: viewer.token })).updateProfile.industry).toBe(industry);
      const benchmark = async () => ok(await t.gql(DASHBOARD, {}, { token: viewer.token })).dashboard.industryBenchmark;

      // The viewer's own result (100 %) must never count.
      expect((await takeAssessment(t, viewer.token, SMB, best)).percentageScore).toBe(100);
      expect(await benchmark()).toBeNull();

      // Noise: a lead of another industry, and one of this industry that has not submitted.
      await takeAssessment(t, (await captureLead(t, { industry: 'Elsewhere' })).token, SMB, best);
      await startOn(t, (await captureLead(t, { industry })).token, SMB);

      const percentages: number[] = [];
      for (let i = 0; i < 5; i++) {
        expect(await benchmark()).toBeNull();
        const lead = await captureLead(t, { industry });
        percentages.push((await takeAssessment(t, lead.token, SMB, best.slice(0, 7 + i * 9))).percentageScore);
      }
      expect(new Set(percentages).size).toBe(5);
      const average = round1(percentages.reduce((a, b) => a + b, 0) / percentages.length);
      expect(await benchmark()).toEqual({ industry, averagePercentage: average, contributors: 5 });
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('the assessment limit', () => {
  let t: TestApp;
  let extra: string;
  let extra2: string;
  beforeAll(async () => {
    t = await startTestApp({ env: appEnv({ ASSESSMENT_LIMIT_FREE: '2', ASSESSMENT_LIMIT_PREMIUM: '4' }) });
    extra = uniqueSlug('limit');
    extra2 = uniqueSlug('limit');
    await addTemplate(t, syntheticTemplate(extra, { categories: 2 }));
    await addTemplate(t, syntheticTemplate(extra2, { categories: 1 }));
  });
  afterAll(() => t?.stop());

  it('gives a lead the free limit, completed assessments included', async () => {
    const lead = await captureLead(t);
    const first = (await startOn(t, lead.token, SMB)).assessment.id;
    ok(await t.gql(SUBMIT, { id: first, answers: bestAnswers(await templateOf(t, SMB)) }, { token: lead.token }));
    const second = (await startOn(t, lead.token, SMB)).assessment.id;
    expect(second).not.toBe(first);

    const refused = await t.gql(START, { slug: SMB_NB }, { token: lead.token });
    expect(extensionsOf(refused)).toMatchObject({ code: 'ASSESSMENT_LIMIT_REACHED' });
    expect(refused.data).toBeNull();
    // Resuming is not a new start: it works at the limit.
    expect((await startOn(t, lead.token, SMB)).assessment.id).toBe(second);
    expect(ok(await t.gql(MINE, {}, { token: lead.token })).myAssessments.totalCount).toBe(2);
  });

  it('counts what an account started, and frees a slot when one in progress is deleted; the profile agrees', async () => {
    const { token } = await accountToken(t);
    expect(await profileOf(t, token)).toEqual({ assessmentLimit: 2, assessmentsRemaining: 2 });
    const smb = (await startOn(t, token, SMB)).assessment.id;
    expect(await profileOf(t, token)).toEqual({ assessmentLimit: 2, assessmentsRemaining: 1 });
    const nb = (await startOn(t, token, SMB_NB)).assessment.id;
    expect(await profileOf(t, token)).toEqual({ assessmentLimit: 2, assessmentsRemaining: 0 });
    expect(firstCode(await t.gql(START, { slug: extra }, { token }))).toBe('ASSESSMENT_LIMIT_REACHED');
    expect(await profileOf(t, token)).toEqual({ assessmentLimit: 2, assessmentsRemaining: 0 });

    expect(ok(await t.gql(DELETE, { id: nb }, { token })).deleteAssessment).toBe(true);
    expect(await profileOf(t, token)).toEqual({ assessmentLimit: 2, assessmentsRemaining: 1 });
    expect(ok(await t.gql(`{ dashboard { assessmentsRemaining } }`, {}, { token })).dashboard.assessmentsRemaining).toBe(1);
    await startOn(t, token, extra);
    expect(await profileOf(t, token)).toEqual({ assessmentLimit: 2, assessmentsRemaining: 0 });

    // A completed one keeps counting: submitting frees nothing.
    ok(await t.gql(SUBMIT, { id: smb, answers: bestAnswers(await templateOf(t, SMB)) }, { token }));
    expect(firstCode(await t.gql(START, { slug: SMB }, { token }))).toBe('ASSESSMENT_LIMIT_REACHED');
    expect(await profileOf(t, token)).toEqual({ assessmentLimit: 2, assessmentsRemaining: 0 });
  });

  it('holds the limit when starts on four templates arrive at once', async () => {
    const lead = await captureLead(t);
    const results = await Promise.all([SMB, SMB_NB, extra, extra2].map((slug) => t.gql(START, { slug }, { token: lead.token })));
    const outcome = results.map((r) => (r.errors ? firstCode(r) : 'STARTED')).sort();
    expect(outcome).toEqual(['ASSESSMENT_LIMIT_REACHED', 'ASSESSMENT_LIMIT_REACHED', 'STARTED', 'STARTED']);
    expect(ok(await t.gql(MINE, {}, { token: lead.token })).myAssessments.totalCount).toBe(2);
  });

  it("applies ASSESSMENT_LIMIT_PREMIUM to an account on the seeded tier 'premium', from its next request", async () => {
    const account = await accountToken(t);
    await t.sql(`update users set tier_id = (select id from tiers where name = 'premium') where id = ?`, [account.id]);
    expect(await profileOf(t, account.token)).toEqual({ assessmentLimit: 4, assessmentsRemaining: 4 });
    for (const slug of [SMB, SMB_NB, extra]) await startOn(t, account.token, slug);
    expect(await profileOf(t, account.token)).toEqual({ assessmentLimit: 4, assessmentsRemaining: 1 });
    expect(ok(await t.gql(`{ dashboard { assessmentsRemaining } }`, {}, { token: account.token })).dashboard.assessmentsRemaining).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('pacing', () => {
  let t: TestApp;
  let extra: string;
  beforeAll(async () => {
    t = await startTestApp({
      env: appEnv({ ASSESSMENT_START_INTERVAL: '60', ASSESSMENT_SUBMIT_INTERVAL: '300', ASSESSMENT_LIMIT_FREE: '10' }),
    });
    extra = uniqueSlug('paced');
    await addTemplate(t, syntheticTemplate(extra, { categories: 2 }));
  });
  afterAll(() => t?.stop());

  const expectRateLimited = (res: GraphQLResponse, atMost: number) => {
    const extensions = extensionsOf(res);
    expect(extensions.code).toBe('RATE_LIMITED');
    expect(Number.isInteger(extensions.retryAfter)).toBe(true);
    expect(extensions.retryAfter).toBeGreaterThan(0);
    expect(extensions.retryAfter).toBeLessThanOrEqual(atMost);
    return extensions.retryAfter as number;
  };

  it('allows one new start a minute; resuming is not a start', async () => {
    const lead = await captureLead(t);
    const first = (await startOn(t, lead.token, SMB)).assessment.id;
    expect((await startOn(t, lead.token, SMB)).assessment.id).toBe(first);

    expectRateLimited(await t.gql(START, { slug: SMB_NB }, { token: lead.token }), 60);
    t.clock.advance(30);
    expectRateLimited(await t.gql(START, { slug: SMB_NB }, { token: lead.token }), 30);
    // Resuming still works while new starts wait.
    expect((await startOn(t, lead.token, SMB)).assessment.id).toBe(first);
    t.clock.advance(31);
    expect((await startOn(t, lead.token, SMB_NB)).assessment.id).not.toBe(first);
    expect(ok(await t.gql(MINE, {}, { token: lead.token })).myAssessments.totalCount).toBe(2);
  });

  it('counts a start that was deleted since', async () => {
    const { token } = await accountToken(t);
    const first = (await startOn(t, token, SMB)).assessment.id;
    expect(ok(await t.gql(DELETE, { id: first }, { token })).deleteAssessment).toBe(true);
    expectRateLimited(await t.gql(START, { slug: SMB }, { token }), 60);
    t.clock.advance(61);
    expect((await startOn(t, token, SMB)).assessment.id).not.toBe(first);
  });

  it('allows one new completed submission per 5 minutes; refused and repeated submissions do not count', async () => {
    const lead = await captureLead(t);
    const smb = await templateOf(t, SMB);
    const nb = await templateOf(t, SMB_NB);
    const a = (await startOn(t, lead.token, SMB)).assessment.id;
    t.clock.advance(61);
    const b = (await startOn(t, lead.token, SMB_NB)).assessment.id;

    // A refused submission (a bad answer) is no submission.
    const bad = await t.gql(SUBMIT, { id: a, answers: [{ questionId: randomUUID(), optionIds: [] }] }, { token: lead.token });
    expect(extensionsOf(bad).code).toBe('BAD_USER_INPUT');
    const done = ok(await t.gql(SCORED, { id: a, answers: bestAnswers(smb) }, { token: lead.token })).submitAssessment;
    expect(done.status).toBe('COMPLETED');

    expectRateLimited(await t.gql(SUBMIT, { id: b, answers: bestAnswers(nb) }, { token: lead.token }), 300);
    // Refused whole: b stays in progress with no answers merged.
    expect(await readBack(t, lead.token, b)).toMatchObject({ status: 'IN_PROGRESS', answers: [] });

    // A repeat of the completed one returns its result, and does not restart the wait.
    t.clock.advance(200);
    expect(ok(await t.gql(SCORED, { id: a, answers: worstAnswers(smb) }, { token: lead.token })).submitAssessment).toEqual(done);
    expectRateLimited(await t.gql(SUBMIT, { id: b, answers: bestAnswers(nb) }, { token: lead.token }), 100);

    t.clock.advance(101);
    expect(ok(await t.gql(SUBMIT, { id: b, answers: bestAnswers(nb) }, { token: lead.token })).submitAssessment.status).toBe('COMPLETED');
  });

  it('lets one of several new starts or submissions at once through', async () => {
    const lead = await captureLead(t);
    const starts = await Promise.all([SMB, SMB_NB, extra].map((slug) => t.gql(START, { slug }, { token: lead.token })));
    expect(starts.map((r) => (r.errors ? firstCode(r) : 'STARTED')).sort()).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'STARTED']);
    const started = starts.find((r) => !r.errors)!.data!.startAssessment.assessment.template.slug as string;
    t.clock.advance(61);
    const second = [SMB, SMB_NB, extra].find((slug) => slug !== started)!;
    await startOn(t, lead.token, second);

    const mine = ok(await t.gql(MINE, {}, { token: lead.token })).myAssessments.edges.map((e: any) => e.node.id);
    expect(mine).toHaveLength(2);
    const submits = await Promise.all(mine.map((id: string) => t.gql(SUBMIT, { id }, { token: lead.token })));
    expect(submits.map((r) => (r.errors ? firstCode(r) : r.data!.submitAssessment.status)).sort()).toEqual(['COMPLETED', 'RATE_LIMITED']);
  });

  it('lets ten submissions at once of one assessment through: only the first is new', async () => {
    const lead = await captureLead(t);
    const { assessment } = await startOn(t, lead.token, extra);
    const answers = bestAnswers(await templateOf(t, extra));
    const results = await Promise.all(Array.from({ length: 10 }, () => t.gql(SCORED, { id: assessment.id, answers }, { token: lead.token })));
    const scored = results.map((r) => ok(r).submitAssessment);
    for (const r of scored) expect(r).toEqual(scored[0]);
    const [row] = await t.sql(`select completed_at from assessments where id = ?`, [assessment.id]);
    expect(new Date(row!.completed_at).toISOString()).toBe(scored[0].completedAt);
  });
});

// ---------------------------------------------------------------------------------------------

describe('after a restart (templates no longer in memory)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: appEnv() });
  });
  afterAll(() => t?.stop());

  /** Fails after `seconds` instead of waiting out the driver's 60 s connection timeout. */
  const within = <T>(seconds: number, what: string, promise: Promise<T>) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${seconds} s`)), seconds * 1000).unref()),
    ]);

  // On a database that is one session (the embedded PGlite; DATABASE_POOL_MAX=1), the template of an
  // assessment is read inside the assessment's transaction on a second connection of a one-connection
  // pool, unless it is already in memory. After a restart it is not.
  it('saves to and submits an assessment started before', async () => {
    const lead = await captureLead(t);
    const smb = await templateOf(t, SMB);
    const id = (await startOn(t, lead.token, SMB)).assessment.id;
    ok(await t.gql(SAVE, { id, answers: bestAnswers(smb).slice(0, 5) }, { token: lead.token }));
    await t.restart();
    const saved = await within(10, 'saveAnswers after a restart', t.gql(SAVE, { id, answers: bestAnswers(smb).slice(5, 10) }, { token: lead.token }));
    expect(ok(saved).saveAnswers.answers).toHaveLength(10);
    const submitted = await within(10, 'submitAssessment after a restart', t.gql(SUBMIT, { id, answers: bestAnswers(smb).slice(10) }, { token: lead.token }));
    expect(ok(submitted).submitAssessment.percentageScore).toBe(100);
  });
});
