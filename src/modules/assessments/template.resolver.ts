import { Arg, Ctx, FieldResolver, Float, Int, Query, Resolver, Root } from 'type-graphql';
import { badInput } from '../../common/errors';
import { Public } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import type { AppServices } from '../module';
import { referencesOf } from './template.index';
import type { TemplateCatalog } from './template.catalog';
import { AssessmentTemplateType, QuestionOptionType, QuestionType } from './template.type';
import { TEMPLATE_LOCALES, type OptionNode, type QuestionNode, type TemplateLocale } from './template.types';

/** Reads the caller first, so that fields further down (option points) know whether staff asks. */
export const settleCaller = (ctx: Context) => ctx.auth.principal().catch(() => null);

@Resolver()
export class TemplateResolver {
  private readonly catalog: TemplateCatalog;

  constructor(services: AppServices) {
    this.catalog = services.catalog;
  }

  @Public()
  @Query(() => [AssessmentTemplateType], {
    description: 'The latest published version of every template, in one language or all. Errors: BAD_USER_INPUT (unknown locale).',
  })
  async assessmentTemplates(
    @Arg('locale', () => String, { nullable: true, description: 'Only templates in this language: "en" or "nb".' }) locale: string | null,
    @Ctx() ctx: Context,
  ): Promise<AssessmentTemplateType[]> {
    if (locale != null && !TEMPLATE_LOCALES.includes(locale as TemplateLocale)) throw badInput('locale', 'locale: "en" or "nb".');
    await settleCaller(ctx);
    return (await this.catalog.latest((locale as TemplateLocale) ?? null, ctx)) as unknown as AssessmentTemplateType[];
  }

  @Public()
  @Query(() => AssessmentTemplateType, {
    nullable: true,
    description: 'A template with its categories, questions and options: the given version, or the latest published. Null when there is none.',
  })
  async assessmentTemplate(
    @Arg('slug', { description: 'The template slug, e.g. "smb-baseline".' }) slug: string,
    @Arg('version', () => Int, { nullable: true, description: 'A version number; the latest published when left out.' }) version: number | null,
    @Ctx() ctx: Context,
  ): Promise<AssessmentTemplateType | null> {
    await settleCaller(ctx);
    // A draft is content in the making: staff only.
    const tree = await this.catalog.bySlug(slug, version, ctx, { drafts: ctx.auth.isStaff });
    return tree as unknown as AssessmentTemplateType | null;
  }
}

@Resolver(() => QuestionOptionType)
export class QuestionOptionFieldsResolver {
  @FieldResolver(() => Float, { nullable: true, description: 'The points the option earns: an answer key, so null for everyone but staff.' })
  points(@Root() option: OptionNode, @Ctx() ctx: Context): number | null {
    return ctx.auth.isStaff ? option.points : null;
  }
}

@Resolver(() => QuestionType)
export class QuestionFieldsResolver {
  @FieldResolver(() => [String], { description: 'Framework references: NIST CSF 2.0 subcategory ids, then CIS Controls v8 safeguards as "CIS 4.1".' })
  references(@Root() question: QuestionNode): string[] {
    return referencesOf(question);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'What to do when the question loses points, as results show it: null for everyone but staff, who edit it.',
  })
  recommendation(@Root() question: QuestionNode, @Ctx() ctx: Context): string | null {
    return ctx.auth.isStaff ? question.recommendation : null;
  }
}
