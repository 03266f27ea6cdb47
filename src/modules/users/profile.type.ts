import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { OrganisationInput } from './organisation';

@ObjectType('Profile', { simpleResolvers: true, description: 'What an account says about itself and its organisation, and its assessment allowance.' })
export class ProfileType {
  @Field(() => Int, { description: 'How many assessments the account may take in all: an override set by staff, else the tier limit (free 3, premium 50 by default).' })
  assessmentLimit!: number;

  @Field(() => Int, { description: 'How many more it may start: the limit less those started and not deleted.' })
  assessmentsRemaining!: number;

  @Field(() => String, { nullable: true, description: 'The company name.' })
  companyName!: string | null;

  @Field(() => String, { nullable: true, description: 'One of "1-10", "11-50", "51-200", "201-1000", "1000+".' })
  companySize!: string | null;

  @Field(() => String, { nullable: true, description: 'The person\'s full name.' })
  fullName!: string | null;

  @Field(() => String, { nullable: true, description: 'The industry; the dashboard benchmarks against it.' })
  industry!: string | null;

  @Field(() => String, { nullable: true, description: 'The job title.' })
  jobTitle!: string | null;

  @Field(() => String, { nullable: true, description: 'A phone number.' })
  phone!: string | null;
}

@InputType({
  description: 'Profile fields to change: a field left out stays as it is; an empty string clears it. BAD_USER_INPUT names a field that breaks its rule.',
})
export class UpdateProfileInput extends OrganisationInput {}
