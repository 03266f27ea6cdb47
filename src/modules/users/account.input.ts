import { Field, ID, InputType, Int } from 'type-graphql';
import { MaxLength } from '../../graphql/input-guard';
import { AccountStatus } from './account.type';
import { AVATAR_URL_MAX } from './user.rules';

// Lengths here only bound the payload; the rules live in user.rules.ts, applied by the services.

@InputType({
  description:
    'Changes to the signed-in account: a field left out (or null, but avatarUrl) stays as it is. BAD_USER_INPUT names a field that breaks its rule.',
})
export class UpdateMeInput {
  @Field(() => String, { nullable: true, description: 'The display name, 2–50 characters.' })
  @MaxLength(200)
  name?: string | null;

  @Field(() => String, { nullable: true, description: '2–20 lower-case letters, digits and underscores. CONFLICT (field "username") when taken.' })
  @MaxLength(64)
  username?: string | null;

  @Field(() => String, { nullable: true, description: 'An https URL of a picture, up to 2048 characters; null or "" removes it.' })
  @MaxLength(AVATAR_URL_MAX)
  avatarUrl?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A new email address. Nothing changes yet: a confirmation link goes to the new address (confirmEmailChange) and a notice to the current one.',
  })
  @MaxLength(320)
  email?: string | null;
}

@InputType({ description: 'A new account made by staff. BAD_USER_INPUT names a field that breaks its rule; CONFLICT names a taken email or username.' })
export class AdminCreateUserInput {
  @Field({ description: 'Where the invitation goes; it must not belong to another account (a deleted one included).' })
  @MaxLength(320)
  email!: string;

  @Field({ description: '2–20 lower-case letters, digits and underscores.' })
  @MaxLength(64)
  username!: string;

  @Field({ description: 'The display name, 2–50 characters.' })
  @MaxLength(200)
  name!: string;

  @Field(() => ID, { nullable: true, description: 'The tier (Tier.id); the default tier when left out. NOT_FOUND (field "tierId") for none.' })
  @MaxLength(64)
  tierId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'True to make an administrator; false by default.' })
  isSuperuser?: boolean | null;
}

@InputType({
  description:
    'Changes staff make to an account: a field left out (or null, but assessmentLimit) stays as it is. BAD_USER_INPUT names a field that breaks its rule.',
})
export class AdminUpdateUserInput {
  @Field(() => String, { nullable: true, description: 'The display name, 2–50 characters.' })
  @MaxLength(200)
  name?: string | null;

  @Field(() => String, { nullable: true, description: '2–20 lower-case letters, digits and underscores; CONFLICT when taken.' })
  @MaxLength(64)
  username?: string | null;

  @Field(() => String, { nullable: true, description: 'The email address, set at once (staff vouch for it); CONFLICT when another account has it.' })
  @MaxLength(320)
  email?: string | null;

  @Field(() => ID, { nullable: true, description: 'The tier (Tier.id); it bites on the account\'s next request. NOT_FOUND (field "tierId") for none.' })
  @MaxLength(64)
  tierId?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Administrator or not. Demoting ends the account\'s sessions; CONFLICT when it would leave no live superuser.',
  })
  isSuperuser?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'True disables the account (its sessions end at once, logIn refuses it); false enables it. CONFLICT for the last live superuser.',
  })
  disabled?: boolean | null;

  @Field(() => Int, { nullable: true, description: "Overrides the tier's assessment limit for this account, 0–100000; null goes back to the tier's." })
  assessmentLimit?: number | null;
}

@InputType({ description: 'Which accounts to list; every field given must match.' })
export class UserFilter {
  @Field(() => String, { nullable: true, description: 'Text found (in any case) in the email, username or name.' })
  @MaxLength(320)
  search?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only accounts on this tier.' })
  @MaxLength(64)
  tierId?: string | null;

  @Field(() => AccountStatus, { nullable: true, description: 'Only accounts in this state.' })
  status?: AccountStatus | null;

  @Field(() => Boolean, { nullable: true, description: 'Only accounts whose address is (true) or is not (false) confirmed.' })
  emailVerified?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Only administrators (true) or only other accounts (false).' })
  isSuperuser?: boolean | null;
}
