import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { unauthenticated } from '../../common/errors';
import { Authorized, CurrentViewer, Public } from '../../graphql/access';
import type { Context, Viewer } from '../../graphql/context';
import type { AppServices } from '../module';
import { perMinute, Policy } from '../rate-limit/rate-limit.policies';
import { ChangePasswordInput, LogInInput, ResetPasswordInput, SignUpInput } from './auth.input';
import type { AuthService } from './auth.service';
import type { PasswordFlows } from './password-flows.service';
import { AuthPayload, SignUpPayload } from './auth.type';
import type { SessionService } from './session.service';


@Resolver()
export class AuthResolver {
  private readonly auth: AuthService;
  private readonly passwords: PasswordFlows;
  private readonly sessions: SessionService;

  constructor(services: AppServices) {
    this.auth = services.auth;
    this.passwords = services.passwordFlows;
    this.sessions = services.sessions;
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 5)], account: 'input.email', sensitive: true, hashing: true })
  @Mutation(() => SignUpPayload, {
    description:
      'Creates an unverified account and emails a verification link. Errors: BAD_USER_INPUT, CONFLICT (username taken), RATE_LIMITED.',
  })
  async signUp(
    @Arg('input', { description: 'The new account.' }) input: SignUpInput,
    @Ctx() ctx: Context,
  ): Promise<SignUpPayload> {
    return { user: await this.auth.signUp(ctx.em, input, ctx.meta) };
  }

  @Public()
  @Policy({ sensitive: true })
  @Mutation(() => Boolean, {
    description:
      'Confirms the email address the token was sent to; true once done. Errors: INVALID_TOKEN (unknown, used or expired; a link lasts 24 hours by default).',
  })
  verifyEmail(
    @Arg('token', { description: 'The `token` parameter of the link in the verification email.' }) token: string,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.auth.verifyEmail(ctx.em, token, ctx.meta);
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 5), perMinute('account', 5)], account: 'email', sensitive: true })
  @Mutation(() => Boolean, {
    description:
      'Emails a new verification link if the address belongs to an unverified account. Always true, whether or not it does. Errors: RATE_LIMITED.',
  })
  resendVerificationEmail(
    @Arg('email', { description: 'The email address of the account, in any case.' }) email: string,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.auth.resendVerificationEmail(ctx.em, email);
  }

  @Public()
  @Policy({
    rateLimits: [perMinute('ip', 10), perMinute('account', 5)],
    account: 'input.usernameOrEmail',
    sensitive: true,
    hashing: true,
    // A person who mistyped and then got in starts again from a clean count; the IP's count stays.
    clearOnSuccess: ['account'],
  })
  @Mutation(() => AuthPayload, {
    description:
      'Starts a session. Errors: INVALID_CREDENTIALS (wrong password or no such account, alike), EMAIL_NOT_VERIFIED (right password, unverified email), MFA_REQUIRED (right password, two-factor on: no tokens; pass extensions.challenge and a code to completeMfaLogIn), RATE_LIMITED, BAD_USER_INPUT.',
  })
  logIn(@Arg('input', { description: 'The credentials.' }) input: LogInInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.auth.logIn(input, ctx.meta);
  }

  @Public()
  @Policy({ sensitive: true })
  @Mutation(() => AuthPayload, {
    description:
      'Exchanges a refresh token for new tokens; the old refresh token is spent. Errors: INVALID_TOKEN (unknown, expired or ended). Replaying a spent token, other than a retry within 30 seconds (by default), ends its session.',
  })
  refreshSession(
    @Arg('refreshToken', { description: 'The refresh token of the latest AuthPayload of the session.' }) refreshToken: string,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return this.sessions.refresh(ctx.em, refreshToken, ctx.meta);
  }

  @Public()
  @Mutation(() => Boolean, {
    description:
      'Ends the session of the given refresh token, and that of the access token sent, if any; true once done. Errors: UNAUTHENTICATED with neither a refresh token nor a valid access token.',
  })
  async logOut(
    @Arg('refreshToken', () => String, { nullable: true, description: 'The refresh token of the session to end.' })
    refreshToken: string | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    const viewer = await ctx.auth.viewerOrNull();
    if (!refreshToken && !viewer) throw unauthenticated();
    await this.sessions.logOut(ctx.em, refreshToken, viewer && { userId: viewer.user.id, sessionId: viewer.sessionId }, ctx.meta);
    return true;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ends every session of the signed-in user, this one included. Errors: UNAUTHENTICATED.' })
  async logOutEverywhere(@CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<boolean> {
    await this.sessions.logOutEverywhere(ctx.em, viewer.user.id, ctx.meta);
    return true;
  }

  @Public()
  // Three emails an hour per address, counted alike whether or not it has an account.
  @Policy({ rateLimits: [perMinute('ip', 5), { scope: 'account', max: 3, per: 3600 }], account: 'email', sensitive: true })
  @Mutation(() => Boolean, {
    description:
      'Emails a reset link and a 6-digit code if the address belongs to an account. Always true, whether or not it does. Errors: RATE_LIMITED (by default past 3 an hour for one address).',
  })
  requestPasswordReset(
    @Arg('email', { description: 'The email address of the account, in any case.' }) email: string,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.passwords.requestPasswordReset(ctx.em, email);
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 5), perMinute('account', 5)], account: 'input.email', sensitive: true, hashing: true })
  @Mutation(() => Boolean, {
    description:
      'Sets a new password, confirms the email address and ends every session; log in afterwards. Errors: BAD_USER_INPUT, INVALID_TOKEN (bad, used or expired token or code), RATE_LIMITED.',
  })
  resetPassword(
    @Arg('input', { description: 'The token, or the email and code, with the new password.' }) input: ResetPasswordInput,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.passwords.resetPassword(ctx.em, input, ctx.meta);
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 5)], sensitive: true, hashing: true })
  @Mutation(() => AuthPayload, {
    description:
      'Checks the current password and sets the new one. Ends every session of the user, this one included, and returns tokens for a new session to continue in. Errors: UNAUTHENTICATED, INVALID_CREDENTIALS (wrong current password), EMAIL_NOT_VERIFIED (a first password on an account whose address is not confirmed), BAD_USER_INPUT, RATE_LIMITED.',
  })
  changePassword(
    @Arg('input', { description: 'The current password and the new one.' }) input: ChangePasswordInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return this.passwords.changePassword(ctx.em, viewer.user.id, input, ctx.meta);
  }
}
