import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { invalidToken } from '../../common/errors';
import { openWith, randomToken, sealWith, sha256 } from '../../common/crypto';
import type { Clock } from '../../common/clock';
import type { Config } from '../../config';
import { User } from '../users/user.entity';
import { isLiveUser } from '../users/user.rules';
import type { PreparedSql, PreparedStatement } from '../../db/pg-pool';
import { userSnapshots, type UserRow } from '../users/user.snapshot';
import type { AccessTokenService } from './access-token.service';
import { RefreshToken } from './refresh-token.entity';
import { Session, type SessionScope } from './session.entity';
import { LeadSession } from '../leads/lead-session.entity';
import type { TemplateLocale } from '../assessments/template.types';
import { isUuid } from '../../common/ids';
import { LiveSessionUsers } from './live-session-users';
import { audit, eventInsertSql, eventValues, originFrom } from '../audit/audit';

const LEAD_SUBJECT = 'lead:';

export interface ClientMeta {
  ip: string;
  userAgent?: string;
}

/** The lead behind a live lead session. */
export interface LiveLead {
  id: string;
  email: string;
  locale: TemplateLocale;
}

/** A lead session's access token: it has no refresh token and lives as long as the session. */
export interface LeadTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
}

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: Readonly<User>;
}

const SEAL_PURPOSE = 'posture refresh successor v1';
/** A presented refresh token with its session and the session's user. */
interface PresentedRow extends UserRow {
  token_id: string;
  parent_id: string | null;
  token_expires_at: string | Date;
  rotated_at: string | Date | null;
  sealed_successor: string | null;
  session_id: string;
  scope: SessionScope;
  session_expires_at: string | Date;
  revoked_at: string | Date | null;
}

/** A session, its first refresh token and the login's audit event, in one statement (so in one transaction). */
const START_SESSION: PreparedStatement = {
  name: 'posture_start_session',
  text: `with session as (
           insert into sessions (id, created_at, user_id, scope, expires_at, last_used_at, user_agent, ip)
           values ($1, $5, $2, $3, $4, $5, $6, $7) returning id),
         logged_in as (${eventInsertSql(11)})
         insert into refresh_tokens (id, created_at, session_id, token_hash, expires_at)
         select $8, $5, session.id, $9, $10 from session`,
};

// Raw SQL bypasses the ORM's type mapping, and MikroORM has pg return timestamps as strings.
const ms = (v: string | Date) => new Date(v).getTime();

/** Sessions as refresh-token families: issue, rotate, detect reuse, revoke. */
export class SessionService {
  constructor(
    private readonly accessTokens: AccessTokenService,
    private readonly config: Config['sessions'] & { leadTtl: number },
    private readonly clock: Clock,
  ) {}

  /**
   * Starts a lead session in `em`'s unit of work: a session row, and an access token whose `sub`
   * is `lead:<id>` (never a user id) and `scope` is `lead`, so a partner cannot take it for an account's.
   */
  startLead(em: EntityManager, leadId: string, meta: ClientMeta): LeadTokens {
    const now = this.clock.now().getTime();
    const session = em.create(LeadSession, {
      lead: leadId,
      expiresAt: new Date(now + this.config.leadTtl * 1000),
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
      ip: meta.ip.slice(0, 64),
    });
    const access = this.accessTokens.sign({ userId: LEAD_SUBJECT + leadId, sessionId: session.id, scope: 'lead' }, this.config.leadTtl);
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt };
  }

  private liveLead: PreparedStatement = {
    name: 'posture_live_lead_session',
    text: `select l.id, l.email, l.locale
             from lead_sessions s join leads l on l.id = s.lead_id
            where s.id = $1 and s.lead_id = $2 and s.revoked_at is null and s.expires_at > $3 and l.converted_at is null`,
  };

  /** The lead of a live lead session, from an access token's `sid` and `sub` (`lead:<id>`). */
  async findLiveLead(db: PreparedSql, sessionId: string, subject: string): Promise<LiveLead | null> {
    const leadId = subject.startsWith(LEAD_SUBJECT) ? subject.slice(LEAD_SUBJECT.length) : '';
    if (!isUuid(sessionId) || !isUuid(leadId)) return null;
    const rows = await db.query<LiveLead>(this.liveLead, [sessionId, leadId, this.clock.now()]);
    return rows[0] ?? null;
  }

  /** Revokes the live sessions of these leads; returns how many. */
  revokeLeadSessions(em: EntityManager, leadIds: readonly string[], reason: string): Promise<number> {
    if (leadIds.length === 0) return Promise.resolve(0);
    return em.nativeUpdate(LeadSession, { lead: { $in: [...leadIds] }, revokedAt: null }, { revokedAt: this.clock.now(), revokedReason: reason });
  }

  private readonly liveSessionUsers = new WeakMap<PreparedSql, LiveSessionUsers>();

  /**
   * Starts a session (a new family) at once and records the login (`user.logged_in`): the session,
   * its first refresh token and the event in one statement, outside any unit of work (logIn's
   * path). Inside a transaction, use `startIn`.
   */
  async start(db: PreparedSql, user: Readonly<User>, meta: ClientMeta, scope: SessionScope = 'full'): Promise<IssuedTokens> {
    const family = this.newFamily(meta);
    const sessionId = randomUUID();
    await db.query(START_SESSION, [
      sessionId,
      user.id,
      scope,
      family.expiresAt,
      family.now,
      family.userAgent,
      family.ip,
      randomUUID(),
      sha256(family.refreshToken),
      family.refreshExpiresAt,
      ...eventValues(originFrom(meta, user.id), { action: 'user.logged_in', targetType: 'user', targetId: user.id, changes: { sessionId } }),
    ]);
    return this.withAccessToken(user, sessionId, scope, family.refreshToken, family.refreshExpiresAt);
  }

  /** Starts a session (a new family) in `em`'s unit of work; the caller flushes or commits. */
  async startIn(em: EntityManager, user: User, meta: ClientMeta, scope: SessionScope = 'full'): Promise<IssuedTokens> {
    const family = this.newFamily(meta);
    const session = em.create(Session, {
      user,
      scope,
      expiresAt: family.expiresAt,
      userAgent: family.userAgent,
      ip: family.ip,
      lastUsedAt: family.now,
    });
    em.create(RefreshToken, { session, tokenHash: sha256(family.refreshToken), expiresAt: family.refreshExpiresAt });
    return this.withAccessToken(user, session.id, scope, family.refreshToken, family.refreshExpiresAt);
  }

  /** What a new session and its first refresh token hold, however they are stored. */
  private newFamily(meta: ClientMeta) {
    const now = this.clock.now().getTime();
    const expiresAt = new Date(now + this.config.absoluteTtl * 1000);
    return {
      now: new Date(now),
      expiresAt,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
      ip: meta.ip.slice(0, 64),
      refreshToken: randomToken(32),
      refreshExpiresAt: this.rollingExpiry(now, expiresAt),
    };
  }

  /**
   * Rotates a refresh token. The current token yields a successor once; a retry of the immediate
   * parent within the grace window yields that same successor; any other replay revokes the family
   * (`session.reuse_detected`, the account whose token it was as actor).
   */
  async refresh(em: EntityManager, presented: string, meta: ClientMeta): Promise<IssuedTokens> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.findPresented(em, presented);
      const now = this.clock.now().getTime();
      if (!row || row.revoked_at || ms(row.session_expires_at) <= now || !isLiveUser(row)) {
        throw invalidToken();
      }
      const user = userSnapshots(em.getMetadata()).read(row);

      if (!row.rotated_at) {
        if (ms(row.token_expires_at) <= now) throw invalidToken();
        const rotated = await this.rotate(em, row, presented);
        if (rotated) return this.withAccessToken(user, row.session_id, row.scope, rotated.token, rotated.expiresAt);
        continue; // lost a race with a parallel refresh of the same token: now it is a grace retry
      }

      const withinGrace = now <= ms(row.rotated_at) + this.config.graceSeconds * 1000;
      const successor = row.sealed_successor && withinGrace ? openWith(presented, SEAL_PURPOSE, row.sealed_successor) : null;
      if (successor) {
        const current = await this.findPresented(em, successor);
        if (current && !current.rotated_at && ms(current.token_expires_at) > now) {
          return this.withAccessToken(user, row.session_id, row.scope, successor, new Date(current.token_expires_at));
        }
      }
      await em.transactional(async (tx) => {
        if (!(await this.revokeSession(tx, row.session_id, 'refresh_token_reuse'))) return;
        audit(tx, originFrom(meta, row.id), { action: 'session.reuse_detected', targetType: 'session', targetId: row.session_id });
      });
      throw invalidToken();
    }
    throw invalidToken();
  }

  /** Revokes one session; true if it was live. */
  async revokeSession(em: EntityManager, sessionId: string, reason: string): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const n = await em.nativeUpdate(Session, { id: sessionId, revokedAt: null }, { revokedAt: this.clock.now(), revokedReason: reason });
    return n > 0;
  }

  /** Revokes every live session of a user; returns how many. */
  revokeAllSessions(em: EntityManager, userId: string, reason: string): Promise<number> {
    return em.nativeUpdate(Session, { user: userId, revokedAt: null }, { revokedAt: this.clock.now(), revokedReason: reason });
  }

  /** Revokes every live session of a user but `keepSessionId` (the caller's own); returns how many. */
  revokeOtherSessions(em: EntityManager, userId: string, keepSessionId: string, reason: string): Promise<number> {
    return em.nativeUpdate(
      Session,
      { user: userId, revokedAt: null, id: { $ne: keepSessionId } },
      { revokedAt: this.clock.now(), revokedReason: reason },
    );
  }

  /**
   * Ends the session of `refreshToken` (whatever its state) and the caller's own, when signed in:
   * usually the same one. Each that was live is recorded (`session.logged_out`, its account as actor).
   */
  async logOut(em: EntityManager, refreshToken: string | null | undefined, caller: { userId: string; sessionId: string } | null, meta: ClientMeta): Promise<void> {
    const presented = refreshToken ? await this.findPresented(em, refreshToken) : null;
    const owners = new Map<string, string>(); // session id → its account
    if (presented) owners.set(presented.session_id, presented.id);
    if (caller) owners.set(caller.sessionId, caller.userId);
    await em.transactional(async (tx) => {
      for (const [sessionId, userId] of owners) {
        if (await this.revokeSession(tx, sessionId, 'log_out')) {
          audit(tx, originFrom(meta, userId), { action: 'session.logged_out', targetType: 'session', targetId: sessionId });
        }
      }
    });
  }

  /** Ends every session of the account, and records it (`session.revoked`, with the count); returns how many were live. */
  logOutEverywhere(em: EntityManager, userId: string, meta: ClientMeta): Promise<number> {
    return em.transactional(async (tx) => {
      const count = await this.revokeAllSessions(tx, userId, 'log_out_everywhere');
      audit(tx, originFrom(meta, userId), { action: 'session.revoked', targetType: 'user', targetId: userId, changes: { count } });
      return count;
    });
  }

  /**
   * The user of a live session, for authenticating an access token's `sid`: run on nearly every
   * request, so checks arriving together share one statement (see LiveSessionUsers).
   */
  async findLiveSessionUser(db: PreparedSql, sessionId: string, userId: string): Promise<Readonly<User> | null> {
    // Checked here, so that no malformed id reaches (and fails) a statement shared with other requests.
    if (!isUuid(sessionId) || !isUuid(userId)) return null;
    let checks = this.liveSessionUsers.get(db);
    if (!checks) this.liveSessionUsers.set(db, (checks = new LiveSessionUsers(db, this.clock)));
    return checks.load({ sessionId, userId });
  }

  private rollingExpiry(now: number, absolute: Date): Date {
    return new Date(Math.min(now + this.config.refreshTtl * 1000, absolute.getTime()));
  }

  private async findPresented(em: EntityManager, token: string): Promise<PresentedRow | null> {
    if (token.length === 0 || token.length > 256) return null;
    const rows = await em.getConnection().execute<PresentedRow[]>(
      `select rt.id as token_id, rt.parent_id, rt.expires_at as token_expires_at, rt.rotated_at, rt.sealed_successor,
              s.id as session_id, s.scope, s.expires_at as session_expires_at, s.revoked_at, ${userSnapshots(em.getMetadata()).select('u')}
         from refresh_tokens rt join sessions s on s.id = rt.session_id join users u on u.id = s.user_id
        where rt.token_hash = ?`,
      [sha256(token)],
    );
    return rows[0] ?? null;
  }

  private async rotate(
    em: EntityManager,
    row: PresentedRow,
    presented: string,
  ): Promise<{ token: string; expiresAt: Date } | null> {
    const token = randomToken(32);
    const now = this.clock.now().getTime();
    const expiresAt = this.rollingExpiry(now, new Date(row.session_expires_at));
    return em.transactional(async (tx) => {
      const claimed = await tx.nativeUpdate(
        RefreshToken,
        { id: row.token_id, rotatedAt: null },
        { rotatedAt: new Date(now), sealedSuccessor: sealWith(presented, SEAL_PURPOSE, token) },
      );
      if (claimed === 0) return null;
      tx.create(RefreshToken, {
        session: tx.getReference(Session, row.session_id),
        tokenHash: sha256(token),
        parentId: row.token_id,
        expiresAt,
      });
      // The parent's grace ends once its successor is itself rotated.
      if (row.parent_id) await tx.nativeUpdate(RefreshToken, { id: row.parent_id }, { sealedSuccessor: null });
      await tx.nativeUpdate(Session, { id: row.session_id }, { lastUsedAt: new Date(now) });
      return { token, expiresAt };
    });
  }

  private withAccessToken(
    user: Readonly<User>,
    sessionId: string,
    scope: SessionScope,
    refreshToken: string,
    refreshTokenExpiresAt: Date,
  ): IssuedTokens {
    const access = this.accessTokens.sign({ userId: user.id, sessionId, scope });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt, user };
  }
}
