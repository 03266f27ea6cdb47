import { randomBytes } from 'node:crypto';
import { AUTH_FIELDS, ok } from '../support/graphql';
import { linkToken } from '../support/smtp';
import { RELAXED_IP_LIMITS, type TestApp } from '../support/test-app';

/** Test settings for the assessment files: pacing off and capture limits relaxed unless a test sets its own. */
export const ASSESSMENT_TEST_ENV = {
  ASSESSMENT_START_INTERVAL: '0',
  ASSESSMENT_SUBMIT_INTERVAL: '0',
};

/** The lead limits raised beyond RELAXED_IP_LIMITS: pass them to relaxedLimits. */
export const RELAXED_LEAD_LIMITS = ['captureLead.account=100000/60'];

/**
 * RATE_LIMITS raising the lead operations only (their IP limits as RELAXED_IP_LIMITS raises them,
 * and RELAXED_LEAD_LIMITS); the account operations keep their default IP limits.
 */
export const LEAD_ONLY_LIMITS = [
  ...RELAXED_IP_LIMITS.split(',').filter((entry) => /^(captureLead|requestLoginLink|logInWithLink)\./.test(entry)),
  ...RELAXED_LEAD_LIMITS,
].join(',');

export const CAPTURE = `mutation ($input: CaptureLeadInput!) { captureLead(input: $input) { leadId canTakeAssessment session { accessToken accessTokenExpiresAt } } }`;
export const START = `mutation ($slug: String!) { startAssessment(templateSlug: $slug) { questionsCount assessment { id status startedAt template { id slug version } } } }`;
export const TEMPLATE = `query ($slug: String!, $version: Int) { assessmentTemplate(slug: $slug, version: $version) {
  id slug name locale version categories { id name weight order questions { id text kind weight allowsNotApplicable references options { id label order points } } } } }`;
export const RESULT_FIELDS = `id status totalScore maxPossibleScore percentageScore riskLevel insights completedAt isShared attestation
  categoryScores { category { id name } score maxScore percentage riskLevel }
  recommendations { priority title detail references pointsLost category { name } }
  answers { question { id } selectedOptions { id } notApplicable }`;
export const SAVE = `mutation ($id: ID!, $answers: [AnswerInput!]!) { saveAnswers(assessmentId: $id, answers: $answers) { id status answers { question { id } selectedOptions { id } notApplicable } } }`;
export const SUBMIT = `mutation ($id: ID!, $answers: [AnswerInput!]) { submitAssessment(assessmentId: $id, answers: $answers) { ${RESULT_FIELDS} } }`;
export const LOG_IN_WITH_LINK = `mutation ($t: String!) { logInWithLink(token: $t) { ${AUTH_FIELDS} } }`;

let n = 0;
export const leadEmail = (prefix = 'lead') => `${prefix}${Date.now().toString(36)}${(n++).toString(36)}${randomBytes(2).toString('hex')}@example.com`;

/** Captures a lead and returns its token and id. */
export async function captureLead(t: TestApp, input: Record<string, unknown> = {}) {
  const email = (input.email as string) ?? leadEmail();
  const res = ok(await t.gql(CAPTURE, { input: { email, ...input } }));
  return { email, leadId: res.captureLead.leadId as string, token: res.captureLead.session.accessToken as string };
}

/** The best answer to every question of a template (full points). */
export function bestAnswers(template: any) {
  return template.categories.flatMap((c: any) =>
    c.questions.map((q: any) => ({ questionId: q.id, optionIds: q.kind === 'SINGLE' ? [q.options.at(-1).id] : q.options.map((o: any) => o.id) })),
  );
}

/** The worst answer to every question (the first option of SINGLE questions, nothing for MULTIPLE). */
export function worstAnswers(template: any) {
  return template.categories.flatMap((c: any) =>
    c.questions.map((q: any) => ({ questionId: q.id, optionIds: q.kind === 'SINGLE' ? [q.options[0].id] : [] })),
  );
}

export async function loginLinkToken(t: TestApp, email: string, count = 1) {
  const mail = await t.inbox.waitFor(email, undefined, { count });
  return linkToken(mail, 'login');
}
