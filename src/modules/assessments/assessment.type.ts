import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MaxLength } from '../../graphql/input-guard';
import { connectionType, type Connection } from '../../graphql/connection';
import type { AssessmentStatus } from './assessment.entity';
import { AssessmentTemplateType, CategoryType, QuestionOptionType, QuestionType, RiskLevelEnum } from './template.type';
import type { RiskLevel } from './template.types';

export const AssessmentStatusEnum = { COMPLETED: 'COMPLETED', IN_PROGRESS: 'IN_PROGRESS' } as const satisfies Record<
  AssessmentStatus,
  AssessmentStatus
>;
registerEnumType(AssessmentStatusEnum, {
  name: 'AssessmentStatus',
  description: 'Where an assessment stands.',
  valuesConfig: {
    COMPLETED: { description: 'Submitted and scored; it no longer changes.' },
    IN_PROGRESS: { description: 'Being answered; saveAnswers and submitAssessment accept it.' },
  },
});

@InputType({ description: 'One answer: the options chosen for a question, or "not applicable".' })
export class AnswerInput {
  @Field(() => [ID], { description: 'The chosen options (ids from Question.options): one for SINGLE, any for MULTIPLE; none leaves it unanswered.' })
  optionIds!: string[];

  @Field(() => Boolean, { nullable: true, description: 'True to mark the question not applicable (only where it allows it); then send no options.' })
  notApplicable?: boolean | null;

  @Field(() => ID, { description: 'The question answered (an id from the assessment\'s template).' })
  @MaxLength(64)
  questionId!: string;
}

@ObjectType('Answer', { simpleResolvers: true, description: 'A saved answer.' })
export class AnswerType {
  @Field({ description: 'True when the question was marked not applicable.' })
  notApplicable!: boolean;

  @Field(() => QuestionType, { description: 'The question answered.' })
  question!: QuestionType;

  @Field(() => [QuestionOptionType], { description: 'The options chosen.' })
  selectedOptions!: QuestionOptionType[];
}

@ObjectType('CategoryScore', { simpleResolvers: true, description: 'The result of one category.' })
export class CategoryScoreType {
  @Field(() => CategoryType, { description: 'The category.' })
  category!: CategoryType;

  @Field(() => Float, { description: 'The most points the category could earn (questions marked not applicable left out).' })
  maxScore!: number;

  @Field(() => Float, { description: '100 × score / maxScore, to one decimal place.' })
  percentage!: number;

  @Field(() => RiskLevelEnum, { description: 'The risk level of the percentage.' })
  riskLevel!: RiskLevel;

  @Field(() => Float, { description: 'Points earned.' })
  score!: number;
}

@ObjectType('Recommendation', { simpleResolvers: true, description: 'Something to fix: a question that lost points.' })
export class RecommendationType {
  @Field(() => CategoryType, { description: 'The category of the question.' })
  category!: CategoryType;

  @Field({ description: 'What to do.' })
  detail!: string;

  @Field(() => Float, { description: 'The points the question lost.' })
  pointsLost!: number;

  @Field(() => RiskLevelEnum, { description: "The risk level of the question's category." })
  priority!: RiskLevel;

  @Field(() => [String], { description: 'NIST CSF 2.0 subcategory ids, then CIS Controls v8 safeguards as "CIS 4.1".' })
  references!: string[];

  @Field({ description: 'The question that lost points.' })
  title!: string;
}

@ObjectType('Assessment', { simpleResolvers: true, description: 'One take of an assessment template, by a lead or an account.' })
export class AssessmentType {
  @Field(() => ID, { description: 'The assessment id.' })
  id!: string;

  @Field(() => AssessmentStatusEnum, { description: 'In progress or completed.' })
  status!: AssessmentStatus;

  @Field({ description: 'When it was started.' })
  startedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was submitted; null while in progress.' })
  completedAt!: Date | null;

  @Field(() => Float, { nullable: true, description: 'Points earned; null while in progress.' })
  totalScore!: number | null;

  @Field(() => Float, { nullable: true, description: 'The most points possible, questions marked not applicable left out; null while in progress.' })
  maxPossibleScore!: number | null;

  @Field(() => Float, { nullable: true, description: '100 × totalScore / maxPossibleScore, to one decimal place; null while in progress.' })
  percentageScore!: number | null;

  @Field(() => RiskLevelEnum, { nullable: true, description: 'The risk level of the percentage; null while in progress.' })
  riskLevel!: RiskLevel | null;

  @Field(() => String, { nullable: true, description: 'The strongest and the weakest categories, in words; null while in progress.' })
  insights!: string | null;

  @Field({ description: 'True while a share link works (see shareAssessment).' })
  isShared!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'A compact JWS (typ posture-attestation+jwt) of the result, signed with a key in /.well-known/jwks.json; null while in progress.',
  })
  attestation!: string | null;

  // template, answers, categoryScores and recommendations are resolved by AssessmentFieldsResolver.
}

@ObjectType('SharedAssessment', { simpleResolvers: true, description: 'A result shared by link: nothing about who took it.' })
export class SharedAssessmentType {
  @Field({ description: 'A compact JWS of the result that partners can check against the JWKS.' })
  attestation!: string;

  @Field(() => [CategoryScoreType], { description: 'The results by category.' })
  categoryScores!: CategoryScoreType[];

  @Field({ description: 'When it was submitted.' })
  completedAt!: Date;

  @Field(() => Float, { description: 'The overall percentage, to one decimal place.' })
  percentageScore!: number;

  @Field(() => [RecommendationType], { description: 'What to fix, most important first.' })
  recommendations!: RecommendationType[];

  @Field(() => RiskLevelEnum, { description: 'The overall risk level.' })
  riskLevel!: RiskLevel;

  @Field({ description: 'The name of the template taken.' })
  templateName!: string;
}

export const AssessmentConnection = connectionType<AssessmentType>('Assessment', () => AssessmentType, {
  edge: 'An assessment in a list.',
  node: 'The assessment.',
  page: 'A page of assessments, newest first (Relay connection).',
  edges: 'The assessments of this page.',
  total: 'How many assessments there are in all.',
});
export type AssessmentConnection = Connection<AssessmentType>;

@ObjectType({ simpleResolvers: true, description: 'What startAssessment returns.' })
export class StartAssessmentPayload {
  @Field(() => AssessmentType, { description: 'The new assessment, or the one in progress on this template that was resumed.' })
  assessment!: AssessmentType;

  @Field(() => Int, { description: 'How many questions the template version has.' })
  questionsCount!: number;
}

@ObjectType({ simpleResolvers: true, description: 'A link that shows a result to anyone who has it.' })
export class ShareLink {
  @Field({ description: 'The share token (also the last part of url); for sharedAssessment.' })
  token!: string;

  @Field({ description: 'PUBLIC_URL/shared/<token>.' })
  url!: string;
}

@ObjectType({ simpleResolvers: true, description: 'One completed assessment on the trend line.' })
export class TrendPoint {
  @Field({ description: 'When it was submitted.' })
  completedAt!: Date;

  @Field(() => Float, { description: 'Its percentage score.' })
  percentageScore!: number;
}

@ObjectType({ simpleResolvers: true, description: "A category's average over the completed assessments." })
export class CategoryAverage {
  @Field(() => Float, { description: 'The average percentage, to one decimal place.' })
  averagePercentage!: number;

  @Field({ description: 'The category name.' })
  categoryName!: string;
}

@ObjectType({ simpleResolvers: true, description: 'How organisations in the same industry score on average.' })
export class IndustryBenchmark {
  @Field(() => Float, { description: 'The average percentage of their completed assessments, to one decimal place.' })
  averagePercentage!: number;

  @Field(() => Int, { description: 'How many other organisations contribute (at least 5).' })
  contributors!: number;

  @Field({ description: "The industry, as in the profile." })
  industry!: string;
}

@ObjectType({ simpleResolvers: true, description: "An account's overview of its assessments." })
export class Dashboard {
  @Field(() => Int, { description: 'How many more assessments the account may start.' })
  assessmentsRemaining!: number;

  @Field(() => [CategoryAverage], { description: 'Each category averaged over the completed assessments.' })
  categoryAverages!: CategoryAverage[];

  @Field(() => IndustryBenchmark, {
    nullable: true,
    description: "The industry average; null unless the profile names an industry in which at least 5 other organisations have completed assessments.",
  })
  industryBenchmark!: IndustryBenchmark | null;

  @Field(() => AssessmentType, { nullable: true, description: 'The latest completed assessment; null before the first.' })
  latest!: AssessmentType | null;

  @Field(() => [RecommendationType], { description: 'The most important open recommendations of the latest result (up to 5).' })
  topRecommendations!: RecommendationType[];

  @Field(() => [TrendPoint], { description: 'Every completed assessment, oldest first.' })
  trend!: TrendPoint[];
}

export { AssessmentTemplateType };
