import type { Owner } from '../../graphql/access';
import { rateLimited } from '../../common/errors';
import type { AssessmentStatus } from './assessment.entity';
import type { CategoryScoreResult, StoredRecommendation, RiskLevel, StoredAnswers } from './template.types';

/** An assessment as the API reads it: a plain row, never a managed entity. */
export interface AssessmentRecord {
  id: string;
  userId: string | null;
  leadId: string | null;
  templateId: string;
  status: AssessmentStatus;
  answers: StoredAnswers;
  totalScore: number | null;
  maxPossibleScore: number | null;
  percentageScore: number | null;
  riskLevel: RiskLevel | null;
  categoryScores: CategoryScoreResult[] | null;
  recommendations: StoredRecommendation[] | null;
  insights: string | null;
  startedAt: Date;
  completedAt: Date | null;
  createdAt: Date;
  isShared: boolean;
  attestation: string | null;
}

/** The select list of an AssessmentRecord over `assessments a`. */
export const RECORD_COLUMNS = `a.id, a.user_id as "userId", a.lead_id as "leadId", a.template_id as "templateId", a.status, a.answers,
  a.total_score as "totalScore", a.max_possible_score as "maxPossibleScore", a.percentage_score as "percentageScore",
  a.risk_level as "riskLevel", a.category_scores as "categoryScores", a.recommendations, a.insights,
  a.started_at as "startedAt", a.completed_at as "completedAt", a.created_at as "createdAt",
  (a.share_token_hash is not null) as "isShared", a.attestation`;

const DATES = ['startedAt', 'completedAt', 'createdAt'] as const;
const JSON_COLUMNS = ['answers', 'categoryScores', 'recommendations'] as const;

/** Raw rows give timestamps as strings (MikroORM's pg setup) and, through knex, jsonb as text. */
export function toRecord(row: Record<string, unknown>): AssessmentRecord {
  const record = { ...row } as Record<string, unknown>;
  for (const key of DATES) if (typeof record[key] === 'string') record[key] = new Date(record[key] as string);
  for (const key of JSON_COLUMNS) if (typeof record[key] === 'string') record[key] = JSON.parse(record[key] as string);
  return record as unknown as AssessmentRecord;
}

/** Who owns assessments: an account or a lead. */
export type OwnerRef = Owner;

/** SQL that limits `assessments a` to an owner's, with its parameter. */
export function ownedBy(owner: OwnerRef): { sql: string; param: string } {
  return owner.kind === 'user'
    ? { sql: 'a.user_id = ?', param: owner.userId }
    : { sql: 'a.lead_id = ? and a.user_id is null', param: owner.leadId };
}

/**
 * The advisory lock that serializes an owner's starts and submissions on every instance, so the
 * limit and the pacing are decided one at a time.
 */
export const ownerLockKey = (owner: OwnerRef) =>
  `posture.assessments:${owner.kind === 'user' ? `user:${owner.userId}` : `lead:${owner.leadId}`}`;

/** RATE_LIMITED with the seconds to wait while the owner's `latest` start or completion is within `interval` seconds. */
export function assertPaced(latest: string | Date | null | undefined, interval: number, now: Date, message: string): void {
  if (!latest || interval <= 0) return;
  const wait = new Date(latest).getTime() + interval * 1000 - now.getTime();
  if (wait > 0) throw rateLimited(message, wait / 1000);
}
