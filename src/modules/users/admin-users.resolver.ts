import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import { Authorized } from '../../graphql/access';
import { connectionOf, encodeCursor } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import type { AssessmentQueries } from '../assessments/assessment.queries';
import type { AssessmentService } from '../assessments/assessment.service';
import { AssessmentConnection, type AssessmentType } from '../assessments/assessment.type';
import { Audited, type AdminAudit } from '../audit/audit';
import type { AppServices } from '../module';
import { perMinute, Policy } from '../rate-limit/rate-limit.policies';
import { Tier } from '../tiers/tier.entity';
import type { AccountService } from './account.service';
import { AdminCreateUserInput, AdminUpdateUserInput, UserFilter } from './account.input';
import { accountStatusOf, AdminUser, SessionInfo, UserConnection } from './account.type';
import type { AdminUserService } from './admin-users.service';
import { profileLoader } from './profile.resolver';
import { ProfileType } from './profile.type';
import { User } from './user.entity';
import { listUsers } from './user-directory';

const STAFF = 'SUPERUSER';
const ID_ARG = { description: "The account's id." };

/** Staff's management of accounts. Every field: UNAUTHENTICATED when anonymous, FORBIDDEN for anyone but a superuser. */
@Resolver()
export class AdminUsersResolver {
  private readonly admin: AdminUserService;

  constructor(services: AppServices) {
    this.admin = services.adminUsers;
  }

  @Authorized(STAFF)
  @Query(() => UserConnection, {
    description:
      'Accounts, newest first, deleted ones included unless filtered out. Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT (first over 100, bad cursor).',
  })
  users(
    @Arg('first', () => Int, { nullable: true, description: 'How many to return, 0–100 (20 by default).' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Continue after this cursor (PageInfo.endCursor).' }) after: string | null,
    @Arg('filter', () => UserFilter, { nullable: true, description: 'Which accounts; all when left out.' }) filter: UserFilter | null,
    @Ctx() ctx: Context,
  ): Promise<UserConnection> {
    return listUsers(ctx.em, first, after, filter) as Promise<UserConnection>;
  }

  @Authorized(STAFF)
  @Query(() => AdminUser, {
    nullable: true,
    description: 'Everything staff may see of one account, a deleted one included. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.',
  })
  async adminUser(@Arg('id', () => ID, ID_ARG) id: string, @Ctx() ctx: Context): Promise<AdminUser> {
    const user = isUuid(id) ? await ctx.em.findOne(User, { id }) : null;
    if (!user) throw notFound('User', 'id');
    return { user, status: accountStatusOf(user), deletedAt: user.deletedAt };
  }

  @Authorized(STAFF)
  // Sensitive: it mails an invitation link, so one per request.
  @Policy({ rateLimits: [perMinute('user', 20)], sensitive: true })
  @Mutation(() => User, {
    description:
      'Makes an account and mails it an invitation: its link lets the person choose a password (resetPassword with the token) and confirms the address; it lasts INVITATION_TTL (7 days by default). Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, CONFLICT (email or username taken, named in extensions.field), NOT_FOUND (tierId), RATE_LIMITED.',
  })
  adminCreateUser(
    @Arg('input', { description: 'The new account.' }) input: AdminCreateUserInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<User> {
    return this.admin.create(ctx.em, input, audit);
  }

  @Authorized(STAFF)
  @Policy({ rateLimits: [perMinute('user', 60)] })
  @Mutation(() => User, {
    description:
      "Changes an account; each change bites on the account's next request. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (id, or tierId), BAD_USER_INPUT, CONFLICT (email or username taken; a deleted account; the last live superuser), RATE_LIMITED.",
  })
  adminUpdateUser(
    @Arg('id', () => ID, ID_ARG) id: string,
    @Arg('input', { description: 'The fields to change.' }) input: AdminUpdateUserInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<User> {
    return this.admin.update(ctx.em, id, input, audit);
  }

  @Authorized(STAFF)
  @Policy({ rateLimits: [perMinute('user', 30)] })
  @Mutation(() => Boolean, {
    description:
      'Deletes an account: by default softly (as deleteMe; adminRestoreUser undoes it until the purge), or with hard: true at once and for good, with everything it owns, its audit events kept without personal data. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (the last live superuser), RATE_LIMITED.',
  })
  adminDeleteUser(
    @Arg('id', () => ID, ID_ARG) id: string,
    @Arg('hard', () => Boolean, { nullable: true, description: 'True to erase the account now (right to be forgotten); false by default.' })
    hard: boolean | null,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.admin.delete(ctx.em, id, hard === true, audit);
  }

  @Authorized(STAFF)
  @Policy({ rateLimits: [perMinute('user', 30)] })
  @Mutation(() => User, {
    description:
      'Restores a soft-deleted account (until its purge) as active; its sessions stay ended. An account that is not deleted comes back unchanged. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (no such account, or purged), RATE_LIMITED.',
  })
  adminRestoreUser(@Arg('id', () => ID, ID_ARG) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<User> {
    return this.admin.restore(ctx.em, id, audit);
  }

  @Authorized(STAFF)
  @Policy({ rateLimits: [perMinute('user', 30)] })
  @Mutation(() => Int, {
    description: "Ends every live session of an account; returns how many. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, RATE_LIMITED.",
  })
  adminRevokeSessions(@Arg('id', () => ID, ID_ARG) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<number> {
    return this.admin.revokeSessions(ctx.em, id, audit);
  }
}

/** The parts of AdminUser that cost a query each, read only when asked for. */
@Resolver(() => AdminUser)
export class AdminUserFieldsResolver {
  private readonly assessmentService: AssessmentService;
  private readonly queries: AssessmentQueries;
  private readonly accounts: AccountService;

  constructor(services: AppServices) {
    this.assessmentService = services.assessments;
    this.queries = services.assessmentQueries;
    this.accounts = services.accounts;
  }

  @FieldResolver(() => Tier, { description: "The account's tier, with its limits." })
  async tier(@Root() admin: AdminUser, @Ctx() ctx: Context): Promise<Tier> {
    return ctx.em.findOneOrFail(Tier, { id: admin.user.tierId });
  }

  @FieldResolver(() => ProfileType, { description: 'The profile, with the assessment allowance.' })
  profile(@Root() admin: AdminUser, @Ctx() ctx: Context): Promise<ProfileType> {
    return profileLoader(ctx, this.assessmentService).load(admin.user.id);
  }

  @FieldResolver(() => [SessionInfo], { description: 'The live sessions, most recently used first.' })
  async sessions(@Root() admin: AdminUser, @Ctx() ctx: Context): Promise<SessionInfo[]> {
    return this.accounts.liveSessions(ctx.em, admin.user.id, (await ctx.auth.viewer())?.sessionId);
  }

  @FieldResolver(() => AssessmentConnection, { description: "The account's assessments, newest first." })
  async assessments(
    @Root() admin: AdminUser,
    @Arg('first', () => Int, { nullable: true, description: 'How many to return, 0–100 (20 by default).' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Continue after this cursor (PageInfo.endCursor).' }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<AssessmentConnection> {
    const page = await this.queries.page(ctx.em, { kind: 'user', userId: admin.user.id }, first, after);
    return connectionOf(page, (r) => encodeCursor(r.createdAt, r.id), (r) => r as unknown as AssessmentType);
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description: 'When the account last logged in (started a session); null if never, as far as the records kept tell.',
  })
  async lastLogInAt(@Root() admin: AdminUser, @Ctx() ctx: Context): Promise<Date | null> {
    const [row] = await ctx.em.execute<Array<{ at: string | Date | null }>>(
      `select greatest(
         (select max(created_at) from sessions where user_id = ?),
         (select max(created_at) from audit_events where action = 'user.logged_in' and (actor_id = ? or target_id = ?))) as at`,
      [admin.user.id, admin.user.id, admin.user.id],
    );
    return row?.at ? new Date(row.at) : null;
  }
}
