import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { publicLink } from '../../common/links';
import { randomToken, sha256 } from '../../common/crypto';
import { conflict, DomainError, ErrorCode, notFound } from '../../common/errors';
import type { Config } from '../../config';
import type { Owner } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import { assertPaced, ownedBy, ownerLockKey, RECORD_COLUMNS, toRecord, type AssessmentRecord, type OwnerRef } from './assessment.record';
import type { TemplateCatalog } from './template.catalog';
import type { TemplateNode } from './template.types';
import { isUuid } from '../../common/ids';
import { DEFAULT_TIER_ID } from '../tiers/tier.entity';

export interface AssessmentServiceDeps {
  config: Pick<Config, 'assessments' | 'publicUrl'>;
  catalog: TemplateCatalog;
  clock: Clock;
}

type Db = Pick<EntityManager, 'execute'>;

/** Each account's assessment limit (`n`): its profile's override, else its tier's. */
const ACCOUNT_LIMITS = `select u.id, coalesce(p.assessment_limit, t.assessment_limit) as n
  from users u join tiers t on t.id = u.tier_id left join profiles p on p.user_id = u.id`;

/**
 * Taking assessments: start (or resume), delete and share, for an owner (an account or a lead
 * session); answers are saved and submitted by SubmissionService. Every id is looked up through
 * its owner, so someone else's is NOT_FOUND. Starts, which must not race past the limit or the
 * pacing, hold the owner's advisory lock (see ownerLockKey).
 */
export class AssessmentService {
  constructor(private readonly deps: AssessmentServiceDeps) {}

  /**
   * The assessments an owner may start over its lifetime: the account's profile override, else its
   * tier's; a lead has the default tier's. Read from the database on each call, so a tier change
   * or an override bites on the owner's next request.
   */
  async limitOf(db: Db, owner: OwnerRef): Promise<number> {
    const [row] =
      owner.kind === 'lead'
        ? await db.execute<Array<{ n: number }>>(`select assessment_limit as n from tiers where id = ?`, [DEFAULT_TIER_ID])
        : await db.execute<Array<{ n: number }>>(`${ACCOUNT_LIMITS} where u.id = ?`, [owner.userId]);
    return Number(row?.n ?? 0);
  }

  /**
   * The limit of each account and how many of its assessments count toward it (see countOf), in
   * one statement for any number of accounts: the profiles of a list of accounts.
   */
  async allowancesOf(db: Db, userIds: readonly string[]): Promise<Map<string, { limit: number; used: number }>> {
    const rows = await db.execute<Array<{ id: string; n: number; used: string | number }>>(
      `select l.id, l.n, (select count(*) from assessments a where a.user_id = l.id and a.deleted_at is null) as used
         from (${ACCOUNT_LIMITS} where u.id in (?)) l`,
      [userIds],
    );
    return new Map(rows.map((r) => [r.id, { limit: Number(r.n ?? 0), used: Number(r.used) }]));
  }

  /** Assessments that count toward the limit: started, in progress or completed, not deleted. */
  async countOf(db: Db, owner: OwnerRef): Promise<number> {
    const own = ownedBy(owner);
    const [row] = await db.execute<Array<{ n: string | number }>>(
      `select count(*) as n from assessments a where ${own.sql} and a.deleted_at is null`,
      [own.param],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Resumes the owner's assessment in progress on this template (any version), or starts one on its
   * latest published version: within the limit, and at most one new start per pacing interval.
   */
  async start(em: EntityManager, owner: Owner, slug: string, ctx?: Pick<Context, 'loader'>): Promise<{ assessment: AssessmentRecord; template: TemplateNode }> {
    const template = await this.deps.catalog.bySlug(slug, null, ctx);
    if (!template || template.status !== 'PUBLISHED') throw notFound('Assessment template', 'templateSlug');
    const assessment = await em.transactional(async (tx) => {
      await this.lockOwner(tx, owner);
      const own = ownedBy(owner);
      const [resumable] = await tx.execute<Array<Record<string, unknown>>>(
        `select ${RECORD_COLUMNS} from assessments a join assessment_templates t on t.id = a.template_id
          where ${own.sql} and a.deleted_at is null and a.status = 'IN_PROGRESS' and t.slug = ?
          order by a.created_at desc limit 1`,
        [own.param, slug],
      );
      if (resumable) return toRecord(resumable);
      const limit = await this.limitOf(tx, owner);
      if ((await this.countOf(tx, owner)) >= limit) {
        throw new DomainError(ErrorCode.ASSESSMENT_LIMIT_REACHED, `You have used all ${limit} of your assessments.`, { limit });
      }
      const now = this.deps.clock.now();
      await this.pace(tx, owner, 'a.started_at', this.deps.config.assessments.startInterval, now, 'Wait before starting another assessment.');
      const id = randomUUID();
      const [row] = await tx.execute<Array<Record<string, unknown>>>(
        `insert into assessments as a (id, created_at, user_id, lead_id, template_id, status, answers, started_at)
         values (?, ?, ?, ?, ?, 'IN_PROGRESS', '{}', ?) returning ${RECORD_COLUMNS}`,
        [id, now, owner.kind === 'user' ? owner.userId : null, owner.kind === 'lead' ? owner.leadId : null, template.id, now],
      );
      return toRecord(row!);
    });
    // The resumed one may be on an older version. Read outside the transaction: on a database of
    // one connection (the embedded one), the catalog's statements cannot run while it is held.
    return { assessment, template: assessment.templateId === template.id ? template : await this.templateOf(assessment.templateId, ctx) };
  }

  /** Deletes an assessment in progress (it stops counting toward the limit); CONFLICT once completed. */
  async delete(em: EntityManager, owner: Owner, id: string): Promise<true> {
    await em.transactional(async (tx) => {
      const record = await this.lockOwned(tx, owner, id);
      if (record.status === 'COMPLETED') throw conflict('A completed assessment cannot be deleted.', { field: 'id' });
      await tx.execute(`update assessments set deleted_at = ? where id = ?`, [this.deps.clock.now(), id]);
    });
    return true;
  }

  /** Issues a fresh share token for a completed assessment; the earlier one stops working. */
  async share(em: EntityManager, owner: Owner, id: string): Promise<{ url: string; token: string }> {
    const token = randomToken(32);
    await em.transactional(async (tx) => {
      const record = await this.lockOwned(tx, owner, id);
      if (record.status !== 'COMPLETED') throw conflict('Only a completed assessment can be shared.', { field: 'id' });
      await tx.execute(`update assessments set share_token_hash = ?, shared_at = ? where id = ?`, [sha256(token), this.deps.clock.now(), id]);
    });
    return { url: publicLink(this.deps.config.publicUrl, `shared/${token}`), token };
  }

  /** Turns sharing off: the link stops working. */
  async revokeShare(em: EntityManager, owner: Owner, id: string): Promise<true> {
    await em.transactional(async (tx) => {
      await this.lockOwned(tx, owner, id);
      await tx.execute(`update assessments set share_token_hash = null, shared_at = null where id = ?`, [id]);
    });
    return true;
  }

  private async templateOf(templateId: string, ctx?: Pick<Context, 'loader'>): Promise<TemplateNode> {
    const template = await this.deps.catalog.byId(templateId, ctx);
    if (!template) throw new Error(`a template version is missing: ${templateId}`);
    return template;
  }

  /** The owner's assessment, locked for this transaction; NOT_FOUND for anyone else's or a deleted one. */
  private async lockOwned(tx: Db, owner: Owner, id: string): Promise<AssessmentRecord> {
    if (!isUuid(id)) throw notFound('Assessment', 'id');
    const own = ownedBy(owner);
    const [row] = await tx.execute<Array<Record<string, unknown>>>(
      `select ${RECORD_COLUMNS} from assessments a where a.id = ? and ${own.sql} and a.deleted_at is null for update`,
      [id, own.param],
    );
    if (!row) throw notFound('Assessment', 'id');
    return toRecord(row);
  }

  /** Serializes an owner's starts and submissions, on every instance, until the transaction ends. */
  private async lockOwner(tx: Db, owner: Owner): Promise<void> {
    await tx.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [ownerLockKey(owner)]);
  }

  /** RATE_LIMITED, with the seconds to wait, when the owner's latest `column` is within `interval`. */
  private async pace(tx: Db, owner: Owner, column: string, interval: number, now: Date, message: string): Promise<void> {
    if (interval <= 0) return;
    const own = ownedBy(owner);
    const [row] = await tx.execute<Array<{ latest: string | Date | null }>>(
      `select max(${column}) as latest from assessments a where ${own.sql}`,
      [own.param],
    );
    assertPaced(row?.latest, interval, now, message);
  }
}

