import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { unauthenticated } from '../../common/errors';
import { Authorized, CurrentViewer, Public } from '../../graphql/access';
import type { Context, Viewer } from '../../graphql/context';
import type { AppServices } from '../module';
import { Policy, type RateLimitRule } from '../rate-limit/rate-limit.policies';
import { ChangePasswordInput, LogInInput, ResetPasswordInput, SignUpInput } from './auth.input';
import type { AuthService } from './auth.service';
import { AuthPayload, SignUpPayload } from './auth.type';
import type { SessionService } from './session.service';

const perMinute = (scope: RateLimitRule['scope'], max: number): RateLimitRule => ({ scope, max, per: 60 });

@Resolver()
export class AuthResolver {
  private readonly auth: AuthService;
  private readonly sessions: SessionService;

  constructor(services: AppServices) {
    this.auth = services.auth;
    this.sessions = services.sessions;
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 5)], account: 'input.email', sensitive: true, hashing: true })
  @Mutation(() => SignUpPayload, { description: 'Creates an unverified account and emails a verification link.' })
  async signUp(@Arg('input') input: SignUpInput, @Ctx() ctx: Context): Promise<SignUpPayload> {
    return { user: await this.auth.signUp(ctx.em, input) };
  }

  @Public()
  @Policy({ sensitive: true })
  @Mutation(() => Boolean)
  verifyEmail(@Arg('token') token: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.auth.verifyEmail(ctx.em, token);
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 5), perMinute('account', 5)], account: 'email', sensitive: true })
  @Mutation(() => Boolean, { description: 'Always true, whether or not the address has an account.' })
  resendVerificationEmail(@Arg('email') email: string, @Ctx() ctx: Context): Promise<boolean> {
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
  @Mutation(() => AuthPayload)
  logIn(@Arg('input') input: LogInInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.auth.logIn(ctx.em, input, ctx.meta);
  }

  @Public()
  @Policy({ sensitive: true })
  @Mutation(() => AuthPayload, { description: 'Exchanges a refresh token for new tokens; the old refresh token is spent.' })
  refreshSession(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.sessions.refresh(ctx.em, refreshToken);
  }

  @Public()
  @Mutation(() => Boolean, {
    description: "Ends the session of the given refresh token, or else of the access token. True once it has ended.",
  })
  async logOut(
    @Arg('refreshToken', () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    const viewer = await ctx.auth.viewerOrNull();
    if (!refreshToken && !viewer) throw unauthenticated();
    const fromRefresh = refreshToken ? await this.sessions.sessionIdOf(ctx.em, refreshToken) : null;
    for (const sessionId of new Set([fromRefresh, viewer?.sessionId])) {
      if (sessionId) await this.sessions.revokeSession(ctx.em, sessionId, 'log_out');
    }
    return true;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ends every session of the signed-in user, this one included.' })
  async logOutEverywhere(@CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<boolean> {
    await this.sessions.revokeAllSessions(ctx.em, viewer.user.id, 'log_out_everywhere');
    return true;
  }

  @Public()
  // Three emails an hour per address, counted alike whether or not it has an account.
  @Policy({ rateLimits: [perMinute('ip', 5), { scope: 'account', max: 3, per: 3600 }], account: 'email', sensitive: true })
  @Mutation(() => Boolean, { description: 'Always true, whether or not the address has an account.' })
  requestPasswordReset(@Arg('email') email: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.auth.requestPasswordReset(ctx.em, email);
  }

  @Public()
  @Policy({ rateLimits: [perMinute('ip', 5), perMinute('account', 5)], account: 'input.email', sensitive: true, hashing: true })
  @Mutation(() => Boolean, { description: 'Sets a new password and ends every session; log in afterwards.' })
  resetPassword(@Arg('input') input: ResetPasswordInput, @Ctx() ctx: Context): Promise<boolean> {
    return this.auth.resetPassword(ctx.em, input);
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 5)], sensitive: true, hashing: true })
  @Mutation(() => AuthPayload, {
    description:
      'Checks the current password and sets the new one. Ends every session of the user, this one included, and returns tokens for a new session to continue in.',
  })
  changePassword(
    @Arg('input') input: ChangePasswordInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return this.auth.changePassword(ctx.em, viewer.user.id, input, ctx.meta);
  }
}
