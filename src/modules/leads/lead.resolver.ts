import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { Public } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import { AuthPayload } from '../auth/auth.type';
import type { AppServices } from '../module';
import { Policy } from '../rate-limit/rate-limit.policies';
import { CaptureLeadInput } from './lead.input';
import type { LeadService } from './lead.service';
import { CaptureLeadPayload } from './lead.type';

@Resolver()
export class LeadResolver {
  private readonly leads: LeadService;

  constructor(services: AppServices) {
    this.leads = services.leads;
  }

  @Public()
  // Per address, counted alike whether or not an account or an earlier lead has it.
  @Policy({
    rateLimits: [
      { scope: 'ip', max: 5, per: 60 },
      { scope: 'account', max: 3, per: 3600 },
    ],
    account: 'input.email',
    // Keyed by the address itself: a lookup of the account would make addresses with one slower.
    accountKey: 'address',
    sensitive: true,
  })
  @Mutation(() => CaptureLeadPayload, {
    description:
      'Records the lead form and starts a lead session to take an assessment in; mails the address a login link. The same answer for every address: it creates no account and reveals none. Errors: BAD_USER_INPUT, RATE_LIMITED (5 a minute per IP, 3 an hour per address by default).',
  })
  captureLead(@Arg('input', { description: 'The lead form.' }) input: CaptureLeadInput, @Ctx() ctx: Context): Promise<CaptureLeadPayload> {
    return this.leads.capture(ctx.em, input, ctx.meta);
  }

  @Public()
  @Policy({
    rateLimits: [
      { scope: 'ip', max: 5, per: 60 },
      { scope: 'account', max: 3, per: 3600 },
    ],
    account: 'email',
    accountKey: 'address',
    sensitive: true,
  })
  @Mutation(() => Boolean, {
    description:
      'Mails a login link if an account, or a lead not yet converted, has the address. Always true, whether or not one does. Errors: RATE_LIMITED (5 a minute per IP, 3 an hour per address by default).',
  })
  requestLoginLink(
    @Arg('email', { description: 'The email address, in any case.' }) email: string,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.leads.requestLoginLink(ctx.em, email);
  }

  @Public()
  @Policy({ rateLimits: [{ scope: 'ip', max: 10, per: 60 }], sensitive: true })
  @Mutation(() => AuthPayload, {
    description:
      "Follows a login link: signs in the account with the link's address, or creates it (verified, without a password), and moves the address's lead assessments to it. Errors: INVALID_TOKEN (unknown, used or expired; a link lasts 15 minutes by default), MFA_REQUIRED (the account has two-factor on: the link is spent and the leads moved, but no tokens; pass extensions.challenge and a code to completeMfaLogIn), RATE_LIMITED.",
  })
  logInWithLink(
    @Arg('token', { description: 'The `token` parameter of the emailed link.' }) token: string,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return this.leads.logInWithLink(ctx.em, token, ctx.meta);
  }
}
