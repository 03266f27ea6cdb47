import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError, ErrorCode } from '../../common/errors';
import { RecoveryCode } from './recovery-code.entity';
import { TotpCredential } from './totp-credential.entity';
import type { TotpKey } from './totp-key';
import { cleanCode, looksLikeTotpCode, matchingStep, newRecoveryCodes, normalizeRecoveryCode } from './totp';

/** Which second factor a code was. */
export type SecondFactor = 'totp' | 'recovery_code';

/** Longer than any code with spaces: refused before any work. */
const CODE_MAX = 64;

/** A wrong, reused or malformed code: the one answer for all of them. */
export const wrongCode = () => new DomainError(ErrorCode.INVALID_CREDENTIALS, 'The code is wrong, or was already used.');

/**
 * Checks and spends second-factor codes. Each use is a conditional UPDATE, so of any number of
 * parallel uses of one code exactly one wins: a TOTP code moves the account's last used step
 * forward (a step is never accepted twice), a recovery code gets its `used_at`. No code reaches
 * argon2: a TOTP code is an HMAC over the step, a recovery code a keyed hash.
 */
export class MfaCodes {
  constructor(private readonly key: TotpKey) {}

  /** Spends `raw` (a TOTP code or a recovery code) of `userId` in `tx`; null when it is wrong or already used. */
  async consume(tx: EntityManager, userId: string, raw: string, now: Date): Promise<SecondFactor | null> {
    if (raw.length > CODE_MAX) return null;
    const code = cleanCode(raw);
    if (looksLikeTotpCode(code)) {
      const credential = await tx.findOne(TotpCredential, { user: userId, confirmedAt: { $ne: null } });
      if (!credential) return null;
      const step = matchingStep(this.secretOf(userId, credential), code, now, credential.lastUsedStep);
      if (step === null) return null;
      const won = await tx.nativeUpdate(
        TotpCredential,
        { id: credential.id, confirmedAt: { $ne: null }, $or: [{ lastUsedStep: null }, { lastUsedStep: { $lt: step } }] },
        { lastUsedStep: step },
      );
      return won ? 'totp' : null;
    }
    const recovery = normalizeRecoveryCode(code);
    if (!recovery) return null;
    const won = await tx.nativeUpdate(
      RecoveryCode,
      { user: userId, codeHash: this.key.recoveryCodeHash(userId, recovery), usedAt: null },
      { usedAt: now },
    );
    return won ? 'recovery_code' : null;
  }

  /** The step a code of a pending enrollment is for (later than any used), or null. */
  pendingStep(userId: string, credential: TotpCredential, raw: string, now: Date): number | null {
    if (raw.length > CODE_MAX) return null;
    return matchingStep(this.secretOf(userId, credential), cleanCode(raw), now, credential.lastUsedStep);
  }

  /** The secret of a credential, opened with the TOTP key. */
  secretOf(userId: string, credential: TotpCredential): string {
    const secret = this.key.open(userId, credential.sealedSecret);
    // Only a changed TOTP_ENCRYPTION_KEY does this: every account's codes then fail, so say so loudly.
    if (secret === null) throw new Error('a TOTP secret does not open with the TOTP key: was TOTP_ENCRYPTION_KEY changed?');
    return secret;
  }

  sealFor(userId: string, secret: string): string {
    return this.key.seal(userId, secret);
  }

  /** Replaces the account's recovery codes with new ones in `tx`; returns them, the only time they exist in plain text. */
  async replaceRecoveryCodes(tx: EntityManager, userId: string): Promise<string[]> {
    await tx.nativeDelete(RecoveryCode, { user: userId });
    const codes = newRecoveryCodes();
    for (const code of codes) {
      tx.create(RecoveryCode, { user: userId, codeHash: this.key.recoveryCodeHash(userId, normalizeRecoveryCode(code)!) });
    }
    return codes;
  }
}
