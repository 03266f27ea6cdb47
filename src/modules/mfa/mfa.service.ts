import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import QRCode from 'qrcode';
import type { Clock } from '../../common/clock';
import { conflict, notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { publicLink } from '../../common/links';
import type { Config } from '../../config';
import type { Viewer } from '../../graphql/context';
import type { SessionService } from '../auth/session.service';
import { audit, type AdminAudit, type AuditOrigin } from '../audit/audit';
import { enqueueMail } from '../mail/mail.outbox';
import { User } from '../users/user.entity';
import { MfaChallenge } from './mfa-challenge.entity';
import { wrongCode, type MfaCodes, type SecondFactor } from './mfa-codes';
import type { RecoveryCodes, TotpEnrollment } from './mfa.type';
import { RecoveryCode } from './recovery-code.entity';
import { newTotpSecret, otpauthUrl } from './totp';
import { TotpCredential } from './totp-credential.entity';

export interface MfaServiceDeps {
  config: Pick<Config, 'publicUrl'>;
  clock: Clock;
  sessions: SessionService;
  codes: MfaCodes;
}

const alreadyOn = () => conflict('Two-factor sign-in is already on; disable it first.');
const notOn = () => conflict('Two-factor sign-in is not on.');
const noPendingEnrollment = () => conflict('No two-factor enrollment is pending: call beginTotpEnrollment first.', { reason: 'NO_PENDING_ENROLLMENT' });

/**
 * A signed-in account's two-factor settings: enrollment, recovery codes, turning it off, and
 * staff's way out for a person who lost both the device and the codes. Turning it on or off mails
 * the account and ends its other sessions.
 */
export class MfaService {
  constructor(private readonly deps: MfaServiceDeps) {}

  private resetUrl(): string {
    return publicLink(this.deps.config.publicUrl, 'forgot-password');
  }

  /** A new secret, pending until a code confirms it; beginning again replaces a pending one. */
  async beginEnrollment(em: EntityManager, viewer: Viewer): Promise<TotpEnrollment> {
    const { user } = viewer;
    if (user.totpEnabled) throw alreadyOn();
    const secret = newTotpSecret();
    // One statement: a confirmed credential is never replaced, whatever runs beside it.
    const replaced = await em.execute<Array<{ id: string }>>(
      `insert into totp_credentials (id, created_at, user_id, sealed_secret) values (?, ?, ?, ?)
       on conflict (user_id) do update set sealed_secret = excluded.sealed_secret, created_at = excluded.created_at, last_used_step = null
       where totp_credentials.confirmed_at is null
       returning id`,
      [randomUUID(), this.deps.clock.now(), user.id, this.deps.codes.sealFor(user.id, secret)],
    );
    if (replaced.length === 0) throw alreadyOn();
    const url = otpauthUrl(secret, user.email);
    return { secret, otpauthUrl: url, qrSvg: await QRCode.toString(url, { type: 'svg' }) };
  }

  /** Turns two-factor on with a code of the pending secret; returns the recovery codes. */
  async confirmEnrollment(em: EntityManager, viewer: Viewer, code: string, origin: AuditOrigin): Promise<RecoveryCodes> {
    const { user, sessionId } = viewer;
    const now = this.deps.clock.now();
    const codes = await em.transactional(async (tx) => {
      const credential = await tx.findOne(TotpCredential, { user: user.id });
      if (credential?.confirmedAt) throw alreadyOn();
      if (!credential) throw noPendingEnrollment();
      const step = this.deps.codes.pendingStep(user.id, credential, code, now);
      if (step === null) return null;
      // The very secret that was checked, still pending: a parallel confirm or a new beginning loses.
      const won = await tx.nativeUpdate(
        TotpCredential,
        { id: credential.id, confirmedAt: null, sealedSecret: credential.sealedSecret },
        { confirmedAt: now, lastUsedStep: step },
      );
      if (!won) throw noPendingEnrollment();
      await tx.nativeUpdate(User, { id: user.id }, { totpEnabledAt: now });
      const recoveryCodes = await this.deps.codes.replaceRecoveryCodes(tx, user.id);
      const revokedSessions = await this.deps.sessions.revokeOtherSessions(tx, user.id, sessionId, 'totp_enabled');
      audit(tx, origin, { action: 'mfa.enabled', targetType: 'user', targetId: user.id, changes: { revokedSessions } });
      enqueueMail(tx, { template: 'totp-enabled', to: user.email, name: user.name, enabledAt: now.toISOString(), resetUrl: this.resetUrl() });
      return recoveryCodes;
    });
    if (!codes) throw wrongCode();
    return { codes };
  }

  /** Turns two-factor off with a current TOTP code or a recovery code. */
  async disable(em: EntityManager, viewer: Viewer, code: string, origin: AuditOrigin): Promise<true> {
    const { user, sessionId } = viewer;
    const now = this.deps.clock.now();
    await this.withCode(em, viewer, code, origin, 'disableTotp', async (tx, factor) => {
      await eraseTwoFactor(tx, user.id);
      const revokedSessions = await this.deps.sessions.revokeOtherSessions(tx, user.id, sessionId, 'totp_disabled');
      audit(tx, origin, { action: 'mfa.disabled', targetType: 'user', targetId: user.id, changes: { factor, revokedSessions } });
      enqueueMail(tx, {
        template: 'totp-disabled',
        to: user.email,
        name: user.name,
        disabledAt: now.toISOString(),
        byStaff: false,
        resetUrl: this.resetUrl(),
      });
    });
    return true;
  }

  /** New recovery codes in place of the old (every old one stops working), with a current code. */
  async regenerateRecoveryCodes(em: EntityManager, viewer: Viewer, code: string, origin: AuditOrigin): Promise<RecoveryCodes> {
    const userId = viewer.user.id;
    const codes = await this.withCode(em, viewer, code, origin, 'regenerateRecoveryCodes', async (tx, factor) => {
      audit(tx, origin, { action: 'mfa.recovery_codes_regenerated', targetType: 'user', targetId: userId, changes: { factor } });
      return this.deps.codes.replaceRecoveryCodes(tx, userId);
    });
    return { codes };
  }

  /**
   * Staff turn two-factor off for an account that lost its device and codes; every session of it
   * ends and it is mailed. False when it was not on (nothing changes).
   */
  async adminDisable(em: EntityManager, userId: string, log: AdminAudit): Promise<boolean> {
    if (!isUuid(userId)) throw notFound('User', 'userId');
    const now = this.deps.clock.now();
    return em.transactional(async (tx) => {
      const user = await tx.findOne(User, { id: userId });
      if (!user) throw notFound('User', 'userId');
      if (!user.totpEnabled) return false;
      await eraseTwoFactor(tx, userId);
      const revokedSessions = await this.deps.sessions.revokeAllSessions(tx, userId, 'totp_disabled_by_staff');
      log.record(tx, { targetType: 'user', targetId: userId, changes: { totpEnabled: { before: true, after: false }, revokedSessions } });
      // A deleted account asked to be gone: no mail.
      if (!user.deletedAt) {
        enqueueMail(tx, {
          template: 'totp-disabled',
          to: user.email,
          name: user.name,
          disabledAt: now.toISOString(),
          byStaff: true,
          resetUrl: this.resetUrl(),
        });
      }
      return true;
    });
  }

  /**
   * Runs `change` in one transaction once `code` is spent. A wrong code is recorded (`mfa.failed`)
   * and committed all the same, then refused.
   */
  private async withCode<T>(
    em: EntityManager,
    viewer: Viewer,
    code: string,
    origin: AuditOrigin,
    operation: string,
    change: (tx: EntityManager, factor: SecondFactor) => Promise<T>,
  ): Promise<T> {
    const userId = viewer.user.id;
    if (!viewer.user.totpEnabled) throw notOn();
    const outcome = await em.transactional(async (tx) => {
      const factor = await this.deps.codes.consume(tx, userId, code, this.deps.clock.now());
      if (!factor) {
        audit(tx, origin, {
          action: 'mfa.failed',
          targetType: 'user',
          targetId: userId,
          changes: { operation },
        });
        return { passed: false as const };
      }
      return { passed: true as const, value: await change(tx, factor) };
    });
    if (!outcome.passed) throw wrongCode();
    return outcome.value;
  }
}

/** Everything two-factor keeps for an account goes (secret, recovery codes, open challenges), and it is off. */
export async function eraseTwoFactor(tx: EntityManager, userId: string): Promise<void> {
  await tx.nativeDelete(TotpCredential, { user: userId });
  await tx.nativeDelete(RecoveryCode, { user: userId });
  await tx.nativeDelete(MfaChallenge, { user: userId, usedAt: null });
  await tx.nativeUpdate(User, { id: userId }, { totpEnabledAt: null });
}
