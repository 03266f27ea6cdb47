import DataLoader from 'dataloader';
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

const PROFILE_COLUMNS = `user_id as "userId", full_name as "fullName", company_name as "companyName", job_title as "jobTitle",
  phone, company_size as "companySize", industry`;

/**
 * The request's loader of profiles as the API shows them, with the assessment allowance, by
 * account id (User.profile, AdminUser.profile): two statements for a whole list of accounts.
 * Plain rows, not entities, so a profile changed earlier in the request reads as it now is.
 */
export const profileLoader = (ctx: Pick<Context, 'em' | 'loader'>, assessments: AssessmentService) =>
  ctx.loader(
    'users.profiles',
    () =>
      new DataLoader<string, ProfileType>(async (ids) => {
        const [rows, allowances] = await Promise.all([
          ctx.em.execute<Array<OrganisationFields & { userId: string }>>(`select ${PROFILE_COLUMNS} from profiles where user_id in (?)`, [ids]),
          assessments.allowancesOf(ctx.em, ids),
        ]);
        const byUser = new Map(rows.map((r) => [r.userId, r]));
        return ids.map((id) => {
          const fields = byUser.get(id) ?? EMPTY;
          const { limit, used } = allowances.get(id) ?? { limit: 0, used: 0 };
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
        });
      }),
  );

@Resolver(() => User)
export class ProfileResolver {
  private readonly assessments: AssessmentService;

  constructor(services: AppServices) {
    this.assessments = services.assessments;
  }

  @FieldResolver(() => ProfileType, { description: 'The profile, with the assessment allowance.' })
  profile(@Root() user: User, @Ctx() ctx: Context): Promise<ProfileType> {
    return profileLoader(ctx, this.assessments).load(user.id);
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
    return profileLoader(ctx, this.assessments).clear(viewer.user.id).load(viewer.user.id);
  }
}
