import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType, type Connection } from '../../graphql/connection';
import { RiskLevelEnum } from '../assessments/template.type';
import type { RiskLevel } from '../assessments/template.types';
import type { LeadStatus } from './lead.entity';

export const LeadStatusEnum = { CONTACTED: 'CONTACTED', CUSTOMER: 'CUSTOMER', LOST: 'LOST', NEW: 'NEW', QUALIFIED: 'QUALIFIED' } as const satisfies Record<
  LeadStatus,
  LeadStatus
>;
registerEnumType(LeadStatusEnum, {
  name: 'LeadStatus',
  description: "Where staff stand with a lead; set with updateLead (every capture starts NEW).",
  valuesConfig: {
    CONTACTED: { description: 'Staff have been in touch.' },
    CUSTOMER: { description: 'The lead became a customer.' },
    LOST: { description: 'Not pursued any further.' },
    NEW: { description: 'Captured; nobody has acted on it yet.' },
    QUALIFIED: { description: 'Staff judge it a likely customer.' },
  },
});

/** A lead as the staff view reads it: a plain value, never a managed entity. */
export interface LeadRecord {
  id: string;
  email: string;
  fullName: string | null;
  companyName: string | null;
  jobTitle: string | null;
  phone: string | null;
  companySize: string | null;
  industry: string | null;
  source: string | null;
  locale: string;
  marketingConsent: boolean;
  marketingConsentAt: Date | null;
  status: LeadStatus;
  notes: string | null;
  capturedAt: Date;
  convertedAt: Date | null;
  convertedUserId: string | null;
}

@ObjectType('LeadScore', { simpleResolvers: true, description: "A lead's latest completed assessment, in brief." })
export class LeadScoreType {
  @Field(() => ID, { description: 'The assessment (readable by staff with the assessment query).' })
  assessmentId!: string;

  @Field({ description: 'When it was submitted.' })
  completedAt!: Date;

  @Field(() => Float, { description: 'Its percentage score, to one decimal place.' })
  percentageScore!: number;

  @Field(() => RiskLevelEnum, { description: 'The risk level of the percentage.' })
  riskLevel!: RiskLevel;
}

@ObjectType('Lead', {
  simpleResolvers: true,
  description: 'One capture of the lead form, as staff see it: what the visitor typed, where staff stand with it, and what became of it.',
})
export class LeadType {
  @Field(() => ID, { description: 'The lead id (captureLead\'s leadId).' })
  id!: string;

  @Field({ description: 'When the form was sent.' })
  capturedAt!: Date;

  @Field(() => String, { nullable: true, description: 'The company name; null when left empty.' })
  companyName!: string | null;

  @Field(() => String, { nullable: true, description: 'One of "1-10", "11-50", "51-200", "201-1000", "1000+"; null when left empty.' })
  companySize!: string | null;

  @Field(() => Date, { nullable: true, description: 'When a login link for its address was followed; null while it has not converted.' })
  convertedAt!: Date | null;

  // convertedUser and latestScore are resolved by LeadFieldsResolver, through per-request loaders.

  @Field({ description: 'The address, trimmed and lower-cased as captured.' })
  email!: string;

  @Field(() => String, { nullable: true, description: 'The full name; null when left empty.' })
  fullName!: string | null;

  @Field(() => String, { nullable: true, description: 'The industry, as typed; null when left empty.' })
  industry!: string | null;

  @Field(() => String, { nullable: true, description: 'The job title; null when left empty.' })
  jobTitle!: string | null;

  @Field({ description: 'The language of its emails: "en" or "nb".' })
  locale!: string;

  @Field({ description: 'True when the visitor agreed to marketing email.' })
  marketingConsent!: boolean;

  @Field(() => Date, { nullable: true, description: 'When the visitor agreed to marketing email; null without consent.' })
  marketingConsentAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Staff's notes, up to 5000 characters; null when none." })
  notes!: string | null;

  @Field(() => String, { nullable: true, description: 'The phone number; null when left empty.' })
  phone!: string | null;

  @Field(() => String, { nullable: true, description: 'Where the visitor came from (a campaign, a page); null when not given.' })
  source!: string | null;

  @Field(() => LeadStatusEnum, { description: 'Where staff stand with it.' })
  status!: LeadStatus;
}

export const LeadConnection = connectionType<LeadRecord>('Lead', () => LeadType, {
  edge: 'A lead in a list.',
  node: 'The lead.',
  page: 'A page of leads, newest first (Relay connection).',
  edges: 'The leads of this page.',
  total: 'How many leads match the filter in all.',
});
export type LeadConnection = Connection<LeadRecord>;
