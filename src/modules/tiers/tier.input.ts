import { Field, ID, InputType, Int } from 'type-graphql';
import { MaxLength } from '../../graphql/input-guard';
import { MAX_ASSESSMENT_LIMIT, MAX_PERIOD_SECONDS, MAX_RATE_LIMIT } from './tier.rules';

@InputType({ description: 'A tier as staff set it. A field that breaks its rule fails with BAD_USER_INPUT naming that field.' })
export class TierInput {
  @Field({ description: 'Unique (CONFLICT otherwise), 2–32 characters; trimmed.' })
  @MaxLength(128)
  name!: string;

  @Field(() => Int, { description: `Assessments an account of the tier may start over its lifetime, 0–${MAX_ASSESSMENT_LIMIT}.` })
  assessmentLimit!: number;
}

@InputType({ description: "A tier's per-user limit on one operation; set again to change it." })
export class RateLimitInput {
  @Field(() => ID, { description: 'The tier.' })
  @MaxLength(64)
  tierId!: string;

  @Field({ description: 'A query or mutation of the API, by name (e.g. "startAssessment").' })
  @MaxLength(64)
  operation!: string;

  @Field(() => Int, { description: `At most this many calls per periodSeconds for each signed-in user of the tier, 1–${MAX_RATE_LIMIT}.` })
  limit!: number;

  @Field(() => Int, { description: `The window, in seconds: 1–${MAX_PERIOD_SECONDS} (31 days).` })
  periodSeconds!: number;
}
