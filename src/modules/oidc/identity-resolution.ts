import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { conflict, invalidToken } from '../../common/errors';
import type { ClientMeta } from '../auth/session.service';
import { audit, originFrom } from '../audit/audit';
import type { LeadConversion } from '../leads/lead-conversion';
import { User } from '../users/user.entity';
import { assertName, EXISTING_USER, isLiveUser } from '../users/user.rules';
import type { ProvenClaims } from './oidc-clients';
import { UserIdentity } from './user-identity.entity';

/** Which of the account rules decided (for the log and the tests' reading of it). */
export type Resolution = 'known' | 'linked_verified' | 'claimed_unverified' | 'created';

export const noVerifiedEmailConflict = () =>
  conflict(
    'An account already uses this email address, and this provider did not confirm that the address is yours. Sign in to that account another way, then link this provider from your settings.',
    { reason: 'email_not_verified_by_provider' },
  );

export const noEmailConflict = () =>
  conflict(
    'This provider gave no email address, and a new account needs one. Sign in another way, then link this provider from your settings.',
    { reason: 'no_email' },
  );

export const identityTaken = () =>
  conflict('This provider login is already linked to another account.', { field: 'provider', reason: 'identity_linked_elsewhere' });

/**
 * The (provider, sub) turned up, linked, after the first look found none: a parallel sign-in of the
 * same person committed in between. The caller starts over, and rule 1 then finds it.
 */
export class ResolutionRace extends Error {
  constructor() {
    super('a parallel sign-in linked this identity first');
    this.name = 'ResolutionRace';
  }
}

export const providerAlreadyLinked = () =>
  conflict('This account already has a login of this provider; unlink it first.', { field: 'provider', reason: 'provider_already_linked' });

/**
 * Whose account a proven ID token signs in to, safe against pre-hijacking (issue 10's rules):
 *  1. a known (provider, sub) → its account;
 *  2. a provider-verified email of a verified account → linked to it;
 *  3. a provider-verified email of an unverified account → that account's password, sessions,
 *     tokens and other identities go (its maker never proved the address), then linked, verified,
 *     and the address's leads attach;
 *  4. otherwise a new account, verified only when the provider verified the email (leads attach then);
 *  5. an unverified email never links to an existing account: CONFLICT.
 * Runs inside the caller's transaction; the caller retries on a unique violation or a ResolutionRace
 * (a parallel sign-in of the same person).
 */
export class IdentityResolution {
  constructor(private readonly deps: { clock: Clock; conversion: LeadConversion }) {}

  async resolve(tx: EntityManager, provider: string, claims: ProvenClaims, meta: ClientMeta): Promise<{ user: User; how: Resolution }> {
    const known = await tx.findOne(UserIdentity, { provider, subject: claims.sub }, { populate: ['user'] });
    if (known) {
      const user = known.user.getEntity();
      if (!isLiveUser(user)) throw invalidToken();
      // What the provider says now, shown to the account; never used to decide whose account it is.
      known.email = claims.email;
      return { user, how: 'known' };
    }
    if (!claims.email) throw noEmailConflict();

    const { conversion } = this.deps;
    const existing = await tx.findOne(User, { email: claims.email, ...EXISTING_USER }, { populate: ['passwordHash'], lockMode: LockMode.PESSIMISTIC_WRITE });
    if (existing) {
      if (!claims.emailVerified) throw noVerifiedEmailConflict();
      // A deleted account holds its address until it is purged; nothing in it can be signed in to.
      if (!isLiveUser(existing)) throw invalidToken();
      if (existing.emailVerified) {
        await this.link(tx, existing, provider, claims, meta, raced);
        return { user: existing, how: 'linked_verified' };
      }
      const leads = await conversion.leadsOf(tx, claims.email);
      // Its identities go too (registered with AddressProofs): they are ways in of whoever made it.
      await conversion.claimUnverified(tx, existing, 'email_proved_by_oidc');
      await this.link(tx, existing, provider, claims, meta, raced);
      await conversion.attach(tx, existing, leads, meta, false);
      return { user: existing, how: 'claimed_unverified' };
    }

    const leads = claims.emailVerified ? await conversion.leadsOf(tx, claims.email) : [];
    const user = await conversion.createAccount(tx, claims.email, leads, { verified: claims.emailVerified, name: displayName(claims.name) });
    await this.link(tx, user, provider, claims, meta, raced);
    await conversion.attach(tx, user, leads, meta, true);
    return { user, how: 'created' };
  }

  /**
   * Links (provider, sub) to `user`: CONFLICT when it is another account's (or `onTaken`'s error),
   * or when `user` has this provider already.
   */
  async link(tx: EntityManager, user: User, provider: string, claims: ProvenClaims, meta: ClientMeta, onTaken: () => Error = identityTaken): Promise<UserIdentity> {
    const taken = await tx.findOne(UserIdentity, { provider, subject: claims.sub });
    if (taken) {
      if (taken.user.id !== user.id) throw onTaken();
      taken.email = claims.email;
      return taken;
    }
    if (await tx.count(UserIdentity, { user: user.id, provider })) throw providerAlreadyLinked();
    const identity = tx.create(UserIdentity, {
      user: user.id,
      provider,
      subject: claims.sub,
      email: claims.email,
      linkedAt: this.deps.clock.now(),
    });
    audit(tx, originFrom(meta, user.id), { action: 'identity.linked', targetType: 'identity', targetId: identity.id, changes: { provider } });
    return identity;
  }
}

const raced = () => new ResolutionRace();

/** The provider's name for the person, when it makes a valid display name. */
function displayName(name: string | null): string | null {
  if (!name) return null;
  try {
    return assertName(name);
  } catch {
    return null;
  }
}
