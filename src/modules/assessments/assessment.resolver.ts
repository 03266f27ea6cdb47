import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Authorized, CurrentOwner, CurrentViewer, Public, type Owner } from '../../graphql/access';
import type { Context, Viewer } from '../../graphql/context';
import type { AppServices } from '../module';
import type { AssessmentQueries } from './assessment.queries';
import type { AssessmentRecord } from './assessment.record';
import type { AssessmentService } from './assessment.service';
import type { SubmissionService } from './submission.service';
import {
  AnswerInput,
  AnswerType,
  AssessmentConnection,
  AssessmentType,
  CategoryScoreType,
  Dashboard,
  RecommendationType,
  SharedAssessmentType,
  ShareLink,
  StartAssessmentPayload,
} from './assessment.type';
import { answersView, categoryScoresView, questionCount, recommendationsView } from './assessment.view';
import { buildDashboard } from './dashboard';
import type { TemplateCatalog } from './template.catalog';
import { settleCaller } from './template.resolver';
import { AssessmentTemplateType } from './template.type';
import { connectionOf, encodeCursor } from '../../graphql/connection';
import type { TemplateNode } from './template.types';

const asType = (record: AssessmentRecord) => record as unknown as AssessmentType;
const LEAD_OR_ACCOUNT = { scopes: ['full', 'lead'] } as const;

@Resolver()
export class AssessmentResolver {
  private readonly assessments: AssessmentService;
  private readonly queries: AssessmentQueries;
  private readonly catalog: TemplateCatalog;
  private readonly submissions: SubmissionService;

  constructor(services: AppServices) {
    this.submissions = services.submissions;
    this.assessments = services.assessments;
    this.queries = services.assessmentQueries;
    this.catalog = services.catalog;
  }

  @Public()
  @Query(() => AssessmentType, {
    nullable: true,
    description: "An assessment, for its owner (an account or a lead session) or staff. Errors: NOT_FOUND for anyone else's, or none.",
  })
  async assessment(@Arg('id', () => ID, { description: 'The assessment id.' }) id: string, @Ctx() ctx: Context): Promise<AssessmentType> {
    return asType(await this.queries.forPrincipal(ctx.em, await ctx.auth.principal(), id));
  }

  @Authorized(LEAD_OR_ACCOUNT)
  @Query(() => AssessmentConnection, {
    description: "The caller's assessments, newest first; a lead session sees its own. Errors: UNAUTHENTICATED, BAD_USER_INPUT (first over 100, bad cursor).",
  })
  async myAssessments(
    @Arg('first', () => Int, { nullable: true, description: 'How many to return, 0–100 (20 by default).' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Continue after this cursor (PageInfo.endCursor).' }) after: string | null,
    @CurrentOwner() owner: Owner,
    @Ctx() ctx: Context,
  ): Promise<AssessmentConnection> {
    const page = await this.queries.page(ctx.em, owner, first, after);
    return connectionOf(page, (r) => encodeCursor(r.createdAt, r.id), asType);
  }

  @Authorized()
  @Query(() => Dashboard, { description: "The signed-in account's overview. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session)." })
  dashboard(@CurrentViewer() viewer: Viewer, @Ctx() ctx: Context): Promise<Dashboard> {
    const owner = { kind: 'user', userId: viewer.user.id } as const;
    return buildDashboard(ctx.em, owner, { assessments: this.assessments, queries: this.queries, catalog: this.catalog }, ctx);
  }

  @Public()
  @Query(() => SharedAssessmentType, { nullable: true, description: 'A shared result by its token; null when the token is unknown or sharing was turned off.' })
  async sharedAssessment(
    @Arg('token', { description: 'The token of a share link.' }) token: string,
    @Ctx() ctx: Context,
  ): Promise<SharedAssessmentType | null> {
    await settleCaller(ctx);
    const record = await this.queries.shared(ctx.em, token);
    if (!record) return null;
    const tree = (await this.catalog.byId(record.templateId, ctx))!;
    return {
      templateName: tree.name,
      completedAt: record.completedAt!,
      percentageScore: record.percentageScore!,
      riskLevel: record.riskLevel!,
      categoryScores: categoryScoresView(record, tree),
      recommendations: recommendationsView(record.recommendations, tree),
      attestation: record.attestation!,
    };
  }

  @Authorized(LEAD_OR_ACCOUNT)
  @Mutation(() => StartAssessmentPayload, {
    description:
      'Starts an assessment on the latest published version of a template, or resumes the one in progress on it. Errors: UNAUTHENTICATED, NOT_FOUND (no such template), ASSESSMENT_LIMIT_REACHED, RATE_LIMITED (one new start a minute, retryAfter in extensions).',
  })
  async startAssessment(
    @Arg('templateSlug', { description: 'The slug of the template to take.' }) templateSlug: string,
    @CurrentOwner() owner: Owner,
    @Ctx() ctx: Context,
  ): Promise<StartAssessmentPayload> {
    const { assessment, template } = await this.assessments.start(ctx.em, owner, templateSlug, ctx);
    return { assessment: asType(assessment), questionsCount: questionCount(template) };
  }

  @Authorized(LEAD_OR_ACCOUNT)
  @Mutation(() => AssessmentType, {
    description:
      'Saves answers to an assessment in progress, merged by question: a new answer replaces the old one. Errors: UNAUTHENTICATED, NOT_FOUND, CONFLICT (completed), BAD_USER_INPUT (field "answers", offending id in extensions.id).',
  })
  async saveAnswers(
    @Arg('assessmentId', () => ID, { description: 'The assessment id.' }) assessmentId: string,
    @Arg('answers', () => [AnswerInput], { description: 'The answers to save.' }) answers: AnswerInput[],
    @CurrentOwner() owner: Owner,
    @Ctx() ctx: Context,
  ): Promise<AssessmentType> {
    return asType(await this.submissions.save(owner, assessmentId, answers, ctx));
  }

  @Authorized(LEAD_OR_ACCOUNT)
  @Mutation(() => AssessmentType, {
    description:
      'Merges any answers given and scores the assessment. Idempotent: a completed one comes back unchanged. Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT (bad answer, or everything not applicable), RATE_LIMITED (one new submission per 5 minutes, retryAfter in extensions).',
  })
  async submitAssessment(
    @Arg('assessmentId', () => ID, { description: 'The assessment id.' }) assessmentId: string,
    @Arg('answers', () => [AnswerInput], { nullable: true, description: 'Last answers to merge before scoring.' }) answers: AnswerInput[] | null,
    @CurrentOwner() owner: Owner,
    @Ctx() ctx: Context,
  ): Promise<AssessmentType> {
    return asType(await this.submissions.submit(owner, assessmentId, answers, ctx));
  }

  @Authorized()
  @Mutation(() => ShareLink, {
    description:
      'Makes a share link for a completed assessment; a new call replaces the earlier link. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), NOT_FOUND, CONFLICT (in progress).',
  })
  shareAssessment(
    @Arg('id', () => ID, { description: 'The assessment id.' }) id: string,
    @CurrentOwner() owner: Owner,
    @Ctx() ctx: Context,
  ): Promise<ShareLink> {
    return this.assessments.share(ctx.em, owner, id);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: 'Turns the share link off; true once done. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), NOT_FOUND.',
  })
  revokeAssessmentShare(
    @Arg('id', () => ID, { description: 'The assessment id.' }) id: string,
    @CurrentOwner() owner: Owner,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.assessments.revokeShare(ctx.em, owner, id);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'Deletes an assessment in progress; it stops counting toward the limit. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), NOT_FOUND, CONFLICT (completed).',
  })
  deleteAssessment(
    @Arg('id', () => ID, { description: 'The assessment id.' }) id: string,
    @CurrentOwner() owner: Owner,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return this.assessments.delete(ctx.em, owner, id);
  }
}

@Resolver(() => AssessmentType)
export class AssessmentFieldsResolver {
  private readonly catalog: TemplateCatalog;

  constructor(services: AppServices) {
    this.catalog = services.catalog;
  }

  private async tree(record: AssessmentRecord, ctx: Context): Promise<TemplateNode> {
    const tree = await this.catalog.byId(record.templateId, ctx);
    if (!tree) throw new Error(`assessment ${record.id} points at a missing template`);
    return tree;
  }

  @FieldResolver(() => AssessmentTemplateType, { description: 'The exact template version it was taken on.' })
  async template(@Root() record: AssessmentRecord, @Ctx() ctx: Context): Promise<AssessmentTemplateType> {
    return (await this.tree(record, ctx)) as unknown as AssessmentTemplateType;
  }

  @FieldResolver(() => [AnswerType], { description: 'The saved answers, in template order.' })
  async answers(@Root() record: AssessmentRecord, @Ctx() ctx: Context): Promise<AnswerType[]> {
    return answersView(record, await this.tree(record, ctx));
  }

  @FieldResolver(() => [CategoryScoreType], { description: 'The results by category; empty while in progress.' })
  async categoryScores(@Root() record: AssessmentRecord, @Ctx() ctx: Context): Promise<CategoryScoreType[]> {
    return categoryScoresView(record, await this.tree(record, ctx));
  }

  @FieldResolver(() => [RecommendationType], { description: 'What to fix, most important first; empty while in progress.' })
  async recommendations(@Root() record: AssessmentRecord, @Ctx() ctx: Context): Promise<RecommendationType[]> {
    return recommendationsView(record.recommendations, await this.tree(record, ctx));
  }
}

