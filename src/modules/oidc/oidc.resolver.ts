import DataLoader from 'dataloader';
import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Authorized, CurrentViewer, Public } from '../../graphql/access';
import type { Context, Viewer } from '../../graphql/context';
import { SecretArguments } from '../../graphql/input-guard';
import { AuthPayload } from '../auth/auth.type';
import type { AppServices } from '../module';
import { perMinute, Policy } from '../rate-limit/rate-limit.policies';
import { User } from '../users/user.entity';
import type { OidcService } from './oidc.service';
import { AuthProvider, LinkedIdentity, OidcStart } from './oidc.type';

const PROVIDER_ARG = { description: 'The provider id, as authProviders lists it.' };
const CODE_ARG = { description: 'The `code` parameter of the redirect back.' };
const STATE_ARG = { description: 'The `state` parameter of the redirect back (the one startOidcLogin returned).' };

@Resolver()
export class OidcResolver {
  private readonly oidc: OidcService;

  constructor(services: AppServices) {
    this.oidc = services.oidc;
  }

  @Public()
  @Query(() => [AuthProvider], { description: 'The OpenID Connect providers a login page may offer.' })
  authProviders(): AuthProvider[] {
    return this.oidc.providers();
  }

  @Public()
  // Each call stores a state row.
  @Policy({ rateLimits: [perMinute('ip', 30)] })
  @Mutation(() => OidcStart, {
    description:
      'Starts a sign-in with a provider: send the browser to authorizationUrl. Called with a signed-in session, the state is bound to that session, for linkOidcIdentity. Errors: BAD_USER_INPUT (field "provider": unknown; field "redirectUri": not on OIDC_REDIRECT_URIS), RATE_LIMITED, PROVIDER_UNAVAILABLE (the provider cannot be reached; retry after extensions.retryAfter seconds).',
  })
  async startOidcLogin(
    @Arg('provider', PROVIDER_ARG) provider: string,
    @Arg('redirectUri', { description: 'Where the provider sends the browser back: one of OIDC_REDIRECT_URIS, exactly.' }) redirectUri: string,
    @Ctx() ctx: Context,
  ): Promise<OidcStart> {
    return this.oidc.start(ctx.em, provider, redirectUri, await ctx.auth.viewerOrNull());
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 10)], sensitive: true })
  @SecretArguments('code', 'state')
  @Mutation(() => AuthPayload, {
    description:
      'Completes a sign-in from the redirect back: signs in the account of this provider login, links it to the verified account with the address the provider verified, or creates an account. Errors: BAD_USER_INPUT (field "provider"), INVALID_TOKEN (bad, used or expired state; a refused code; an ID token whose signature, issuer, audience, expiry or nonce is wrong; `iss` not the provider\'s), CONFLICT (an account has the address and the provider did not verify it, or the provider gave no address: sign in another way and link from settings), MFA_REQUIRED (two-factor on: no tokens; pass extensions.challenge and a code to completeMfaLogIn), RATE_LIMITED, PROVIDER_UNAVAILABLE.',
  })
  completeOidcLogin(
    @Arg('provider', PROVIDER_ARG) provider: string,
    @Arg('code', CODE_ARG) code: string,
    @Arg('state', STATE_ARG) state: string,
    @Arg('iss', () => String, { nullable: true, description: 'The `iss` parameter of the redirect back, when there is one (RFC 9207).' })
    iss: string | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return this.oidc.complete(ctx.em, { provider, code, state, iss }, ctx.meta);
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 10)], sensitive: true })
  @SecretArguments('code', 'state')
  @Mutation(() => User, {
    description:
      'Links a provider login to the signed-in account, from the redirect back of a startOidcLogin called under this same session. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), BAD_USER_INPUT (field "provider"), INVALID_TOKEN (as completeOidcLogin, and a state not started by this session), CONFLICT (the login is linked to another account, or this account has a login of this provider already), RATE_LIMITED, PROVIDER_UNAVAILABLE.',
  })
  linkOidcIdentity(
    @Arg('provider', PROVIDER_ARG) provider: string,
    @Arg('code', CODE_ARG) code: string,
    @Arg('state', STATE_ARG) state: string,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<User> {
    return this.oidc.link(ctx.em, viewer, { provider, code, state }, ctx.meta);
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 10)] })
  @Mutation(() => Boolean, {
    description:
      "Removes the signed-in account's login of a provider. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), NOT_FOUND (field \"provider\": no such login on this account), CONFLICT (the last way to sign in: no password and no other provider), RATE_LIMITED.",
  })
  unlinkIdentity(@Arg('provider', PROVIDER_ARG) provider: string, @CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<boolean> {
    return this.oidc.unlink(ctx.em, viewer.user.id, provider, ctx.meta);
  }
}

interface IdentityRow {
  userId: string;
  provider: string;
  email: string | null;
  linkedAt: Date;
}

/**
 * The request's loaders of the sign-in facts of accounts, by id. An id without a row reads as a
 * new account with a password and no identity: that is what signUp's stand-in for an address in
 * use must look like.
 */
const signInLoaders = (ctx: Pick<Context, 'em' | 'loader'>) =>
  ctx.loader('oidc.signIn', () => ({
    identities: new DataLoader<string, LinkedIdentity[]>(async (ids) => {
      const rows = await ctx.em.execute<IdentityRow[]>(
        `select user_id as "userId", provider, email, linked_at as "linkedAt" from user_identities where user_id in (?) order by linked_at, provider`,
        [ids],
      );
      return ids.map((id) => rows.filter((r) => r.userId === id).map(({ provider, email, linkedAt }) => ({ provider, email, linkedAt: new Date(linkedAt) })));
    }),
    hasPassword: new DataLoader<string, boolean>(async (ids) => {
      const rows = await ctx.em.execute<Array<{ id: string; has: boolean }>>(
        `select id, password_hash is not null as has from users where id in (?)`,
        [ids],
      );
      const byId = new Map(rows.map((r) => [r.id, r.has]));
      return ids.map((id) => byId.get(id) ?? true);
    }),
  }));

/**
 * User.identities and User.hasPassword. A User is only ever handed to the account itself (me,
 * AuthPayload, its own mutations) and to staff, as its email is, so these need no check of their own.
 */
@Resolver(() => User)
export class UserSignInFieldsResolver {
  @FieldResolver(() => [LinkedIdentity], { description: 'The provider logins linked to the account, oldest first.' })
  identities(@Root() user: User, @Ctx() ctx: Context): Promise<LinkedIdentity[]> {
    return signInLoaders(ctx).identities.load(user.id);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the account has a password (one made by a login link or a provider may have none).' })
  hasPassword(@Root() user: User, @Ctx() ctx: Context): Promise<boolean> {
    return signInLoaders(ctx).hasPassword.load(user.id);
  }
}
