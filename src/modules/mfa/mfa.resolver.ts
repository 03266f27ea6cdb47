import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { Authorized, CurrentViewer, Public } from '../../graphql/access';
import type { Context, Viewer } from '../../graphql/context';
import { SecretArguments } from '../../graphql/input-guard';
import { AuthPayload } from '../auth/auth.type';
import { Audited, originFrom, type AdminAudit } from '../audit/audit';
import type { AppServices } from '../module';
import { perMinute, Policy } from '../rate-limit/rate-limit.policies';
import { challengeAccount, type MfaLogIn } from './mfa-login.service';
import type { MfaService } from './mfa.service';
import { RecoveryCodes, TotpEnrollment } from './mfa.type';

/** The limits of a signed-in account's code-taking mutations: a stolen session guesses no faster. */
const CODE_LIMITS = [perMinute('ip', 20), perMinute('user', 5)];
const CODE_ARG = { description: 'A current code of the authenticator app (6 digits), or an unused recovery code.' };

@Resolver()
export class MfaResolver {
  private readonly mfa: MfaService;
  private readonly login: MfaLogIn;

  constructor(services: AppServices) {
    this.mfa = services.mfa;
    this.login = services.mfaLogIn;
  }

  @Authorized()
  @Policy({ rateLimits: [perMinute('user', 10)], sensitive: true })
  @Mutation(() => TotpEnrollment, {
    description:
      'Starts turning on two-factor sign-in: a new TOTP secret for an authenticator app. Nothing is enforced until confirmTotpEnrollment; calling it again replaces a pending secret. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), CONFLICT (two-factor already on), RATE_LIMITED.',
  })
  beginTotpEnrollment(@CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<TotpEnrollment> {
    return this.mfa.beginEnrollment(ctx.em, viewer);
  }

  @Authorized()
  @Policy({ rateLimits: CODE_LIMITS, sensitive: true })
  @SecretArguments('code')
  @Mutation(() => RecoveryCodes, {
    description:
      "Turns two-factor sign-in on with a code of the pending secret, and returns ten recovery codes, shown only now. Mails the account and ends its other sessions. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), INVALID_CREDENTIALS (wrong code), CONFLICT (already on; or no enrollment pending, extensions.reason NO_PENDING_ENROLLMENT), RATE_LIMITED.",
  })
  async confirmTotpEnrollment(
    @Arg('code', { description: 'The code the authenticator app shows for the new secret.' }) code: string,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<RecoveryCodes> {
    return this.mfa.confirmEnrollment(ctx.em, viewer, code, originFrom(ctx.meta, viewer.user.id));
  }

  @Authorized()
  @Policy({ rateLimits: CODE_LIMITS, sensitive: true })
  @SecretArguments('code')
  @Mutation(() => Boolean, {
    description:
      'Turns two-factor sign-in off; true once done. Mails the account and ends its other sessions. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), INVALID_CREDENTIALS (wrong or used code), CONFLICT (not on), RATE_LIMITED.',
  })
  disableTotp(@Arg('code', CODE_ARG) code: string, @CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<boolean> {
    return this.mfa.disable(ctx.em, viewer, code, originFrom(ctx.meta, viewer.user.id));
  }

  @Authorized()
  @Policy({ rateLimits: CODE_LIMITS, sensitive: true })
  @SecretArguments('code')
  @Mutation(() => RecoveryCodes, {
    description:
      'Replaces the recovery codes with ten new ones, shown only now; the old ones stop working. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), INVALID_CREDENTIALS (wrong or used code), CONFLICT (two-factor not on), RATE_LIMITED.',
  })
  regenerateRecoveryCodes(@Arg('code', CODE_ARG) code: string, @CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<RecoveryCodes> {
    return this.mfa.regenerateRecoveryCodes(ctx.em, viewer, code, originFrom(ctx.meta, viewer.user.id));
  }

  @Public()
  @Policy({
    rateLimits: [perMinute('ip', 10), perMinute('account', 5)],
    // The account is the challenge's: a new challenge does not buy new guesses.
    account: 'challenge',
    accountOf: challengeAccount,
    sensitive: true,
  })
  @SecretArguments('code')
  @Mutation(() => AuthPayload, {
    description:
      'The second step of a sign-in that answered MFA_REQUIRED: starts the session, as logIn would. A challenge lasts 5 minutes, works once and dies after 5 wrong codes. Errors: INVALID_CREDENTIALS (wrong or used code), INVALID_TOKEN (unknown, used, expired or dead challenge), RATE_LIMITED (10 a minute per IP, 5 a minute per account by default).',
  })
  completeMfaLogIn(
    @Arg('challenge', { description: 'extensions.challenge of the MFA_REQUIRED error.' }) challenge: string,
    @Arg('code', CODE_ARG) code: string,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return this.login.complete(ctx.em, challenge, code, ctx.meta);
  }

  @Authorized('SUPERUSER')
  @Policy({ rateLimits: [perMinute('user', 30)] })
  @Mutation(() => Boolean, {
    description:
      'Turns two-factor sign-in off for an account that lost both its device and its recovery codes: every session of the account ends, and it is mailed. True when it was on; false (and nothing changes) when it was not. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, RATE_LIMITED.',
  })
  adminDisableTotp(
    @Arg('userId', () => ID, { description: "The account's id." }) userId: string,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.mfa.adminDisable(ctx.em, userId, audit);
  }
}
