import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { invalidToken } from '../../common/errors';
import { Authorized, CurrentViewer, Public } from '../../graphql/access';
import type { Context, Viewer } from '../../graphql/context';
import { SecretArguments } from '../../graphql/input-guard';
import { originOf } from '../audit/audit';
import type { AppServices } from '../module';
import { perMinute, Policy } from '../rate-limit/rate-limit.policies';
import { UpdateMeInput } from './account.input';
import type { AccountService } from './account.service';
import { PublicUser, SessionInfo } from './account.type';
import { User } from './user.entity';

const TOKEN_MAX = 256;

/** Self-service: a person's own account, and the public view of anyone's. */
@Resolver()
export class SelfServiceResolver {
  private readonly accounts: AccountService;

  constructor(services: AppServices) {
    this.accounts = services.accounts;
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 120)] })
  @Query(() => PublicUser, {
    nullable: true,
    description: 'The public face of an account by its username (any case): null for an unknown, disabled or deleted one. Errors: RATE_LIMITED.',
  })
  user(@Arg('username', { description: 'The username.' }) username: string, @Ctx() ctx: Context): Promise<PublicUser | null> {
    return this.accounts.publicUser(ctx.em, username);
  }

  @Authorized()
  @Query(() => [SessionInfo], {
    description: "The signed-in account's live sessions, most recently used first. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session).",
  })
  mySessions(@CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<SessionInfo[]> {
    return this.accounts.liveSessions(ctx.em, viewer.user.id, viewer.sessionId);
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 5)] })
  @Query(() => GraphQLJSON, {
    description:
      'Everything stored about the signed-in account, as JSON: account, profile, sessions, emailed tokens (what they were for), assessments, the lead forms it came from, and the audit events about it or by it. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), RATE_LIMITED.',
  })
  exportMyData(@CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<Record<string, unknown>> {
    return this.accounts.exportMyData(ctx.em, viewer);
  }

  @Authorized()
  // Sensitive: an email change mails a link, so one per request.
  @Policy({ rateLimits: [perMinute('user', 10)], sensitive: true })
  @Mutation(() => User, {
    description:
      'Changes the signed-in account. A new email is pending until the link mailed to it is followed (confirmEmailChange); the answer shows the address in use. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), BAD_USER_INPUT, CONFLICT (username taken, field "username"), RATE_LIMITED.',
  })
  updateMe(
    @Arg('input', { description: 'The fields to change.' }) input: UpdateMeInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<User> {
    return this.accounts.updateMe(ctx.em, viewer, input);
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 10)], sensitive: true })
  @Mutation(() => User, {
    description:
      'Follows the link of an email change: the account moves to the new address, now confirmed. Needs no session. Errors: INVALID_TOKEN (unknown, used or expired; a link lasts 24 hours by default), CONFLICT (field "email": the address has an account by now), RATE_LIMITED.',
  })
  async confirmEmailChange(
    @Arg('token', { description: 'The `token` parameter of the link mailed to the new address.' }) token: string,
    @Ctx() ctx: Context,
  ): Promise<User> {
    if (token.length === 0 || token.length > TOKEN_MAX) throw invalidToken();
    return this.accounts.confirmEmailChange(ctx.em, token, await originOf(ctx));
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 5)], sensitive: true, hashing: true })
  @SecretArguments('password')
  @Mutation(() => Boolean, {
    description:
      'Deletes the signed-in account: every session ends at once, and its email and username stay held (staff may restore it) until it is purged after ACCOUNT_RETENTION_DAYS (30 by default). Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), BAD_USER_INPUT (field "password", missing), INVALID_CREDENTIALS (wrong password), CONFLICT (the last superuser), RATE_LIMITED.',
  })
  async deleteMe(
    @Arg('password', () => String, {
      nullable: true,
      description: "The account's password; required when it has one (an account made by a login link may have none).",
    })
    password: string | null | undefined,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.accounts.deleteMe(ctx.em, viewer, password, await originOf(ctx));
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 30)] })
  @Mutation(() => Boolean, {
    description:
      "Ends one of the signed-in account's live sessions (this one too, if it is its id); true once done. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), NOT_FOUND (not a live session of this account), RATE_LIMITED.",
  })
  async revokeSession(
    @Arg('id', () => ID, { description: 'The session id (SessionInfo.id).' }) id: string,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.accounts.revokeSession(ctx.em, viewer, id, await originOf(ctx));
  }
}
