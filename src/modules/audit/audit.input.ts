import { Field, ID, InputType } from 'type-graphql';
import { MaxLength } from '../../graphql/input-guard';

@InputType('AuditFilter', { description: 'Narrows the audit log; every field given must match, and an absent one does not narrow.' })
export class AuditFilter {
  @Field(() => String, {
    nullable: true,
    description: 'An action name (`user.logged_in`), or a prefix ending in `.*` for a family of them (`session.*`, `admin.*`).',
  })
  @MaxLength(64)
  action?: string | null;

  @Field(() => ID, { nullable: true, description: 'The acting account.' })
  @MaxLength(64)
  actorId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The target: an account, session, assessment, lead, tier… id.' })
  @MaxLength(64)
  targetId?: string | null;

  @Field(() => Date, { nullable: true, description: 'From this time, inclusive.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Up to this time, inclusive.' })
  to?: Date | null;
}
