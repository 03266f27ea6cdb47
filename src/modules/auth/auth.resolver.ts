import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { unauthenticated } from '../../common/errors';
import { requireViewer } from '../../graphql/auth-checker';
import type { Context } from '../../graphql/context';
import { ChangePasswordInput, LogInInput, ResetPasswordInput, SignUpInput } from './auth.input';
import type { AuthService } from './auth.service';
import { AuthPayload, SignUpPayload } from './auth.type';
import type { SessionService } from './session.service';

@Resolver()
export class AuthResolver {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
  ) {}

  @Mutation(() => SignUpPayload, { description: 'Creates an unverified account and emails a verification link.' })
  async signUp(@Arg('input') input: SignUpInput, @Ctx() ctx: Context): Promise<SignUpPayload> {
    return { user: await this.auth.signUp(ctx.em, input) };
  }

  @Mutation(() => Boolean)
  verifyEmail(@Arg('token') token: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.auth.verifyEmail(ctx.em, token);
  }

  @Mutation(() => Boolean, { description: 'Always true, whether or not the address has an account.' })
  resendVerificationEmail(@Arg('email') email: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.auth.resendVerificationEmail(ctx.em, email);
  }

  @Mutation(() => AuthPayload)
  logIn(@Arg('input') input: LogInInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.auth.logIn(ctx.em, input, ctx.meta);
  }

  @Mutation(() => AuthPayload, { description: 'Exchanges a refresh token for new tokens; the old refresh token is spent.' })
  refreshSession(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.sessions.refresh(ctx.em, refreshToken);
  }

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
  async logOutEverywhere(@Ctx() ctx: Context): Promise<boolean> {
    const viewer = await requireViewer(ctx);
    await this.sessions.revokeAllSessions(ctx.em, viewer.user.id, 'log_out_everywhere');
    return true;
  }

  @Mutation(() => Boolean, { description: 'Always true, whether or not the address has an account.' })
  requestPasswordReset(@Arg('email') email: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.auth.requestPasswordReset(ctx.em, email);
  }

  @Mutation(() => Boolean, { description: 'Sets a new password and ends every session; log in afterwards.' })
  resetPassword(@Arg('input') input: ResetPasswordInput, @Ctx() ctx: Context): Promise<boolean> {
    return this.auth.resetPassword(ctx.em, input);
  }

  @Authorized()
  @Mutation(() => AuthPayload, { description: 'Ends every other session and returns tokens for a fresh one.' })
  async changePassword(@Arg('input') input: ChangePasswordInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    const viewer = await requireViewer(ctx);
    return this.auth.changePassword(ctx.em, viewer.user.id, input, ctx.meta);
  }
}
