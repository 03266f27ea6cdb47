import type { EntityManager } from '@mikro-orm/postgresql';
import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Authorized, CurrentViewer } from '../../graphql/access';
import type { Context, Viewer } from '../../graphql/context';
import type { AssessmentService } from '../assessments/assessment.service';
import type { AppServices } from '../module';
import { organisationFields, type OrganisationFields } from './organisation';
import { Profile } from './profile.entity';
import { ProfileType, UpdateProfileInput } from './profile.type';
import { User } from './user.entity';

const EMPTY: OrganisationFields = { fullName: null, companyName: null, jobTitle: null, phone: null, companySize: null, industry: null };

/** An account's profile as the API shows it, with its assessment allowance (User.profile, AdminUser.profile). */
export async function profileView(em: EntityManager, assessments: AssessmentService, userId: string): Promise<ProfileType> {
  const owner = { kind: 'user', userId } as const;
  const [profile, used, limit] = await Promise.all([
    em.findOne(Profile, { user: userId }),
    assessments.countOf(em, owner),
    assessments.limitOf(em, owner),
  ]);
  const fields = profile ?? EMPTY;
  return {
    fullName: fields.fullName,
    companyName: fields.companyName,
    jobTitle: fields.jobTitle,
    phone: fields.phone,
    companySize: fields.companySize,
    industry: fields.industry,
    assessmentLimit: limit,
    assessmentsRemaining: Math.max(0, limit - used),
  };
}

@Resolver(() => User)
export class ProfileResolver {
  private readonly assessments: AssessmentService;

  constructor(services: AppServices) {
    this.assessments = services.assessments;
  }

  private view(em: EntityManager, user: Pick<User, 'id'>): Promise<ProfileType> {
    return profileView(em, this.assessments, user.id);
  }

  @FieldResolver(() => ProfileType, { description: 'The profile, with the assessment allowance.' })
  profile(@Root() user: User, @Ctx() ctx: Context): Promise<ProfileType> {
    return this.view(ctx.em, user);
  }

  @Authorized()
  @Mutation(() => ProfileType, {
    description: "Changes the signed-in account's profile. Errors: UNAUTHENTICATED, EMAIL_NOT_VERIFIED (lead session), BAD_USER_INPUT.",
  })
  async updateProfile(
    @Arg('input', { description: 'The fields to change.' }) input: UpdateProfileInput,
    @CurrentViewer() viewer: Viewer,
    @Ctx() ctx: Context,
  ): Promise<ProfileType> {
    const changes = organisationFields(input);
    await ctx.em.transactional(async (tx) => {
      const profile = (await tx.findOne(Profile, { user: viewer.user.id })) ?? tx.create(Profile, { user: viewer.user.id });
      Object.assign(profile, changes);
    });
    return this.view(ctx.em.fork(), viewer.user);
  }
}
