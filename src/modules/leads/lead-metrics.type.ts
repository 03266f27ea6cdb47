import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType('LeadScoreGroup', { simpleResolvers: true, description: 'The average score of the completed assessments of one group of leads.' })
export class LeadScoreGroup {
  @Field(() => Float, { description: 'The average percentage score, to one decimal place (half away from zero).' })
  averageScore!: number;

  @Field(() => Int, { description: 'How many completed assessments the average is over.' })
  count!: number;

  @Field(() => String, { nullable: true, description: "The group: the leads' industry or company size as captured; null for leads that left it empty." })
  key!: string | null;
}

@ObjectType('LeadDayCount', { simpleResolvers: true, description: 'How many leads were captured on one day.' })
export class LeadDayCount {
  @Field(() => Int, { description: 'Leads captured that day (within the period).' })
  count!: number;

  @Field({ description: 'The day, YYYY-MM-DD, in UTC.' })
  date!: string;
}

@ObjectType('LeadMetrics', {
  simpleResolvers: true,
  description:
    "How leads did over a period (`from` to `to`, both inclusive). Leads count by capture time. Assessments are the leads' own: those taken in a lead session, including those that moved to an account when the lead converted, and not those an account started itself; they count by start or completion time.",
})
export class LeadMetrics {
  @Field(() => Int, { description: 'Completed assessments of leads completed in the period.' })
  assessmentsCompleted!: number;

  @Field(() => Int, { description: 'Assessments of leads started in the period (including ones deleted since).' })
  assessmentsStarted!: number;

  @Field(() => [LeadScoreGroup], { description: "Assessments completed in the period, averaged by the lead's company size, smallest size first, then null." })
  averageScoreByCompanySize!: LeadScoreGroup[];

  @Field(() => [LeadScoreGroup], {
    description: "Assessments completed in the period, averaged by the lead's industry (grouped in any case), alphabetically, then null.",
  })
  averageScoreByIndustry!: LeadScoreGroup[];

  @Field(() => Int, { description: 'Leads captured in the period.' })
  captured!: number;

  @Field(() => [LeadDayCount], { description: 'Leads captured each day of the period (UTC), oldest first, with a zero for a day without any.' })
  capturedPerDay!: LeadDayCount[];

  @Field(() => Float, {
    description:
      'The completed ÷ the started (assessmentsCompleted ÷ assessmentsStarted), unrounded, at most 1 (an assessment started before the period may be completed in it); 0 when none started.',
  })
  completionRate!: number;

  @Field(() => Float, { description: 'The converted ÷ the captured, unrounded, from 0 to 1; 0 when none was captured.' })
  conversionRate!: number;

  @Field(() => Int, { description: 'Leads captured in the period that have converted into an account (by now, whenever they did).' })
  converted!: number;

  @Field({ description: 'The start of the period (inclusive): as asked, or 30 days before `to`.' })
  from!: Date;

  @Field({ description: 'The end of the period (inclusive): as asked, or now.' })
  to!: Date;
}
