import { Property } from '@mikro-orm/core';
import { Field, InputType } from 'type-graphql';
import { BaseEntity } from '../../db/base.entity';
import { MaxLength } from '../../graphql/input-guard';
import { optionalCompanySize, optionalName, optionalPhone, optionalText } from '../leads/lead.rules';

export const COMPANY_SIZES = ['1-10', '11-50', '51-200', '201-1000', '1000+'] as const;
export type CompanySize = (typeof COMPANY_SIZES)[number];

type OrganisationKeys = 'fullName' | 'companyName' | 'jobTitle' | 'phone' | 'companySize' | 'industry';

/** A person and their organisation, as a lead's form and an account's profile both hold them. */
export abstract class WithOrganisation<Optional = never> extends BaseEntity<Optional | OrganisationKeys> {
  @Property({ type: 'string', length: 100, nullable: true })
  fullName: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  companyName: string | null = null;

  @Property({ type: 'string', length: 100, nullable: true })
  jobTitle: string | null = null;

  @Property({ type: 'string', length: 32, nullable: true })
  phone: string | null = null;

  @Property({ type: 'string', length: 16, nullable: true })
  companySize: CompanySize | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  industry: string | null = null;
}

export type OrganisationFields = Pick<WithOrganisation, OrganisationKeys>;

/** The organisation fields of a form (CaptureLeadInput, UpdateProfileInput extend it); each may be left out. */
// Decorated so that type-graphql lets subclasses inherit its fields; not emitted, as nothing uses it directly.
@InputType()
export abstract class OrganisationInput {
  @Field(() => String, { nullable: true, description: 'The company name, up to 100 characters.' })
  @MaxLength(200)
  companyName?: string | null;

  @Field(() => String, { nullable: true, description: 'One of "1-10", "11-50", "51-200", "201-1000", "1000+".' })
  @MaxLength(16)
  companySize?: string | null;

  @Field(() => String, { nullable: true, description: "The person's full name, 2–50 characters." })
  @MaxLength(200)
  fullName?: string | null;

  @Field(() => String, { nullable: true, description: 'The industry, up to 64 characters (e.g. "Retail"); the dashboard benchmarks against it.' })
  @MaxLength(128)
  industry?: string | null;

  @Field(() => String, { nullable: true, description: 'The job title, up to 100 characters.' })
  @MaxLength(200)
  jobTitle?: string | null;

  @Field(() => String, { nullable: true, description: 'A phone number: digits, spaces and + ( ) - ., 4–32 characters.' })
  @MaxLength(64)
  phone?: string | null;
}

/**
 * The organisation fields given in `input`, checked and normalized (an empty string clears one);
 * fields left out are not in the result. BAD_USER_INPUT names a field that breaks its rule.
 */
export function organisationFields(input: OrganisationInput): Partial<OrganisationFields> {
  const fields: Partial<OrganisationFields> = {};
  if (input.fullName !== undefined) fields.fullName = optionalName(input.fullName, 'fullName');
  if (input.companyName !== undefined) fields.companyName = optionalText(input.companyName, 'companyName', 100);
  if (input.jobTitle !== undefined) fields.jobTitle = optionalText(input.jobTitle, 'jobTitle', 100);
  if (input.phone !== undefined) fields.phone = optionalPhone(input.phone);
  if (input.companySize !== undefined) fields.companySize = optionalCompanySize(input.companySize);
  if (input.industry !== undefined) fields.industry = optionalText(input.industry, 'industry', 64);
  return fields;
}
