import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { randomToken, sha256 } from '../../common/crypto';
import { publicLink } from '../../common/links';
import { DomainError, ErrorCode, invalidToken } from '../../common/errors';
import type { PreparedSql, PreparedStatement } from '../../db/pg-pool';
import type { Context } from '../../graphql/context';
import type { SecondStepProvider, SignInMethod } from '../auth/second-step';
import type { ClientMeta, IssuedTokens, SessionService } from '../auth/session.service';
import { audit, originFrom } from '../audit/audit';
import type { User } from '../users/user.entity';
import { isLiveUser } from '../users/user.rules';
import { enqueueMail } from '../mail/mail.outbox';
import { TotpCredential } from './totp-credential.entity';
import { userSnapshots, type UserRow } from '../users/user.snapshot';
import { wrongCode, type MfaCodes, type SecondFactor } from './mfa-codes';

/** How long a challenge lasts, and how many wrong codes kill it. */
export const CHALLENGE_TTL_SECONDS = 5 * 60;
export const CHALLENGE_MAX_WRONG = 5;
/** At most one mail an hour about challenges that died of wrong codes. */
const NOTICE_INTERVAL_SECONDS = 3600;

const CHALLENGE_MIN = 16;
const CHALLENGE_MAX = 256;

const INSERT_CHALLENGE: PreparedStatement = {
  name: 'posture_mfa_challenge_insert',
  text: `insert into mfa_challenges (id, created_at, user_id, token_hash, via, expires_at, failed_attempts)
         values ($1, $2, $3, $4, $5, $6, 0)`,
};

interface ChallengeRow extends UserRow {
  challenge_id: string;
  via: SignInMethod;
  failed_attempts: number;
}

type Attempt = { outcome: 'dead' } | { outcome: 'wrong' } | { outcome: 'passed'; user: Readonly<User>; factor: SecondFactor };

/**
 * The second step of every way in. The gate (SignInGate) asks `required` of the account a way in
 * has found, and `challenge` for the MFA_REQUIRED error to throw in place of tokens; the client
 * answers with completeMfaLogIn, which starts the session as logIn would.
 */
export class MfaLogIn implements SecondStepProvider {
  constructor(private readonly deps: { sql: PreparedSql; clock: Clock; sessions: SessionService; codes: MfaCodes; publicUrl: string }) {}

  required(user: Readonly<User>): boolean {
    return user.totpEnabled;
  }

  /** A new challenge, committed at once on its own (one statement), as the error to throw. */
  async challenge(user: Readonly<User>, _meta: ClientMeta, via: SignInMethod): Promise<DomainError> {
    const token = randomToken(32);
    const now = this.deps.clock.now().getTime();
    await this.deps.sql.query(INSERT_CHALLENGE, [randomUUID(), new Date(now), user.id, sha256(token), via, new Date(now + CHALLENGE_TTL_SECONDS * 1000)]);
    return new DomainError(
      ErrorCode.MFA_REQUIRED,
      'This account has two-factor sign-in: send extensions.challenge with a code from the authenticator app, or a recovery code, to completeMfaLogIn.',
      { challenge: token },
    );
  }

  /**
   * Passes a challenge with a TOTP or recovery code and starts the session. The challenge row is
   * locked while the code is checked, so its wrong codes are counted one at a time (the count is
   * committed though the request fails) and it is spent once. INVALID_TOKEN for a challenge that is
   * unknown, used, expired or dead, or whose account is no longer live or no longer has two-factor.
   */
  async complete(em: EntityManager, challenge: string, code: string, meta: ClientMeta): Promise<IssuedTokens> {
    if (challenge.length < CHALLENGE_MIN || challenge.length > CHALLENGE_MAX) throw invalidToken();
    const now = this.deps.clock.now();
    const snapshots = userSnapshots(em.getMetadata());
    const attempt = await em.fork().transactional(async (tx): Promise<Attempt> => {
      const [row] = await tx.execute<ChallengeRow[]>(
        `select c.id as challenge_id, c.via, c.failed_attempts, ${snapshots.select('u')}
           from mfa_challenges c join users u on u.id = c.user_id
          where c.token_hash = ? and c.used_at is null and c.expires_at > ? and c.failed_attempts < ?
          for update of c`,
        [sha256(challenge), now, CHALLENGE_MAX_WRONG],
      );
      if (!row) return { outcome: 'dead' };
      const user = snapshots.read(row);
      if (!isLiveUser(user) || !this.required(user)) return { outcome: 'dead' };
      const factor = await this.deps.codes.consume(tx, user.id, code, now);
      if (!factor) {
        const attempts = Number(row.failed_attempts) + 1;
        await tx.execute(`update mfa_challenges set failed_attempts = ? where id = ?`, [attempts, row.challenge_id]);
        audit(tx, originFrom(meta, null), {
          action: 'mfa.failed',
          targetType: 'user',
          targetId: user.id,
          changes: { via: row.via, attempts, challengeDead: attempts >= CHALLENGE_MAX_WRONG },
        });
        if (attempts >= CHALLENGE_MAX_WRONG) await this.noticeDeadChallenge(tx, user, row.via, now);
        return { outcome: 'wrong' };
      }
      await tx.execute(`update mfa_challenges set used_at = ? where id = ?`, [now, row.challenge_id]);
      return { outcome: 'passed', user, factor };
    });
    if (attempt.outcome === 'dead') throw invalidToken();
    if (attempt.outcome === 'wrong') throw wrongCode();
    return this.deps.sessions.start(this.deps.sql, attempt.user, meta);
  }

  /**
   * A challenge died of wrong codes: whoever has the first step (the password, say) is guessing
   * codes, 5 a minute at most. The owner is told, so they can change the password, at most once an
   * hour: the claim of the hour's notice is one conditional update, so parallel deaths send one.
   */
  private async noticeDeadChallenge(tx: EntityManager, user: Readonly<User>, via: SignInMethod, now: Date): Promise<void> {
    const claimed = await tx.nativeUpdate(
      TotpCredential,
      { user: user.id, $or: [{ failureNoticeAt: null }, { failureNoticeAt: { $lte: new Date(now.getTime() - NOTICE_INTERVAL_SECONDS * 1000) } }] },
      { failureNoticeAt: now },
    );
    if (!claimed) return;
    enqueueMail(tx, {
      template: 'second-step-failed',
      to: user.email,
      name: user.name,
      at: now.toISOString(),
      via,
      resetUrl: publicLink(this.deps.publicUrl, 'forgot-password'),
    });
  }
}

/**
 * The account a challenge belongs to, whatever its state, for completeMfaLogIn's per-account
 * limit (see OperationPolicy.accountOf); null for an unknown one.
 */
export async function challengeAccount(challenge: string, ctx: Context): Promise<string | null> {
  if (challenge.length < CHALLENGE_MIN || challenge.length > CHALLENGE_MAX) return null;
  const [row] = await ctx.em.execute<Array<{ user_id: string }>>(`select user_id from mfa_challenges where token_hash = ?`, [sha256(challenge)]);
  return row?.user_id ?? null;
}
