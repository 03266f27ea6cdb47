import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { conflict, invalidToken, notFound } from '../../common/errors';
import type { PreparedSql } from '../../db/pg-pool';
import type { Viewer } from '../../graphql/context';
import type { Logger } from '../../logger';
import type { SignInGate } from '../auth/second-step';
import type { ClientMeta, IssuedTokens, SessionService } from '../auth/session.service';
import { audit, originFrom } from '../audit/audit';
import type { LeadConversion } from '../leads/lead-conversion';
import { User } from '../users/user.entity';
import { EXISTING_USER } from '../users/user.rules';
import { IdentityResolution, ResolutionRace } from './identity-resolution';
import type { OidcClients, ProvenClaims } from './oidc-clients';
import { OidcStates, type StateBinding } from './oidc-states';
import type { AuthProvider, OidcStart } from './oidc.type';
import { UserIdentity } from './user-identity.entity';

export interface OidcServiceDeps {
  clients: OidcClients;
  clock: Clock;
  sql: PreparedSql;
  logger: Logger;
  sessions: SessionService;
  conversion: LeadConversion;
  signInGate: SignInGate;
}

/** The callback's parameters, as the frontend passes them on. */
export interface OidcCallback {
  provider: string;
  code: string;
  state: string;
  iss?: string | null;
}

// The constraints two parallel logins of one new person can trip; the retry then finds the winner's rows.
const RACES = new Set([
  'users_email_live_unique',
  'users_username_unique',
  'user_identities_provider_subject_unique',
  'user_identities_user_provider_unique',
]);

/**
 * OpenID Connect login: start (state, nonce, PKCE), complete (whose account, then the second
 * step or a session), link to the signed-in account, and unlink.
 */
export class OidcService {
  private readonly states: OidcStates;
  private readonly resolution: IdentityResolution;

  constructor(private readonly deps: OidcServiceDeps) {
    this.states = new OidcStates(deps.clock);
    this.resolution = new IdentityResolution({ clock: deps.clock, conversion: deps.conversion });
  }

  providers(): AuthProvider[] {
    return this.deps.clients.list().map(({ id, name }) => ({ id, name }));
  }

  /** A new authorization; bound to the account when a signed-in session starts it (for linkOidcIdentity). */
  async start(em: EntityManager, providerId: string, redirectUri: string, viewer: Viewer | null): Promise<OidcStart> {
    const { clients } = this.deps;
    const provider = clients.provider(providerId);
    clients.assertRedirectUri(redirectUri);
    // Discovery first: an unreachable provider writes no state.
    await clients.configuration(provider);
    const binding: StateBinding | null = viewer ? { userId: viewer.user.id, sessionId: viewer.sessionId } : null;
    const flow = await this.states.issue(em, { provider: provider.id, redirectUri, binding });
    const authorizationUrl = await clients.authorizationUrl(provider, { redirectUri, ...flow });
    return { authorizationUrl, state: flow.state };
  }

  /** Signs in with the provider's proof: the account the rules pick, MFA_REQUIRED when it has a second step. */
  async complete(em: EntityManager, callback: OidcCallback, meta: ClientMeta): Promise<IssuedTokens> {
    const claims = await this.prove(em, callback, null);
    const user = await this.withRetry(em, async (tx) => {
      const { user, how } = await this.resolution.resolve(tx, callback.provider, claims, meta);
      this.deps.logger.debug({ provider: callback.provider, userId: user.id, how }, 'OpenID Connect sign-in');
      return user;
    });
    // The account work is committed either way; tokens only past the second step.
    await this.deps.signInGate.check(user, meta, 'oidc');
    return this.deps.sessions.start(this.deps.sql, user, meta);
  }

  /** Adds the provider's proven login to the signed-in account; the state must come from this session. */
  async link(em: EntityManager, viewer: Viewer, callback: OidcCallback, meta: ClientMeta): Promise<User> {
    const claims = await this.prove(em, callback, { userId: viewer.user.id, sessionId: viewer.sessionId });
    return this.withRetry(em, async (tx) => {
      const user = await tx.findOne(User, { id: viewer.user.id, ...EXISTING_USER }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!user) throw invalidToken();
      await this.resolution.link(tx, user, callback.provider, claims, meta);
      return user;
    });
  }

  /** Removes the account's login of `provider`, unless it is the last way in (no password, no other identity). */
  async unlink(em: EntityManager, userId: string, provider: string, meta: ClientMeta): Promise<true> {
    await em.fork().transactional(async (tx) => {
      // Locked, so two unlinks at once cannot each leave the other as the last way in and remove it.
      const user = await tx.findOneOrFail(User, { id: userId }, { populate: ['passwordHash'], lockMode: LockMode.PESSIMISTIC_WRITE });
      const identities = await tx.find(UserIdentity, { user: userId });
      const identity = identities.find((i) => i.provider === provider);
      if (!identity) throw notFound('Linked identity', 'provider');
      if (!user.passwordHash && identities.length === 1) {
        throw conflict('This is the last way to sign in to the account: set a password or link another provider first.', { field: 'provider', reason: 'last_way_in' });
      }
      tx.remove(identity);
      audit(tx, originFrom(meta, userId), { action: 'identity.unlinked', targetType: 'identity', targetId: identity.id, changes: { provider } });
    });
    return true;
  }

  /**
   * The ID token's claims for a callback: the provider is known, the state is spent (before the
   * exchange, so a replay gets nothing), and the code exchange and every token check pass.
   */
  private async prove(em: EntityManager, callback: OidcCallback, binding: StateBinding | null): Promise<ProvenClaims> {
    const { clients } = this.deps;
    const provider = clients.provider(callback.provider);
    if (callback.code.length === 0 || callback.code.length > 2048) throw invalidToken();
    // Discovery before the state is spent: an outage does not burn the person's attempt.
    await clients.configuration(provider);
    const flow = await this.states.consume(em, callback.state, provider.id, binding);
    if (!flow) throw invalidToken();
    return clients.exchange(provider, { code: callback.code, state: callback.state, iss: callback.iss ?? null }, flow);
  }

  private async withRetry<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await em.fork().transactional(work);
      } catch (err) {
        const constraint = err instanceof UniqueConstraintViolationException ? (err as { constraint?: string }).constraint : undefined;
        if (attempt < 2 && ((constraint && RACES.has(constraint)) || err instanceof ResolutionRace)) continue;
        throw err;
      }
    }
  }
}
