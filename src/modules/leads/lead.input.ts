import { Field, InputType } from 'type-graphql';
import { MaxLength } from '../../graphql/input-guard';
import { OrganisationInput } from '../users/organisation';

@InputType({ description: 'The lead form. A field that breaks its rule fails with BAD_USER_INPUT naming that field.' })
export class CaptureLeadInput extends OrganisationInput {
  @Field({ description: 'Where the login link goes; stored trimmed and lower-cased. The answer is the same for every address.' })
  @MaxLength(320)
  email!: string;

  @Field(() => String, { nullable: true, description: 'The language of the emails: "en" (default) or "nb".' })
  @MaxLength(8)
  locale?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'True when the visitor agrees to marketing email; the time is recorded.' })
  marketingConsent?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Where the visitor came from (a campaign, a page), up to 64 characters.' })
  @MaxLength(128)
  source?: string | null;
}
