import { Field, Float, ID, InputType, Int } from 'type-graphql';
import { MaxLength } from '../../graphql/input-guard';
import { CONTENT_LIMITS } from './content';
import { QuestionKindEnum } from './template.type';
import type { QuestionKind } from './template.types';

// Every field is optional in GraphQL so that one input serves both ways: `id` absent creates (the
// parent and the fields a row needs are then required), `id` present updates the fields given.
// A field that breaks its rule fails with BAD_USER_INPUT naming it (extensions.field).

@InputType({ description: 'A new template, or a draft of the next version copied from a published one.' })
export class TemplateDraftInput {
  @Field(() => String, {
    nullable: true,
    description: 'The template slug (2–64 lowercase letters, digits, hyphens). Required for a new template; with fromTemplateId it defaults to the source slug.',
  })
  @MaxLength(64)
  slug?: string | null;

  @Field(() => String, { nullable: true, description: 'The template name; copied from the source when left out.' })
  @MaxLength(CONTENT_LIMITS.name)
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'What the template assesses and for whom; copied from the source when left out.' })
  @MaxLength(CONTENT_LIMITS.description)
  description?: string | null;

  @Field(() => String, { nullable: true, description: 'The language: "en" or "nb". A template keeps its language across versions.' })
  @MaxLength(8)
  locale?: string | null;

  @Field(() => ID, { nullable: true, description: 'A published version to copy (new ids throughout). Without it the template is new, as version 1.' })
  fromTemplateId?: string | null;
}

@InputType({ description: 'Creates a category in a draft (no id) or changes one (id).' })
export class CategoryInput {
  @Field(() => ID, { nullable: true, description: 'The category to change; leave out to create one.' })
  id?: string | null;

  @Field(() => ID, { nullable: true, description: 'The draft to create the category in; required to create. A category stays in its template.' })
  templateId?: string | null;

  @Field(() => String, { nullable: true, description: 'The category name; required to create.' })
  @MaxLength(CONTENT_LIMITS.name)
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'What the category covers; null or blank clears it.' })
  @MaxLength(CONTENT_LIMITS.description)
  description?: string | null;

  @Field(() => Float, { nullable: true, description: 'How much a lost point here weighs in the order of recommendations, 0–1000 (above 0 to publish); required to create.' })
  weight?: number | null;

  @Field(() => Int, { nullable: true, description: 'Position within the template, from 1; the others move up or down. At the end when left out on create.' })
  order?: number | null;
}

@InputType({ description: 'Creates a question in a draft (no id) or changes one (id).' })
export class QuestionInput {
  @Field(() => ID, { nullable: true, description: 'The question to change; leave out to create one.' })
  id?: string | null;

  @Field(() => ID, { nullable: true, description: 'The category: required to create; on a change, moves the question to another category of the same draft.' })
  categoryId?: string | null;

  @Field(() => String, { nullable: true, description: 'The question; required to create.' })
  @MaxLength(CONTENT_LIMITS.text)
  text?: string | null;

  @Field(() => String, { nullable: true, description: 'A plain-language explanation; null or blank clears it.' })
  @MaxLength(CONTENT_LIMITS.helpText)
  helpText?: string | null;

  @Field(() => QuestionKindEnum, { nullable: true, description: 'SINGLE or MULTIPLE; required to create.' })
  kind?: QuestionKind | null;

  @Field(() => Float, { nullable: true, description: 'The most points the question can earn, 0–1000 (above 0 to publish); required to create.' })
  weight?: number | null;

  @Field(() => Int, { nullable: true, description: 'Position within the category, from 1; the others move up or down. At the end when left out on create.' })
  order?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether "not applicable" is accepted; false when left out on create.' })
  allowsNotApplicable?: boolean | null;

  @Field(() => String, { nullable: true, description: 'What to do when the question loses points; required to create.' })
  @MaxLength(CONTENT_LIMITS.recommendation)
  recommendation?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Framework references as Question.references shows them: NIST CSF 2.0 ids (PR.AA-01) and CIS v8 safeguards (CIS 4.1). Replaces the list; at least one NIST id to publish.',
  })
  references?: string[] | null;
}

@InputType({ description: 'Creates an option in a draft (no id) or changes one (id).' })
export class OptionInput {
  @Field(() => ID, { nullable: true, description: 'The option to change; leave out to create one.' })
  id?: string | null;

  @Field(() => ID, { nullable: true, description: 'The question: required to create; on a change, moves the option to another question of the same draft.' })
  questionId?: string | null;

  @Field(() => String, { nullable: true, description: 'The answer as shown; required to create.' })
  @MaxLength(CONTENT_LIMITS.label)
  label?: string | null;

  @Field(() => Float, { nullable: true, description: "The points it earns, 0–1000 (within the question's weight to publish); required to create." })
  points?: number | null;

  @Field(() => Int, { nullable: true, description: 'Position within the question, from 1; the others move up or down. At the end when left out on create.' })
  order?: number | null;
}
