import { randomUUID } from 'node:crypto';
import { bestAnswers, loginLinkToken, LOG_IN_WITH_LINK, START, SUBMIT, TEMPLATE } from '../assessments/support';
import { auditRows } from '../support/audit';
import { ok } from '../support/graphql';
import type { TestApp } from '../support/test-app';

export const SLUG = 'smb-baseline';

export const LEAD_FIELDS = `id email fullName companyName jobTitle phone companySize industry source locale marketingConsent marketingConsentAt
  status notes capturedAt convertedAt convertedUser { id email username } latestScore { assessmentId percentageScore riskLevel completedAt }`;
export const LEADS = `query ($first: Int, $after: String, $filter: LeadFilter) { leads(first: $first, after: $after, filter: $filter) {
  totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ${LEAD_FIELDS} } } } }`;
export const UPDATE_LEAD = `mutation ($id: ID!, $input: UpdateLeadInput!) { updateLead(id: $id, input: $input) { ${LEAD_FIELDS} } }`;
export const DELETE_LEAD = `mutation ($id: ID!) { adminDeleteLead(id: $id) }`;
export const METRICS = `query ($from: DateTime, $to: DateTime) { leadMetrics(from: $from, to: $to) {
  from to captured converted conversionRate assessmentsStarted assessmentsCompleted completionRate
  averageScoreByIndustry { key averageScore count } averageScoreByCompanySize { key averageScore count } capturedPerDay { date count } } }`;

export interface SeedLead {
  id?: string;
  createdAt: Date | string;
  email?: string;
  fullName?: string | null;
  companyName?: string | null;
  companySize?: string | null;
  industry?: string | null;
  source?: string | null;
  marketingConsent?: boolean;
  status?: string;
  notes?: string | null;
  convertedUserId?: string | null;
  convertedAt?: Date | string | null;
}

let seeded = 0;

/** Inserts a lead row as captureLead would have stored it; returns its id. */
export async function seedLead(t: TestApp, lead: SeedLead): Promise<string> {
  const id = lead.id ?? randomUUID();
  await t.sql(
    `insert into leads (id, created_at, email, full_name, company_name, company_size, industry, source, marketing_consent, marketing_consent_at, status, notes, converted_user_id, converted_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      new Date(lead.createdAt),
      lead.email ?? `seed${seeded++}.${id.slice(0, 8)}@example.com`,
      lead.fullName ?? null,
      lead.companyName ?? null,
      lead.companySize ?? null,
      lead.industry ?? null,
      lead.source ?? null,
      lead.marketingConsent ?? false,
      lead.marketingConsent ? new Date(lead.createdAt) : null,
      lead.status ?? 'NEW',
      lead.notes ?? null,
      lead.convertedUserId ?? null,
      lead.convertedAt ? new Date(lead.convertedAt) : null,
    ],
  );
  return id;
}

export interface SeedAssessment {
  leadId?: string | null;
  userId?: string | null;
  startedAt: Date | string;
  completedAt?: Date | string | null;
  percentageScore?: number | null;
  deletedAt?: Date | string | null;
}

const riskOf = (p: number) => (p >= 80 ? 'LOW' : p >= 60 ? 'MEDIUM' : p >= 40 ? 'HIGH' : 'CRITICAL');

/** Inserts an assessment row (completed when it has a completion time); returns its id. */
export async function seedAssessment(t: TestApp, a: SeedAssessment): Promise<string> {
  const id = randomUUID();
  const [template] = await t.sql<{ id: string }>(`select id from assessment_templates order by created_at limit 1`);
  const completed = a.completedAt != null;
  await t.sql(
    `insert into assessments (id, created_at, user_id, lead_id, template_id, status, started_at, completed_at, percentage_score, risk_level, deleted_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      new Date(a.startedAt),
      a.userId ?? null,
      a.leadId ?? null,
      template!.id,
      completed ? 'COMPLETED' : 'IN_PROGRESS',
      new Date(a.startedAt),
      completed ? new Date(a.completedAt!) : null,
      completed ? a.percentageScore! : null,
      completed ? riskOf(a.percentageScore!) : null,
      a.deletedAt ? new Date(a.deletedAt) : null,
    ],
  );
  return id;
}

/** Takes the template in a lead session (or an account's): starts, and submits the best answers unless `submit` is false. */
export async function takeAssessment(t: TestApp, token: string, submit = true): Promise<{ id: string; percentageScore: number | null }> {
  const started = ok(await t.gql(START, { slug: SLUG }, { token })).startAssessment;
  if (!submit) return { id: started.assessment.id, percentageScore: null };
  const template = ok(await t.gql(TEMPLATE, { slug: SLUG })).assessmentTemplate;
  const result = ok(await t.gql(SUBMIT, { id: started.assessment.id, answers: bestAnswers(template) }, { token })).submitAssessment;
  return { id: result.id, percentageScore: result.percentageScore };
}

/** Follows the login link captureLead mailed to `email`: the lead converts into an account. */
export async function convert(t: TestApp, email: string): Promise<{ userId: string; token: string }> {
  const token = await loginLinkToken(t, email);
  const auth = ok(await t.gql(LOG_IN_WITH_LINK, { t: token })).logInWithLink;
  return { userId: auth.user.id, token: auth.accessToken };
}

/** The audit events about a target, oldest first. */
export const eventsAbout = (t: TestApp, targetId: string) => auditRows(t, { targetId });
