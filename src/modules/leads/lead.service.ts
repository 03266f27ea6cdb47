import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { publicLink } from '../../common/links';
import { randomToken, sha256 } from '../../common/crypto';
import { invalidToken } from '../../common/errors';
import type { Config } from '../../config';
import type { TemplateLocale } from '../assessments/template.types';
import type { OneTimeTokenService } from '../auth/one-time-token.service';
import type { SignInGate } from '../auth/second-step';
import type { ClientMeta, IssuedTokens, LeadTokens, SessionService } from '../auth/session.service';
import type { MailMessage } from '../mail/mail.messages';
import { enqueueMail, requestDeferredMail, type DeferredMailHandler } from '../mail/mail.outbox';
import { audit, originFrom } from '../audit/audit';
import { Profile } from '../users/profile.entity';
import { User } from '../users/user.entity';
import { assertEmail, EXISTING_USER, isLiveUser } from '../users/user.rules';
import { Lead } from './lead.entity';
import type { CaptureLeadInput } from './lead.input';
import { organisationFields } from '../users/organisation';
import { localeOf, optionalText } from './lead.rules';
import type { LeadConversion } from './lead-conversion';
import { LoginLink } from './login-link.entity';

const LOGIN_LINK_REQUEST = 'leads.login-link';

export interface LeadServiceDeps {
  config: Pick<Config, 'publicUrl' | 'leads'>;
  clock: Clock;
  sessions: SessionService;
  oneTimeTokens: OneTimeTokenService;
  conversion: LeadConversion;
  signInGate: SignInGate;
}

export interface CaptureResult {
  leadId: string;
  canTakeAssessment: boolean;
  session: LeadTokens;
}

/**
 * Lead capture and login links. A capture never looks at accounts: it stores the form, starts a
 * lead session and mails a login link, the same work for every address, so its answer and its
 * timing say nothing about who has an account. Following a link proves the address; only then
 * does an account come into it.
 */
export class LeadService {
  constructor(private readonly deps: LeadServiceDeps) {}

  readonly deferredMail: Record<string, DeferredMailHandler> = {
    [LOGIN_LINK_REQUEST]: (tx, email) => this.requestedLinkMail(tx, email),
  };

  async capture(em: EntityManager, input: CaptureLeadInput, meta: ClientMeta): Promise<CaptureResult> {
    const now = this.deps.clock.now();
    const fields = {
      email: assertEmail(input.email),
      ...organisationFields(input),
      source: optionalText(input.source, 'source', 64),
      locale: localeOf(input.locale),
      marketingConsent: input.marketingConsent === true,
      marketingConsentAt: input.marketingConsent === true ? now : null,
      ip: meta.ip.slice(0, 64),
    };
    return em.transactional(async (tx) => {
      const lead = tx.create(Lead, { ...fields, createdAt: now });
      const session = this.deps.sessions.startLead(tx, lead.id, meta);
      // Anonymous, and without the address: the event says a capture happened, not whose.
      audit(tx, originFrom(meta, null), { action: 'lead.captured', targetType: 'lead', targetId: lead.id });
      enqueueMail(tx, this.leadLinkMail(tx, lead.email, lead.id, lead.locale));
      return { leadId: lead.id, canTakeAssessment: true, session };
    });
  }

  /** Always true: a login link goes, after the response, to an account or an unconverted lead with the address. */
  async requestLoginLink(em: EntityManager, rawEmail: string): Promise<true> {
    await requestDeferredMail(em, LOGIN_LINK_REQUEST, rawEmail);
    return true;
  }

  private async requestedLinkMail(tx: EntityManager, email: string): Promise<MailMessage | null> {
    const user = await tx.findOne(User, { email, ...EXISTING_USER });
    if (user) {
      if (!isLiveUser(user)) return null;
      const profile = await tx.findOne(Profile, { user: user.id });
      return {
        template: 'login-link',
        to: email,
        locale: profile?.locale ?? 'en',
        name: user.name,
        loginUrl: this.issueLink(tx, email, null),
        expiresInMinutes: this.linkMinutes(),
      };
    }
    const lead = await tx.findOne(Lead, { email, convertedAt: null }, { orderBy: { createdAt: 'desc' } });
    return lead ? this.leadLinkMail(tx, email, lead.id, lead.locale) : null;
  }

  private leadLinkMail(tx: EntityManager, email: string, leadId: string, locale: TemplateLocale): MailMessage {
    return {
      template: 'lead-login-link',
      to: email,
      locale,
      loginUrl: this.issueLink(tx, email, leadId),
      expiresInMinutes: this.linkMinutes(),
    };
  }

  private linkMinutes(): number {
    return Math.max(1, Math.round(this.deps.config.leads.loginLinkTtl / 60));
  }

  /** A new login link for `email`, stored hashed; returns its URL. */
  private issueLink(tx: EntityManager, email: string, leadId: string | null): string {
    const token = randomToken(32);
    const now = this.deps.clock.now().getTime();
    tx.create(LoginLink, {
      email,
      lead: leadId,
      tokenHash: sha256(token),
      expiresAt: new Date(now + this.deps.config.leads.loginLinkTtl * 1000),
      createdAt: new Date(now),
    });
    return publicLink(this.deps.config.publicUrl, 'login', { token });
  }

  /**
   * Follows a login link: it proves the address. Signs in the account with that email, or makes
   * one (verified, no password, a profile from the lead's form). An unverified account's earlier
   * owner never proved the address, so its password, sessions and tokens are revoked first. Then
   * the assessments of every unconverted lead with the address move to the account, the leads are
   * marked converted and their sessions end.
   */
  async logInWithLink(em: EntityManager, token: string, meta: ClientMeta): Promise<IssuedTokens> {
    for (let attempt = 0; ; attempt++) {
      try {
        const converted = await em.fork().transactional((tx) => this.convert(tx, token, meta));
        // The link is spent and the leads are attached (committed), but an account with a second
        // step gets no session here: only a challenge, asked for once the conversion is in.
        if ('secondStepFor' in converted) throw await this.deps.signInGate.challenge(converted.secondStepFor, meta, 'link');
        return converted;
      } catch (err) {
        // Two links for one new address followed at once: the other made the account; join it.
        const constraint = err instanceof UniqueConstraintViolationException ? (err as { constraint?: string }).constraint : undefined;
        if (attempt < 2 && (constraint === 'users_email_live_unique' || constraint === 'users_username_unique')) continue;
        throw err;
      }
    }
  }

  private async convert(tx: EntityManager, token: string, meta: ClientMeta): Promise<IssuedTokens | { secondStepFor: User }> {
    const now = this.deps.clock.now();
    if (token.length < 16 || token.length > 256) throw invalidToken();
    const [link] = await tx.execute<Array<{ email: string }>>(
      `update login_links set used_at = ? where token_hash = ? and used_at is null and expires_at > ? returning email`,
      [now, sha256(token), now],
    );
    if (!link) throw invalidToken();
    const email = link.email;
    const { conversion } = this.deps;

    const leads = await conversion.leadsOf(tx, email);
    let user = await tx.findOne(User, { email, ...EXISTING_USER }, { populate: ['passwordHash'] });
    if (user && !isLiveUser(user)) throw invalidToken();
    const newAccount = !user;
    if (!user) user = await conversion.createAccount(tx, email, leads, { verified: true });
    else if (!user.emailVerified) await conversion.claimUnverified(tx, user, 'email_proved_by_link');
    await conversion.attach(tx, user, leads, meta, newAccount);
    if (this.deps.signInGate.required(user)) return { secondStepFor: user };
    return this.deps.sessions.startIn(tx, user, meta);
  }
}
