import type { EntityManager } from '@mikro-orm/postgresql';
import { sha256 } from '../../common/crypto';
import { notFound } from '../../common/errors';
import { decodeCursor, pageOf, pageSize, type Page } from '../../graphql/connection';
import { ownerOf, type Owner } from '../../graphql/access';
import type { Principal } from '../../graphql/context';
import { ownedBy, RECORD_COLUMNS, toRecord, type AssessmentRecord, type OwnerRef } from './assessment.record';
import { isUuid } from '../../common/ids';

type Db = Pick<EntityManager, 'execute'>;

/** Reads of assessments: each through its owner, or for staff. */
export class AssessmentQueries {
  /** The assessment, for its owner or staff; NOT_FOUND for anyone else (and for a deleted one). */
  async forPrincipal(db: Db, principal: Principal | null, id: string): Promise<AssessmentRecord> {
    if (!principal || !isUuid(id)) throw notFound('Assessment', 'id');
    const staff = principal.scope === 'full' && principal.user.isSuperuser;
    const own = ownedBy(ownerOf(principal));
    const [row] = await db.execute<Array<Record<string, unknown>>>(
      `select ${RECORD_COLUMNS} from assessments a where a.id = ? and a.deleted_at is null and (${staff ? 'true' : own.sql})`,
      staff ? [id] : [id, own.param],
    );
    if (!row) throw notFound('Assessment', 'id');
    return toRecord(row);
  }

  /** One page of the owner's assessments, newest first, with the total. */
  async page(db: Db, owner: OwnerRef, first: number | null | undefined, after: string | null | undefined): Promise<Page<AssessmentRecord>> {
    const limit = pageSize(first);
    const own = ownedBy(owner);
    const position = after ? decodeCursor(after) : null;
    const [rows, [count]] = await Promise.all([
      db.execute<Array<Record<string, unknown>>>(
        `select ${RECORD_COLUMNS} from assessments a
          where ${own.sql} and a.deleted_at is null ${position ? 'and (a.created_at, a.id) < (?, ?)' : ''}
          order by a.created_at desc, a.id desc limit ?`,
        position ? [own.param, new Date(position.at), position.id, limit + 1] : [own.param, limit + 1],
      ),
      db.execute<Array<{ n: string | number }>>(`select count(*) as n from assessments a where ${own.sql} and a.deleted_at is null`, [
        own.param,
      ]),
    ]);
    return pageOf(rows.map(toRecord), limit, Number(count?.n ?? 0), position);
  }

  /** A shared, completed assessment by its share token; null when the token is unknown or revoked. */
  async shared(db: Db, token: string): Promise<AssessmentRecord | null> {
    if (token.length < 16 || token.length > 128) return null;
    const [row] = await db.execute<Array<Record<string, unknown>>>(
      `select ${RECORD_COLUMNS} from assessments a
        where a.share_token_hash = ? and a.status = 'COMPLETED' and a.deleted_at is null`,
      [sha256(token)],
    );
    return row ? toRecord(row) : null;
  }

  /** The owner's completed assessments, oldest first (the dashboard's history). */
  async completed(db: Db, owner: Owner): Promise<AssessmentRecord[]> {
    const own = ownedBy(owner);
    const rows = await db.execute<Array<Record<string, unknown>>>(
      `select ${RECORD_COLUMNS} from assessments a
        where ${own.sql} and a.deleted_at is null and a.status = 'COMPLETED' order by a.completed_at asc, a.id asc`,
      [own.param],
    );
    return rows.map(toRecord);
  }

  /**
   * The average percentage of completed assessments in an industry, over other owners (accounts
   * by their profile, leads not yet converted by their form), with how many owners contribute.
   */
  async industryAverage(db: Db, industry: string, excludeUserId: string): Promise<{ average: number; contributors: number }> {
    const [row] = await db.execute<Array<{ average: number | string | null; contributors: number | string }>>(
      `select avg(x.percentage_score) as average, count(distinct x.owner) as contributors from (
         select coalesce('user:' || a.user_id::text, 'lead:' || a.lead_id::text) as owner, a.percentage_score,
                case when a.user_id is not null then p.industry else l.industry end as industry
           from assessments a
           left join profiles p on p.user_id = a.user_id
           left join leads l on a.user_id is null and l.id = a.lead_id
          where a.status = 'COMPLETED' and a.deleted_at is null and (a.user_id is null or a.user_id <> ?)
       ) x where lower(x.industry) = lower(?)`,
      [excludeUserId, industry],
    );
    return { average: Number(row?.average ?? 0), contributors: Number(row?.contributors ?? 0) };
  }
}
