import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { firstCode, ok } from '../support/graphql';
import { ME, startTestApp, type TestApp } from '../support/test-app';
import {
  ASSESSMENT_TEST_ENV,
  bestAnswers,
  captureLead,
  LEAD_ONLY_LIMITS,
  LOG_IN_WITH_LINK,
  loginLinkToken,
  RESULT_FIELDS,
  SAVE,
  START,
  SUBMIT,
  TEMPLATE,
} from './support';

// The visitor's whole story, through GraphQL and real mail: capture → start → save → resume →
// submit → results → login link → account with the assessment → dashboard → share → public view →
// attestation checked against the JWKS → revoke → the view is gone.
describe('the visitor story', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: LEAD_ONLY_LIMITS } });
  });
  afterAll(() => t.stop());

  it('goes from an email address to a verified account with a shared, attested report', async () => {
    const lead = await captureLead(t, { fullName: 'Kari Nordmann', companyName: 'Fjord AS', industry: 'Retail', companySize: '11-50' });
    expect(lead.leadId).toMatch(/^[0-9a-f-]{36}$/);
    // The lead session is not an account: `me` is null for it.
    expect(ok(await t.gql(ME, {}, { token: lead.token })).me).toBeNull();

    const template = ok(await t.gql(TEMPLATE, { slug: 'smb-baseline' })).assessmentTemplate;
    expect(template.categories.length).toBeGreaterThanOrEqual(8);
    // Answer keys stay hidden from a visitor.
    expect(template.categories.flatMap((c: any) => c.questions.flatMap((q: any) => q.options.map((o: any) => o.points)))).toEqual(
      expect.not.arrayContaining([expect.any(Number)]),
    );

    const started = ok(await t.gql(START, { slug: 'smb-baseline' }, { token: lead.token })).startAssessment;
    const questions = template.categories.flatMap((c: any) => c.questions);
    expect(started.questionsCount).toBe(questions.length);
    expect(started.assessment.status).toBe('IN_PROGRESS');
    const id = started.assessment.id;

    const best = bestAnswers(template);
    const saved = ok(await t.gql(SAVE, { id, answers: best.slice(0, 10) }, { token: lead.token })).saveAnswers;
    expect(saved.answers).toHaveLength(10);

    // Resuming gives the same assessment back, with its answers.
    const resumed = ok(await t.gql(START, { slug: 'smb-baseline' }, { token: lead.token })).startAssessment;
    expect(resumed.assessment.id).toBe(id);

    const submitted = ok(await t.gql(SUBMIT, { id, answers: best.slice(10) }, { token: lead.token })).submitAssessment;
    expect(submitted).toMatchObject({ status: 'COMPLETED', percentageScore: 100, riskLevel: 'LOW', recommendations: [] });
    expect(submitted.totalScore).toBe(submitted.maxPossibleScore);
    expect(submitted.attestation).toEqual(expect.any(String));

    // The emailed link signs the visitor into a new, verified account holding the assessment.
    const token = await loginLinkToken(t, lead.email);
    const login = ok(await t.gql(LOG_IN_WITH_LINK, { t: token })).logInWithLink;
    expect(login.user).toMatchObject({ email: lead.email, emailVerified: true, name: 'Kari Nordmann' });
    const account = login.accessToken;
    // The lead session ended with the conversion.
    expect(firstCode(await t.gql(ME, {}, { token: lead.token }))).toBe('UNAUTHENTICATED');
    // The link is single-use.
    expect(firstCode(await t.gql(LOG_IN_WITH_LINK, { t: token }))).toBe('INVALID_TOKEN');

    const mine = ok(await t.gql(`{ myAssessments { totalCount edges { node { id status percentageScore } } } me { profile { companyName industry assessmentLimit assessmentsRemaining } } }`, {}, { token: account }));
    expect(mine.myAssessments.totalCount).toBe(1);
    expect(mine.myAssessments.edges[0].node).toMatchObject({ id, status: 'COMPLETED', percentageScore: 100 });
    expect(mine.me.profile).toEqual({ companyName: 'Fjord AS', industry: 'Retail', assessmentLimit: 3, assessmentsRemaining: 2 });

    const dashboard = ok(
      await t.gql(
        `{ dashboard { latest { id } trend { percentageScore } categoryAverages { categoryName averagePercentage } topRecommendations { title } assessmentsRemaining industryBenchmark { industry } } }`,
        {},
        { token: account },
      ),
    ).dashboard;
    expect(dashboard).toMatchObject({ latest: { id }, trend: [{ percentageScore: 100 }], topRecommendations: [], assessmentsRemaining: 2, industryBenchmark: null });
    expect(dashboard.categoryAverages.length).toBe(template.categories.length);

    const share = ok(await t.gql(`mutation ($id: ID!) { shareAssessment(id: $id) { url token } }`, { id }, { token: account })).shareAssessment;
    expect(share.url).toBe(`http://posture.test/shared/${share.token}`);
    const SHARED = `query ($t: String!) { sharedAssessment(token: $t) { templateName completedAt percentageScore riskLevel attestation categoryScores { percentage } recommendations { title } } }`;
    const shared = ok(await t.gql(SHARED, { t: share.token })).sharedAssessment;
    expect(shared).toMatchObject({ templateName: template.name, percentageScore: 100, riskLevel: 'LOW' });
    expect(JSON.stringify(shared)).not.toContain(lead.email);

    // A partner checks the attestation offline against the JWKS.
    const jwks = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> } & Parameters<typeof createLocalJWKSet>[0];
    const { payload, protectedHeader } = await jwtVerify(shared.attestation, createLocalJWKSet(jwks), { typ: 'posture-attestation+jwt' });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'posture-attestation+jwt' });
    expect(decodeProtectedHeader(shared.attestation).kid).toBe(jwks.keys[0].kid);
    expect(payload).toMatchObject({ sub: id, template: 'smb-baseline', templateVersion: 1, percentageScore: 100, riskLevel: 'LOW', completedAt: submitted.completedAt });

    expect(ok(await t.gql(`mutation ($id: ID!) { revokeAssessmentShare(id: $id) }`, { id }, { token: account })).revokeAssessmentShare).toBe(true);
    expect(ok(await t.gql(SHARED, { t: share.token })).sharedAssessment).toBeNull();

    // The full result, as the owner reads it.
    const full = ok(await t.gql(`query ($id: ID!) { assessment(id: $id) { ${RESULT_FIELDS} } }`, { id }, { token: account })).assessment;
    expect(full.answers).toHaveLength(questions.length);
  });
});
