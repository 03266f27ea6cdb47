import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomInt } from 'node:crypto';
import type { Clock } from '../../common/clock';
import type { OneTimeTokenService } from '../auth/one-time-token.service';
import type { ClientMeta, SessionService } from '../auth/session.service';
import { Assessment } from '../assessments/assessment.entity';
import type { TemplateLocale } from '../assessments/template.types';
import { audit, originFrom } from '../audit/audit';
import { isUsernameHeld } from '../users/account-lifecycle';
import type { AddressProofs } from '../users/address-proof';
import { Profile } from '../users/profile.entity';
import { User } from '../users/user.entity';
import { Lead } from './lead.entity';
import { nameFromEmail, usernameBase } from './lead.rules';

/**
 * What happens once someone proves they own an address (a login link, or an OpenID provider that
 * asserts a verified email): the account it makes or claims, and the leads of that address that
 * join it. One place, so every way of proving an address treats accounts and leads alike.
 */
export class LeadConversion {
  constructor(
    private readonly deps: { clock: Clock; sessions: SessionService; oneTimeTokens: OneTimeTokenService; addressProofs: AddressProofs },
  ) {}

  /** The unconverted leads of `email`, newest first, locked until the transaction ends. */
  leadsOf(tx: EntityManager, email: string): Promise<Lead[]> {
    return tx.find(Lead, { email, convertedAt: null }, { orderBy: { createdAt: 'desc' }, lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  /**
   * A new account for `email`: no password, a unique username derived from the address, and a
   * profile filled from the leads' form. Verified when `verified` (the caller proved the address).
   */
  async createAccount(tx: EntityManager, email: string, leads: Lead[], opts: { verified: boolean; name?: string | null }): Promise<User> {
    const now = this.deps.clock.now();
    const form = (key: keyof Lead) => leads.find((l) => l[key] !== null && l[key] !== undefined)?.[key] ?? null;
    const fullName = form('fullName') as string | null;
    const user = tx.create(User, {
      email,
      username: await this.freeUsername(tx, email, now),
      name: fullName ?? opts.name ?? nameFromEmail(email),
      passwordHash: null,
      emailVerifiedAt: opts.verified ? now : null,
    });
    tx.create(Profile, {
      user,
      fullName,
      companyName: form('companyName') as string | null,
      jobTitle: form('jobTitle') as string | null,
      phone: form('phone') as string | null,
      companySize: form('companySize') as Profile['companySize'],
      industry: form('industry') as string | null,
      locale: (leads[0]?.locale ?? 'en') as TemplateLocale,
    });
    return user;
  }

  /**
   * An unverified account whose address someone else just proved: whoever made it never did. Its
   * password (load it with `populate: ['passwordHash']`), sessions, outstanding tokens and other
   * ways in (AddressProofs) go, and it is verified (no pre-hijacking).
   */
  async claimUnverified(tx: EntityManager, user: User, reason: string): Promise<void> {
    user.passwordHash = null;
    await this.deps.sessions.revokeAllSessions(tx, user.id, reason);
    await this.deps.oneTimeTokens.retire(tx, user.id, ['verify_email', 'reset_password']);
    await this.deps.addressProofs.firstProof(tx, user);
    user.emailVerifiedAt = this.deps.clock.now();
  }

  /**
   * Moves the leads' assessments to `user`, marks the leads converted (`lead.converted`, one event
   * each) and ends their sessions. Flushes first, so the account exists before rows point at it.
   */
  async attach(tx: EntityManager, user: User, leads: Lead[], meta: ClientMeta, newAccount: boolean): Promise<void> {
    await tx.flush();
    const leadIds = leads.map((l) => l.id);
    if (!leadIds.length) return;
    const now = this.deps.clock.now();
    await tx.nativeUpdate(Assessment, { lead: { $in: leadIds }, user: null }, { user: user.id });
    const origin = originFrom(meta, user.id);
    for (const lead of leads) {
      lead.convertedUser = tx.getReference(User, user.id, { wrapped: true });
      lead.convertedAt = now;
      audit(tx, origin, { action: 'lead.converted', targetType: 'lead', targetId: lead.id, changes: { newAccount } });
    }
    await this.deps.sessions.revokeLeadSessions(tx, leadIds, 'converted');
  }

  private async freeUsername(tx: EntityManager, email: string, now: Date): Promise<string> {
    const base = usernameBase(email);
    for (let i = 0; i < 20; i++) {
      const candidate = i === 0 ? base : `${base.slice(0, 15)}_${randomInt(0, 10 ** Math.min(4, 1 + Math.floor(i / 3))).toString()}`;
      if (!(await isUsernameHeld(tx, candidate, now))) return candidate;
    }
    return `user_${randomInt(0, 1e6)}`.slice(0, 20);
  }
}
