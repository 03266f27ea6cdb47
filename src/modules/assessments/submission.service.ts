import type { Clock } from '../../common/clock';
import { conflict, notFound } from '../../common/errors';
import type { Config } from '../../config';
import type { PreparedQuery, PreparedSql, PreparedStatement } from '../../db/pg-pool';
import type { Owner } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import type { SigningKeys } from '../auth/signing-keys';
import { signAttestation } from './attestation';
import { assertPaced, ownerLockKey, RECORD_COLUMNS, toRecord, type AssessmentRecord } from './assessment.record';
import { mergeAnswers, scoreAssessment } from './scoring';
import type { TemplateCatalog } from './template.catalog';
import { storedRecommendation, type AnswerInputLike, type TemplateNode } from './template.types';
import { isUuid } from '../../common/ids';
import { eventInsertSql, eventValues, originFrom } from '../audit/audit';

const statement = (name: string, text: string): PreparedStatement => ({ name: `posture_submission_${name}`, text });

// One statement per kind of owner, so that each is prepared once with its own plan.
const SQL = {
  lockByUser: statement(
    'lock_by_user',
    `select ${RECORD_COLUMNS} from assessments a where a.id = $1 and a.user_id = $2 and a.deleted_at is null for update`,
  ),
  lockByLead: statement(
    'lock_by_lead',
    `select ${RECORD_COLUMNS} from assessments a where a.id = $1 and a.lead_id = $2 and a.user_id is null and a.deleted_at is null for update`,
  ),
  ownerLock: statement('owner_lock', `select pg_advisory_xact_lock(hashtextextended($1, 0))`),
  latestByUser: statement('latest_by_user', `select max(completed_at) as latest from assessments where user_id = $1`),
  latestByLead: statement('latest_by_lead', `select max(completed_at) as latest from assessments where lead_id = $1 and user_id is null`),
  saveAnswers: statement('save', `update assessments set answers = $2 where id = $1`),
  // With its audit event as a CTE ($12 on): still one statement, so no extra round trip.
  complete: statement(
    'complete',
    `with completed as (${eventInsertSql(12)})
     update assessments set status = 'COMPLETED', answers = $2, total_score = $3, max_possible_score = $4, percentage_score = $5,
            risk_level = $6, category_scores = $7, recommendations = $8, insights = $9, completed_at = $10, attestation = $11
      where id = $1`,
  ),
};

/** The template of a locked record was not in memory: read it outside the transaction and try again. */
class TemplateNotLoaded {
  constructor(readonly templateId: string) {}
}

export interface SubmissionServiceDeps {
  config: Pick<Config, 'assessments' | 'jwt'>;
  sql: PreparedSql;
  catalog: TemplateCatalog;
  keys: SigningKeys;
  clock: Clock;
}

/**
 * Saving and submitting answers: the hottest writes of an assessment, so they run as prepared
 * statements in a short transaction of their own, outside the ORM (through the unit of work they
 * cost several times the writes themselves). The row is locked while answers merge and score, so
 * concurrent saves never lose one another and concurrent submissions score once.
 */
export class SubmissionService {
  constructor(private readonly deps: SubmissionServiceDeps) {}

  /** Merges answers into an assessment in progress (CONFLICT once completed). */
  save(owner: Owner, id: string, answers: readonly AnswerInputLike[], ctx?: Pick<Context, 'loader'>): Promise<AssessmentRecord> {
    return this.locked(owner, id, ctx, async (tx, record, template) => {
      if (record.status === 'COMPLETED') {
        throw conflict('This assessment is completed; its answers can no longer change.', { field: 'assessmentId' });
      }
      const merged = mergeAnswers(template, record.answers, answers);
      await tx.query(SQL.saveAnswers, [id, JSON.stringify(merged)]);
      return { ...record, answers: merged };
    });
  }

  /**
   * Scores an assessment once. A completed one is returned unchanged, whatever answers come with it,
   * so a repeat or a concurrent submission (the row is locked) gets the same result. Nothing is
   * saved when the answers or the pacing refuse it. The completion is recorded
   * (`assessment.completed`: the account as actor, none for a lead) with the client of `ctx`.
   */
  submit(
    owner: Owner,
    id: string,
    answers: readonly AnswerInputLike[] | null | undefined,
    ctx?: Pick<Context, 'loader' | 'meta'>,
  ): Promise<AssessmentRecord> {
    const interval = this.deps.config.assessments.submitInterval;
    return this.locked(owner, id, ctx, async (tx, record, template) => {
      if (record.status === 'COMPLETED') return record;
      const merged = answers?.length ? mergeAnswers(template, record.answers, answers) : record.answers;
      const result = scoreAssessment(template, merged);
      const recommendations = result.recommendations.map(storedRecommendation);
      const now = this.deps.clock.now();
      if (interval > 0) await this.pace(tx, owner, interval, now);
      const attestation = signAttestation(
        this.deps.keys,
        this.deps.config.jwt.issuer,
        {
          assessmentId: id,
          templateSlug: template.slug,
          templateVersion: template.version,
          percentageScore: result.percentageScore,
          riskLevel: result.riskLevel,
          completedAt: now,
        },
        now,
      );
      await tx.query(SQL.complete, [
        id,
        JSON.stringify(merged),
        result.totalScore,
        result.maxPossibleScore,
        result.percentageScore,
        result.riskLevel,
        JSON.stringify(result.categoryScores),
        JSON.stringify(recommendations),
        result.insights,
        now,
        attestation,
        ...eventValues(originFrom(ctx?.meta, owner.kind === 'user' ? owner.userId : null), {
          action: 'assessment.completed',
          targetType: 'assessment',
          targetId: id,
          changes: { percentageScore: result.percentageScore, riskLevel: result.riskLevel, ...(owner.kind === 'lead' ? { leadId: owner.leadId } : {}) },
        }),
      ]);
      return {
        ...record,
        status: 'COMPLETED',
        answers: merged,
        totalScore: result.totalScore,
        maxPossibleScore: result.maxPossibleScore,
        percentageScore: result.percentageScore,
        riskLevel: result.riskLevel,
        categoryScores: result.categoryScores,
        recommendations,
        insights: result.insights,
        completedAt: now,
        attestation,
      };
    });
  }

  /**
   * Runs `fn` in a transaction holding the owner's assessment `id` locked, with its template. A
   * template this process has not read yet (or a draft, never kept) is read outside the
   * transaction, and the transaction run again: on a database of one connection (the embedded
   * one) the catalog's statements could not run while the transaction holds it.
   */
  private async locked<T>(
    owner: Owner,
    id: string,
    ctx: Pick<Context, 'loader'> | undefined,
    fn: (tx: PreparedQuery, record: AssessmentRecord, template: TemplateNode) => Promise<T>,
  ): Promise<T> {
    if (!isUuid(id)) throw notFound('Assessment', 'id');
    let read: TemplateNode | undefined;
    for (;;) {
      try {
        return await this.deps.sql.transaction(async (tx) => {
          const [row] = await tx.query<Record<string, unknown>>(owner.kind === 'user' ? SQL.lockByUser : SQL.lockByLead, [
            id,
            owner.kind === 'user' ? owner.userId : owner.leadId,
          ]);
          if (!row) throw notFound('Assessment', 'id');
          const record = toRecord(row);
          const template = read?.id === record.templateId ? read : this.deps.catalog.peek(record.templateId);
          if (!template) throw new TemplateNotLoaded(record.templateId);
          return fn(tx, record, template);
        });
      } catch (err) {
        if (!(err instanceof TemplateNotLoaded) || read?.id === err.templateId) throw err;
        read = (await this.deps.catalog.byId(err.templateId, ctx)) ?? undefined;
        if (!read) throw new Error(`a template version is missing: ${err.templateId}`);
      }
    }
  }

  /**
   * RATE_LIMITED, with the seconds to wait, while the owner's latest completion is within the
   * interval. The owner's advisory lock, held to the end of the transaction, orders this check and
   * the completion it allows across every instance.
   */
  private async pace(tx: PreparedQuery, owner: Owner, interval: number, now: Date): Promise<void> {
    await tx.query(SQL.ownerLock, [ownerLockKey(owner)]);
    const [row] = await tx.query<{ latest: string | Date | null }>(owner.kind === 'user' ? SQL.latestByUser : SQL.latestByLead, [
      owner.kind === 'user' ? owner.userId : owner.leadId,
    ]);
    assertPaced(row?.latest, interval, now, 'Wait before submitting another assessment.');
  }
}
