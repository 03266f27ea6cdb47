import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { QuestionKind, RiskLevel, TemplateNode } from './template.types';

export const QuestionKindEnum = { MULTIPLE: 'MULTIPLE', SINGLE: 'SINGLE' } as const satisfies Record<QuestionKind, QuestionKind>;
registerEnumType(QuestionKindEnum, {
  name: 'QuestionKind',
  description: 'How many options a question takes.',
  valuesConfig: {
    MULTIPLE: { description: 'Any number of options ("select all that apply"); their points add up to the question weight at most.' },
    SINGLE: { description: 'Exactly one option (or none, to leave it unanswered).' },
  },
});

export const RiskLevelEnum = { CRITICAL: 'CRITICAL', HIGH: 'HIGH', LOW: 'LOW', MEDIUM: 'MEDIUM' } as const satisfies Record<RiskLevel, RiskLevel>;
registerEnumType(RiskLevelEnum, {
  name: 'RiskLevel',
  description: 'A risk level from a rounded percentage score.',
  valuesConfig: {
    CRITICAL: { description: 'Below 40%.' },
    HIGH: { description: '40% to 59.9%.' },
    LOW: { description: '80% or more.' },
    MEDIUM: { description: '60% to 79.9%.' },
  },
});

export const TemplateStatusEnum = { DRAFT: 'DRAFT', PUBLISHED: 'PUBLISHED' } as const satisfies Record<TemplateNode['status'], TemplateNode['status']>;
registerEnumType(TemplateStatusEnum, {
  name: 'TemplateStatus',
  description: 'Whether a template version is still being edited or frozen.',
  valuesConfig: {
    DRAFT: { description: 'Being edited by staff, and seen by staff only; its version is the number it gets when published.' },
    PUBLISHED: { description: 'Frozen: it never changes, and new assessments start on the newest published version.' },
  },
});

@ObjectType('QuestionOption', { simpleResolvers: true, description: 'One answer a question offers.' })
export class QuestionOptionType {
  @Field(() => ID, { description: 'The option id, unique to this template version; send it in AnswerInput.optionIds.' })
  id!: string;

  @Field({ description: 'The answer as shown.' })
  label!: string;

  @Field(() => Int, { description: 'Position within the question, from 1.' })
  order!: number;

  // `points` is resolved by TemplateFieldsResolver: an answer key, shown to staff only.
}

@ObjectType('Question', { simpleResolvers: true, description: 'One question of a category.' })
export class QuestionType {
  @Field(() => ID, { description: 'The question id, unique to this template version; send it in AnswerInput.questionId.' })
  id!: string;

  @Field({ description: 'The question.' })
  text!: string;

  @Field(() => String, { nullable: true, description: 'A plain-language explanation for someone who is not a specialist.' })
  helpText!: string | null;

  @Field(() => QuestionKindEnum, { description: 'Whether one option or several may be chosen.' })
  kind!: QuestionKind;

  @Field(() => Float, { description: 'The most points the question can earn.' })
  weight!: number;

  @Field(() => Int, { description: 'Position within the category, from 1.' })
  order!: number;

  @Field({ description: 'Whether "not applicable" is accepted: such an answer leaves the question out of the score.' })
  allowsNotApplicable!: boolean;

  @Field(() => [String], { description: 'NIST CSF 2.0 subcategory ids (such as PR.AA-01) this question checks.' })
  nist!: string[];

  @Field(() => [String], { description: 'CIS Controls v8 safeguard ids (such as 4.1) this question checks; may be empty.' })
  cis!: string[];

  @Field(() => [QuestionOptionType], { description: 'The answers offered, in order.' })
  options!: QuestionOptionType[];

  // `references` and `recommendation` are resolved by QuestionFieldsResolver.
}

@ObjectType('Category', { simpleResolvers: true, description: 'A group of questions about one area of security.' })
export class CategoryType {
  @Field(() => ID, { description: 'The category id, unique to this template version.' })
  id!: string;

  @Field({ description: 'The category name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What the category covers.' })
  description!: string | null;

  @Field(() => Float, { description: 'How much a lost point here weighs when recommendations are ordered.' })
  weight!: number;

  @Field(() => Int, { description: 'Position within the template, from 1.' })
  order!: number;

  @Field(() => [QuestionType], { description: 'The questions, in order.' })
  questions!: QuestionType[];
}

@ObjectType('AssessmentTemplate', { simpleResolvers: true, description: 'One version of a questionnaire. A published version never changes.' })
export class AssessmentTemplateType {
  @Field(() => ID, { description: 'The id of this version.' })
  id!: string;

  @Field({ description: 'Names the template across its versions, e.g. "smb-baseline".' })
  slug!: string;

  @Field({ description: 'The template name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What the template assesses and for whom.' })
  description!: string | null;

  @Field({ description: 'The language of the template: "en" or "nb".' })
  locale!: string;

  @Field(() => Int, { description: 'The version number, from 1; a new version is a new set of ids. A draft has the number it will get when published.' })
  version!: number;

  @Field(() => TemplateStatusEnum, { description: 'DRAFT while staff edit it (staff only), PUBLISHED once frozen.' })
  status!: TemplateNode['status'];

  @Field(() => [CategoryType], { description: 'The categories, in order.' })
  categories!: CategoryType[];
}
