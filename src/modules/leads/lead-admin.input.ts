import { Field, InputType } from 'type-graphql';
import { MaxLength } from '../../graphql/input-guard';
import type { LeadStatus } from './lead.entity';
import { LeadStatusEnum } from './lead-admin.type';

@InputType({ description: 'Narrows the leads listed; every field given must match (null or absent: any).' })
export class LeadFilter {
  @Field(() => Date, { nullable: true, description: 'Captured at or after this time.' })
  capturedAfter?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Captured strictly before this time.' })
  capturedBefore?: Date | null;

  @Field(() => Boolean, { nullable: true, description: 'True: only leads that converted into an account; false: only those that have not.' })
  converted?: boolean | null;

  @Field(() => String, { nullable: true, description: 'The industry, matched whole, in any case.' })
  @MaxLength(128)
  industry?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'True: only leads that agreed to marketing email; false: only those that did not.' })
  marketingConsent?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Text found in the email, the full name or the company name, in any case.' })
  @MaxLength(200)
  search?: string | null;

  @Field(() => String, { nullable: true, description: 'The source, matched whole, in any case.' })
  @MaxLength(128)
  source?: string | null;

  @Field(() => LeadStatusEnum, { nullable: true, description: 'Only leads with this status.' })
  status?: LeadStatus | null;
}

@InputType({ description: "Staff's changes to a lead; a field left out stays as it is." })
export class UpdateLeadInput {
  @Field(() => String, { nullable: true, description: 'Free text, up to 5000 characters (newlines and tabs allowed); empty or null clears them.' })
  @MaxLength(10_000)
  notes?: string | null;

  @Field(() => LeadStatusEnum, { nullable: true, description: 'The new status; null is refused.' })
  status?: LeadStatus | null;
}
