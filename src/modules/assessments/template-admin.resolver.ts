import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { notFound } from '../../common/errors';
import { Authorized } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import { Audited, type AdminAudit } from '../audit/audit';
import type { AppServices } from '../module';
import { CategoryInput, OptionInput, QuestionInput, TemplateDraftInput } from './template-admin.input';
import type { TemplateAdminService } from './template-admin.service';
import type { Edited, TemplateEditService } from './template-edit.service';
import type { TemplateCatalog } from './template.catalog';
import { templateIndex } from './template.index';
import { AssessmentTemplateType, CategoryType, QuestionOptionType, QuestionType } from './template.type';
import type { TemplateNode } from './template.types';

const STAFF = 'SUPERUSER';
const asType = (tree: TemplateNode) => tree as unknown as AssessmentTemplateType;
const ID_ARG = { description: 'The id of the row.' } as const;
const EDIT_ERRORS = 'Errors: UNAUTHENTICATED, FORBIDDEN (not staff), NOT_FOUND, CONFLICT (a published version), BAD_USER_INPUT (naming the field).';

/** Content administration: drafts, their categories, questions and options, publishing, export and import. Staff only, audited. */
@Resolver()
export class TemplateAdminResolver {
  private readonly admin: TemplateAdminService;
  private readonly edits: TemplateEditService;
  private readonly catalog: TemplateCatalog;

  constructor(services: AppServices) {
    this.admin = services.templateAdmin;
    this.edits = services.templateEdits;
    this.catalog = services.catalog;
  }

  /** An edited row as its draft holds it once committed. */
  private async node(edited: Edited, find: (tree: TemplateNode) => unknown): Promise<never> {
    const found = find(await this.admin.read(edited.templateId));
    if (!found) throw notFound('Row', 'id');
    return found as never;
  }

  @Authorized(STAFF)
  @Query(() => [AssessmentTemplateType], {
    description: 'Every draft (staff only), with its categories, questions and options. Errors: UNAUTHENTICATED, FORBIDDEN.',
  })
  async templateDrafts(@Ctx() ctx: Context): Promise<AssessmentTemplateType[]> {
    const trees = await Promise.all((await this.admin.draftIds(ctx.em)).map((id) => this.catalog.byId(id, ctx)));
    return trees.filter((tree): tree is TemplateNode => tree !== null).map(asType);
  }

  @Authorized(STAFF)
  @Mutation(() => AssessmentTemplateType, {
    description:
      'Makes a draft: a new template (version 1), or a copy of a published version (new ids throughout) as the next version of its slug. One draft per slug. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (fromTemplateId), CONFLICT (the slug has a draft, or exists and no version of it is copied), BAD_USER_INPUT.',
  })
  async createTemplateDraft(
    @Arg('input', { description: 'The draft to make.' }) input: TemplateDraftInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<AssessmentTemplateType> {
    return asType(await this.admin.read(await this.admin.createDraft(ctx.em, input, audit, ctx)));
  }

  @Authorized(STAFF)
  @Mutation(() => CategoryType, { description: `Creates a category in a draft (no id) or changes one. ${EDIT_ERRORS}` })
  async upsertCategory(
    @Arg('input', { description: 'The category.' }) input: CategoryInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<CategoryType> {
    const edited = await this.edits.upsertCategory(ctx.em, input, audit);
    return this.node(edited, (tree) => templateIndex(tree).categories.get(edited.id));
  }

  @Authorized(STAFF)
  @Mutation(() => Boolean, { description: `Deletes a category of a draft with its questions; true once done. ${EDIT_ERRORS}` })
  deleteCategory(@Arg('id', () => ID, ID_ARG) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<boolean> {
    return this.edits.delete(ctx.em, 'category', id, audit);
  }

  @Authorized(STAFF)
  @Mutation(() => QuestionType, { description: `Creates a question in a draft (no id) or changes one, possibly moving it to another category of the draft. ${EDIT_ERRORS}` })
  async upsertQuestion(
    @Arg('input', { description: 'The question.' }) input: QuestionInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<QuestionType> {
    const edited = await this.edits.upsertQuestion(ctx.em, input, audit);
    return this.node(edited, (tree) => templateIndex(tree).questions.get(edited.id));
  }

  @Authorized(STAFF)
  @Mutation(() => Boolean, { description: `Deletes a question of a draft with its options; true once done. ${EDIT_ERRORS}` })
  deleteQuestion(@Arg('id', () => ID, ID_ARG) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<boolean> {
    return this.edits.delete(ctx.em, 'question', id, audit);
  }

  @Authorized(STAFF)
  @Mutation(() => QuestionOptionType, { description: `Creates an option in a draft (no id) or changes one, possibly moving it to another question of the draft. ${EDIT_ERRORS}` })
  async upsertOption(
    @Arg('input', { description: 'The option.' }) input: OptionInput,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<QuestionOptionType> {
    const edited = await this.edits.upsertOption(ctx.em, input, audit);
    return this.node(edited, (tree) => [...templateIndex(tree).questions.values()].flatMap((q) => q.options).find((o) => o.id === edited.id));
  }

  @Authorized(STAFF)
  @Mutation(() => Boolean, { description: `Deletes an option of a draft; true once done. ${EDIT_ERRORS}` })
  deleteOption(@Arg('id', () => ID, ID_ARG) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<boolean> {
    return this.edits.delete(ctx.em, 'option', id, audit);
  }

  @Authorized(STAFF)
  @Mutation(() => AssessmentTemplateType, {
    description:
      'Checks a draft like the bundled files (points within weight, a reachable 100%, known references) and freezes it as its version: new assessments start on it, earlier ones keep theirs. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (published already), BAD_USER_INPUT (the problems in extensions.problems).',
  })
  async publishTemplate(
    @Arg('id', () => ID, { description: 'The draft.' }) id: string,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<AssessmentTemplateType> {
    return asType(await this.admin.read(await this.admin.publish(ctx.em, id, audit)));
  }

  @Authorized(STAFF)
  @Mutation(() => GraphQLJSON, {
    description: 'A version (published or draft) in the bundled data-file format ("posture-template/1"), as importTemplate reads it. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.',
  })
  exportTemplate(@Arg('id', () => ID, { description: 'The version.' }) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<unknown> {
    return this.admin.exportTemplate(ctx.em, id, audit);
  }

  @Authorized(STAFF)
  @Mutation(() => AssessmentTemplateType, {
    description:
      "Makes a draft of the document's slug as its next version (whatever version the document names), from a data file checked like a publish. Errors: UNAUTHENTICATED, FORBIDDEN, CONFLICT (the slug has a draft), BAD_USER_INPUT (the problems in extensions.problems).",
  })
  async importTemplate(
    @Arg('document', () => GraphQLJSON, { description: 'A template in the data-file format, as exportTemplate gives it.' }) document: unknown,
    @Audited() audit: AdminAudit,
    @Ctx() ctx: Context,
  ): Promise<AssessmentTemplateType> {
    return asType(await this.admin.read(await this.admin.importTemplate(ctx.em, document, audit)));
  }

  @Authorized(STAFF)
  @Mutation(() => Boolean, {
    description: 'Discards a draft with everything in it; true once done. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (a published version is never deleted).',
  })
  deleteTemplateDraft(@Arg('id', () => ID, { description: 'The draft.' }) id: string, @Audited() audit: AdminAudit, @Ctx() ctx: Context): Promise<boolean> {
    return this.admin.deleteDraft(ctx.em, id, audit);
  }
}
