import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('LeadSession', {
  simpleResolvers: true,
  description:
    'A session for a visitor who left an email: it may take assessments and read its own, nothing else. Its access token has scope "lead" and a `sub` of "lead:<id>", never a user id. There is no refresh token.',
})
export class LeadSessionType {
  @Field({ description: 'Bearer token for the Authorization header: a signed JWT (scope "lead").' })
  accessToken!: string;

  @Field({ description: 'When the session ends: 24 hours after capture by default (LEAD_SESSION_TTL).' })
  accessTokenExpiresAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: 'What captureLead returns: the same for every email address.' })
export class CaptureLeadPayload {
  @Field({ description: 'True when this lead may start an assessment (always, for a new capture).' })
  canTakeAssessment!: boolean;

  @Field(() => ID, { description: 'The id of this capture.' })
  leadId!: string;

  @Field(() => LeadSessionType, { description: 'The lead session to take the assessment in.' })
  session!: LeadSessionType;
}
