import { createHmac } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomCode, randomToken, safeEqual, sha256 } from '../../common/crypto';
import type { Clock } from '../../common/clock';
import type { Config } from '../../config';
import type { User } from '../users/user.entity';
import { OneTimeToken, type OneTimeTokenPurpose } from './one-time-token.entity';

export interface RedeemedToken {
  id: string;
  userId: string;
  email: string;
}

export type CodeCheck = { ok: true; token: RedeemedToken } | { ok: false };

/** Emailed link tokens and reset codes: random, hashed at rest, bound to purpose and account, single-use. */
export class OneTimeTokenService {
  /**
   * `codeSecret` keys the reset codes' HMAC. There are only 10⁶ codes, so a plain hash in a leaked
   * table would give each one away at once; without the secret, the table tells nothing.
   */
  constructor(
    private readonly config: Config['tokens'],
    private readonly codeSecret: Buffer,
    private readonly clock: Clock,
  ) {}

  private hashCode(tokenId: string, code: string): string {
    return createHmac('sha256', this.codeSecret).update(`${tokenId}:${code}`).digest('hex');
  }

  /**
   * Queues a new token in `em`; a new reset token retires the account's earlier ones. It proves
   * `email` (by default the account's own address): a change_email token names the new one.
   */
  async issue(
    em: EntityManager,
    user: User,
    purpose: OneTimeTokenPurpose,
    email: string = user.email,
  ): Promise<{ token: string; code?: string; expiresAt: Date }> {
    const now = this.clock.now().getTime();
    const token = randomToken(32);
    const row = em.create(OneTimeToken, {
      user,
      purpose,
      email,
      tokenHash: sha256(token),
      expiresAt: new Date(now + this.ttlOf(purpose) * 1000),
    });
    if (purpose !== 'reset_password') return { token, expiresAt: row.expiresAt };

    await this.retire(em, user.id, 'reset_password');
    const code = randomCode();
    row.codeHash = this.hashCode(row.id, code);
    row.codeExpiresAt = new Date(now + this.config.passwordResetCodeTtl * 1000);
    return { token, code, expiresAt: row.expiresAt };
  }

  private ttlOf(purpose: OneTimeTokenPurpose): number {
    const { config } = this;
    switch (purpose) {
      case 'verify_email':
        return config.emailVerificationTtl;
      case 'reset_password':
        return config.passwordResetTtl;
      case 'change_email':
        return config.emailChangeTtl;
      case 'invitation':
        return config.invitationTtl;
    }
  }

  /** Marks every unused token of the account as used: of these purposes, or of all when none are named. */
  async retire(em: EntityManager, userId: string, purposes?: OneTimeTokenPurpose | readonly OneTimeTokenPurpose[]): Promise<void> {
    const only = purposes === undefined ? {} : { purpose: { $in: ([] as OneTimeTokenPurpose[]).concat(purposes) } };
    await em.nativeUpdate(OneTimeToken, { user: userId, usedAt: null, ...only }, { usedAt: this.clock.now() });
  }

  /**
   * Uses a link token. The conditional UPDATE makes it single-use however many requests race:
   * the row lock lets one through and the rest find used_at set. Call inside the transaction that
   * acts on it, so a failure afterwards leaves the token unused.
   */
  async redeem(em: EntityManager, token: string, purposes: OneTimeTokenPurpose | readonly OneTimeTokenPurpose[]): Promise<RedeemedToken | null> {
    const now = this.clock.now();
    const rows = await em.execute<Array<{ id: string; user_id: string; email: string }>>(
      `update one_time_tokens set used_at = ?
        where token_hash = ? and purpose in (?) and used_at is null and expires_at > ?
        returning id, user_id, email`,
      [now, sha256(token), ([] as OneTimeTokenPurpose[]).concat(purposes), now],
    );
    return rows[0] ? { id: rows[0].id, userId: rows[0].user_id, email: rows[0].email } : null;
  }

  /**
   * Checks a reset code against the account's newest live code. The row is locked, so tries are
   * counted exactly; a wrong try is recorded even though the caller then fails (commit before throwing).
   */
  async redeemResetCode(em: EntityManager, userId: string, code: string): Promise<CodeCheck> {
    const now = this.clock.now();
    const rows = await em.execute<Array<{ id: string; email: string; code_hash: string }>>(
      `select id, email, code_hash from one_time_tokens
        where user_id = ? and purpose = 'reset_password' and used_at is null
          and code_hash is not null and code_expires_at > ? and attempts < ?
        order by created_at desc limit 1 for update`,
      [userId, now, this.config.maxCodeAttempts],
    );
    const row = rows[0];
    if (!row) return { ok: false };
    if (!/^\d{6}$/.test(code) || !safeEqual(row.code_hash, this.hashCode(row.id, code))) {
      await em.execute(`update one_time_tokens set attempts = attempts + 1 where id = ?`, [row.id]);
      return { ok: false };
    }
    await em.execute(`update one_time_tokens set used_at = ? where id = ?`, [now, row.id]);
    return { ok: true, token: { id: row.id, userId, email: row.email } };
  }
}
