import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import { Lead } from '../leads/lead.entity';
import { User } from '../users/user.entity';
import { AssessmentTemplate } from './template.entity';
import type { CategoryScoreResult, StoredRecommendation, RiskLevel, StoredAnswers } from './template.types';

export type AssessmentStatus = 'IN_PROGRESS' | 'COMPLETED';

/**
 * One take of a template version. Its owner is a lead until the lead converts, then an account
 * (`user` set; `lead` stays, as where it came from). Scores are written once, at submission.
 */
@Entity({ tableName: 'assessments' })
@Index({ name: 'assessments_user_created_index', properties: ['user', 'createdAt'] })
@Index({ name: 'assessments_lead_index', properties: ['lead'] })
export class Assessment extends BaseEntity<
  | 'user'
  | 'lead'
  | 'status'
  | 'answers'
  | 'totalScore'
  | 'maxPossibleScore'
  | 'percentageScore'
  | 'riskLevel'
  | 'categoryScores'
  | 'recommendations'
  | 'insights'
  | 'completedAt'
  | 'shareTokenHash'
  | 'sharedAt'
  | 'attestation'
  | 'deletedAt'
> {
  @ManyToOne(() => User, { ref: true, nullable: true, deleteRule: 'cascade', index: false })
  user: Ref<User> | null = null;

  @ManyToOne(() => Lead, { ref: true, nullable: true, deleteRule: 'set null', index: false })
  lead: Ref<Lead> | null = null;

  @ManyToOne(() => AssessmentTemplate, { ref: true, index: 'assessments_template_id_index' })
  template!: Ref<AssessmentTemplate>;

  @Property({ type: 'string', length: 16, default: 'IN_PROGRESS' })
  status: AssessmentStatus = 'IN_PROGRESS';

  @Property({ type: 'json', default: '{}' })
  answers: StoredAnswers = {};

  @Property({ type: 'double', nullable: true })
  totalScore: number | null = null;

  @Property({ type: 'double', nullable: true })
  maxPossibleScore: number | null = null;

  @Property({ type: 'double', nullable: true })
  percentageScore: number | null = null;

  @Property({ type: 'string', length: 16, nullable: true })
  riskLevel: RiskLevel | null = null;

  @Property({ type: 'json', nullable: true })
  categoryScores: CategoryScoreResult[] | null = null;

  @Property({ type: 'json', nullable: true })
  recommendations: StoredRecommendation[] | null = null;

  @Property({ type: 'text', nullable: true })
  insights: string | null = null;

  @Property({ type: 'datetime' })
  startedAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  completedAt: Date | null = null;

  /** SHA-256 of the current share token; null when not shared. */
  @Property({ type: 'string', length: 64, nullable: true, unique: 'assessments_share_token_hash_unique' })
  shareTokenHash: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  sharedAt: Date | null = null;

  /** The signed attestation of the result, made once at submission (see AttestationService). */
  @Property({ type: 'text', nullable: true })
  attestation: string | null = null;

  /** A deleted assessment (in progress only) no longer counts toward the limit, but still paces starts. */
  @Property({ type: 'datetime', nullable: true })
  deletedAt: Date | null = null;
}
