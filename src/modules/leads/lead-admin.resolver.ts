import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Authorized } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import { Audited, type AdminAudit } from '../audit/audit';
import type { AppServices } from '../module';
import { User } from '../users/user.entity';
import { userLoader } from '../users/user.service';
import { LeadFilter, UpdateLeadInput } from './lead-admin.input';
import { connectionOf, encodeCursor } from '../../graphql/connection';
import { leadLoaders, type LeadAdminService } from './lead-admin.service';
import { LeadConnection, LeadScoreType, LeadType, type LeadRecord } from './lead-admin.type';
import type { LeadMetricsService } from './lead-metrics';
import { LeadMetrics } from './lead-metrics.type';

const STAFF_ERRORS = 'UNAUTHENTICATED (anonymous), FORBIDDEN (not an administrator, or a lead session)';

/** The staff view of leads: the list, the metrics, status and notes, erasure. Superusers only. */
@Resolver()
export class LeadAdminResolver {
  private readonly admin: LeadAdminService;
  private readonly metrics: LeadMetricsService;

  constructor(services: AppServices) {
    this.admin = services.leadAdmin;
    this.metrics = services.leadMetrics;
  }

  @Authorized('SUPERUSER')
  @Query(() => LeadConnection, {
    description: `Captured leads, newest first, with whether each converted and into which account, and its latest score. Errors: ${STAFF_ERRORS}, BAD_USER_INPUT (first over 100, bad cursor).`,
  })
  async leads(
    @Arg('first', () => Int, { nullable: true, description: 'How many to return, 0–100 (20 by default).' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Continue after this cursor (PageInfo.endCursor).' }) after: string | null,
    @Arg('filter', () => LeadFilter, { nullable: true, description: 'Only the leads that match.' }) filter: LeadFilter | null,
    @Ctx() ctx: Context,
  ): Promise<LeadConnection> {
    const page = await this.admin.page(ctx.em, filter, first, after);
    return connectionOf(page, (r) => encodeCursor(r.capturedAt, r.id), (r) => r);
  }

  @Authorized('SUPERUSER')
  @Query(() => LeadMetrics, {
    description: `Leads captured and converted, their assessments started and completed, average scores and captures per day, over a period (both ends inclusive; by default the last 30 days). Errors: ${STAFF_ERRORS}, BAD_USER_INPUT (from after to, or a period over 366 days).`,
  })
  leadMetrics(
    @Arg('from', () => Date, { nullable: true, description: 'The start of the period, inclusive (default: 30 days before `to`).' }) from: Date | null,
    @Arg('to', () => Date, { nullable: true, description: 'The end of the period, inclusive (default: now).' }) to: Date | null,
    @Ctx() ctx: Context,
  ): Promise<LeadMetrics> {
    return this.metrics.metrics(ctx.em, from, to);
  }

  @Authorized('SUPERUSER')
  @Mutation(() => LeadType, {
    description: `Sets a lead's status and notes; audited with the values before and after. Errors: ${STAFF_ERRORS}, NOT_FOUND, BAD_USER_INPUT (notes over 5000 characters, null status).`,
  })
  updateLead(
    @Arg('id', () => ID, { description: 'The lead id.' }) id: string,
    @Arg('input', () => UpdateLeadInput, { description: 'The changes.' }) input: UpdateLeadInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<LeadRecord> {
    return this.admin.update(ctx.em, id, input, audit);
  }

  @Authorized('SUPERUSER')
  @Mutation(() => Boolean, {
    description: `Erases a lead: the lead, its sessions and login links, and its assessments that did not move to an account (those that did stay with it). True once done. Errors: ${STAFF_ERRORS}, NOT_FOUND.`,
  })
  adminDeleteLead(
    @Arg('id', () => ID, { description: 'The lead id.' }) id: string,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.admin.erase(ctx.em, id, audit);
  }
}

/** The fields of a lead read from other tables, through the request's loaders. */
@Resolver(() => LeadType)
export class LeadFieldsResolver {
  @FieldResolver(() => User, {
    nullable: true,
    description: 'The account the lead converted into; null before conversion, or once that account was erased.',
  })
  convertedUser(@Root() lead: LeadRecord, @Ctx() ctx: Context): Promise<User | null> | null {
    return lead.convertedUserId ? userLoader(ctx).load(lead.convertedUserId) : null;
  }

  @FieldResolver(() => LeadScoreType, {
    nullable: true,
    description: "The latest completed assessment the lead took (in its lead session, whether or not it moved to an account since); null before the first.",
  })
  latestScore(@Root() lead: LeadRecord, @Ctx() ctx: Context): Promise<LeadScoreType | null> {
    return leadLoaders(ctx).latestScores.load(lead.id);
  }
}
