import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../common/errors';
import { changesBetween, type AdminAudit } from '../audit/audit';
import { CONTENT_LIMITS as LIMITS } from './content';
import type { CategoryInput, OptionInput, QuestionInput } from './template-admin.input';
import { amount, optionalText, parseReferences, position, text } from './template-draft';
import { countUnder, lockDraft, lockDraftOf, parentIn, shiftSiblings, type Level } from './template-draft.queries';
import { AssessmentTemplate, QuestionOptionRow, TemplateCategory, TemplateQuestion } from './template.entity';
import { referencesOf } from './template.index';

/** Where an edited row is: its draft and its own id, to read it back once committed. */
export interface Edited {
  templateId: string;
  id: string;
}

const categoryFields = (c: TemplateCategory) => ({
  templateId: c.template.id,
  name: c.name,
  description: c.description,
  weight: c.weight,
  order: c.position,
});
const questionFields = (q: TemplateQuestion) => ({
  categoryId: q.category.id,
  text: q.text,
  helpText: q.helpText,
  kind: q.kind,
  weight: q.weight,
  order: q.position,
  allowsNotApplicable: q.allowsNotApplicable,
  recommendation: q.recommendation,
  references: referencesOf(q),
});
const optionFields = (o: QuestionOptionRow) => ({ questionId: o.question.id, label: o.label, points: o.points, order: o.position });

/** The fields an input sets, checked (`undefined` where it leaves a field as it is). */
function categoryPatch(input: CategoryInput) {
  return {
    name: input.name === undefined ? undefined : text('name', input.name, LIMITS.name),
    description: input.description === undefined ? undefined : optionalText('description', input.description, LIMITS.description),
    weight: input.weight === undefined ? undefined : amount('weight', input.weight),
    order: position(input.order),
  };
}

function questionPatch(input: QuestionInput) {
  if (input.kind === null || (input.kind !== undefined && input.kind !== 'SINGLE' && input.kind !== 'MULTIPLE')) {
    throw badInput('kind', 'kind: SINGLE or MULTIPLE.');
  }
  if (input.allowsNotApplicable === null) throw badInput('allowsNotApplicable', 'allowsNotApplicable: true or false.');
  return {
    text: input.text === undefined ? undefined : text('text', input.text, LIMITS.text),
    helpText: input.helpText === undefined ? undefined : optionalText('helpText', input.helpText, LIMITS.helpText),
    kind: input.kind,
    weight: input.weight === undefined ? undefined : amount('weight', input.weight),
    allowsNotApplicable: input.allowsNotApplicable,
    recommendation: input.recommendation === undefined ? undefined : text('recommendation', input.recommendation, LIMITS.recommendation),
    references: input.references === undefined ? undefined : parseReferences(input.references ?? []),
    order: position(input.order),
  };
}

function optionPatch(input: OptionInput) {
  return {
    label: input.label === undefined ? undefined : text('label', input.label, LIMITS.label),
    points: input.points === undefined ? undefined : amount('points', input.points),
    order: position(input.order),
  };
}

/** A field a new row cannot do without (its parent's id among them). */
function required<T>(value: T | null | undefined, field: string): T {
  if (value === undefined || value === null) throw badInput(field, `${field}: is required to create.`);
  return value;
}

/**
 * Edits to the categories, questions and options of a draft. Each runs in one transaction that
 * locks the draft first (see template-draft.queries.ts), keeps the positions of the rows around
 * it 1…n, and records the change in the audit log. Fields are checked before anything is locked.
 */
export class TemplateEditService {
  upsertCategory(em: EntityManager, input: CategoryInput, audit: AdminAudit): Promise<Edited> {
    const patch = categoryPatch(input);
    return em.transactional(async (tx) => {
      if (input.id == null) {
        const fields = { name: required(patch.name, 'name'), description: patch.description ?? null, weight: required(patch.weight, 'weight') };
        const template = await lockDraft(tx, required(input.templateId, 'templateId'), 'templateId');
        const at = await this.slotFor(tx, 'category', template.id, patch.order, LIMITS.categories, 'templateId');
        const row = tx.create(TemplateCategory, { template: tx.getReference(AssessmentTemplate, template.id, { wrapped: true }), position: at, ...fields });
        audit.record(tx, { targetType: 'category', targetId: row.id, changes: changesBetween({}, categoryFields(row)) });
        return { templateId: template.id, id: row.id };
      }
      const templateId = await lockDraftOf(tx, 'category', input.id, 'id');
      if (input.templateId != null && input.templateId !== templateId) throw badInput('templateId', 'templateId: a category stays in its template.');
      const row = await tx.findOneOrFail(TemplateCategory, input.id);
      const before = categoryFields(row);
      if (patch.name !== undefined) row.name = patch.name;
      if (patch.description !== undefined) row.description = patch.description;
      if (patch.weight !== undefined) row.weight = patch.weight;
      if (patch.order !== null) row.position = await this.move(tx, 'category', row.id, { from: templateId, at: row.position }, templateId, patch.order);
      audit.record(tx, { targetType: 'category', targetId: row.id, changes: changesBetween(before, categoryFields(row)) });
      return { templateId, id: row.id };
    });
  }

  upsertQuestion(em: EntityManager, input: QuestionInput, audit: AdminAudit): Promise<Edited> {
    const patch = questionPatch(input);
    return em.transactional(async (tx) => {
      if (input.id == null) {
        const references = patch.references ?? { nist: [], cis: [] };
        const fields = {
          text: required(patch.text, 'text'),
          helpText: patch.helpText ?? null,
          kind: required(patch.kind, 'kind'),
          weight: required(patch.weight, 'weight'),
          allowsNotApplicable: patch.allowsNotApplicable ?? false,
          recommendation: required(patch.recommendation, 'recommendation'),
          nist: references.nist,
          cis: references.cis,
        };
        const categoryId = required(input.categoryId, 'categoryId');
        const templateId = await lockDraftOf(tx, 'category', categoryId, 'categoryId');
        const at = await this.slotFor(tx, 'question', categoryId, patch.order, LIMITS.questions, 'categoryId');
        const row = tx.create(TemplateQuestion, { category: tx.getReference(TemplateCategory, categoryId, { wrapped: true }), position: at, ...fields });
        audit.record(tx, { targetType: 'question', targetId: row.id, changes: changesBetween({}, questionFields(row)) });
        return { templateId, id: row.id };
      }
      const templateId = await lockDraftOf(tx, 'question', input.id, 'id');
      const row = await tx.findOneOrFail(TemplateQuestion, input.id);
      const before = questionFields(row);
      const target = input.categoryId == null ? row.category.id : await parentIn(tx, 'question', input.categoryId, templateId, 'categoryId');
      if (patch.text !== undefined) row.text = patch.text;
      if (patch.helpText !== undefined) row.helpText = patch.helpText;
      if (patch.kind != null) row.kind = patch.kind;
      if (patch.weight !== undefined) row.weight = patch.weight;
      if (patch.allowsNotApplicable != null) row.allowsNotApplicable = patch.allowsNotApplicable;
      if (patch.recommendation !== undefined) row.recommendation = patch.recommendation;
      if (patch.references !== undefined) Object.assign(row, patch.references);
      if (target !== row.category.id || patch.order !== null) {
        row.position = await this.move(tx, 'question', row.id, { from: row.category.id, at: row.position }, target, patch.order, LIMITS.questions, 'categoryId');
        row.category = tx.getReference(TemplateCategory, target, { wrapped: true });
      }
      audit.record(tx, { targetType: 'question', targetId: row.id, changes: changesBetween(before, questionFields(row)) });
      return { templateId, id: row.id };
    });
  }

  upsertOption(em: EntityManager, input: OptionInput, audit: AdminAudit): Promise<Edited> {
    const patch = optionPatch(input);
    return em.transactional(async (tx) => {
      if (input.id == null) {
        const fields = { label: required(patch.label, 'label'), points: required(patch.points, 'points') };
        const questionId = required(input.questionId, 'questionId');
        const templateId = await lockDraftOf(tx, 'question', questionId, 'questionId');
        const at = await this.slotFor(tx, 'option', questionId, patch.order, LIMITS.options, 'questionId');
        const row = tx.create(QuestionOptionRow, { question: tx.getReference(TemplateQuestion, questionId, { wrapped: true }), position: at, ...fields });
        audit.record(tx, { targetType: 'option', targetId: row.id, changes: changesBetween({}, optionFields(row)) });
        return { templateId, id: row.id };
      }
      const templateId = await lockDraftOf(tx, 'option', input.id, 'id');
      const row = await tx.findOneOrFail(QuestionOptionRow, input.id);
      const before = optionFields(row);
      const target = input.questionId == null ? row.question.id : await parentIn(tx, 'option', input.questionId, templateId, 'questionId');
      if (patch.label !== undefined) row.label = patch.label;
      if (patch.points !== undefined) row.points = patch.points;
      if (target !== row.question.id || patch.order !== null) {
        row.position = await this.move(tx, 'option', row.id, { from: row.question.id, at: row.position }, target, patch.order, LIMITS.options, 'questionId');
        row.question = tx.getReference(TemplateQuestion, target, { wrapped: true });
      }
      audit.record(tx, { targetType: 'option', targetId: row.id, changes: changesBetween(before, optionFields(row)) });
      return { templateId, id: row.id };
    });
  }

  /** Deletes a category, question or option of a draft with everything under it; true once done. */
  delete(em: EntityManager, level: Level, id: string, audit: AdminAudit): Promise<boolean> {
    return em.transactional(async (tx) => {
      await lockDraftOf(tx, level, id, 'id');
      const [row, before, parentId] =
        level === 'category'
          ? await tx.findOneOrFail(TemplateCategory, id).then((r) => [r, categoryFields(r), r.template.id] as const)
          : level === 'question'
            ? await tx.findOneOrFail(TemplateQuestion, id).then((r) => [r, questionFields(r), r.category.id] as const)
            : await tx.findOneOrFail(QuestionOptionRow, id).then((r) => [r, optionFields(r), r.question.id] as const);
      await shiftSiblings(tx, level, parentId, row.position + 1, -1, row.id);
      // The rows under it go with it (on delete cascade).
      tx.remove(row);
      audit.record(tx, { targetType: level, targetId: id, changes: changesBetween(before, {}) });
      return true;
    });
  }

  /** The position a new row takes under `parentId` (at the end unless `order` says), with room made for it. */
  private async slotFor(tx: EntityManager, level: Level, parentId: string, order: number | null, max: number, field: string): Promise<number> {
    const count = await countUnder(tx, level, parentId);
    if (count >= max) throw badInput(field, `${field}: holds at most ${max} of these already.`);
    const at = Math.min(order ?? count + 1, count + 1);
    await shiftSiblings(tx, level, parentId, at, 1);
    return at;
  }

  /**
   * Moves a row to position `order` (the end when null) under `to`, which may be its own parent or
   * another of the same draft: its old siblings close the gap, its new ones make room.
   */
  private async move(
    tx: EntityManager,
    level: Level,
    id: string,
    now: { from: string; at: number },
    to: string,
    order: number | null,
    max = Infinity,
    field = 'id',
  ): Promise<number> {
    await shiftSiblings(tx, level, now.from, now.at + 1, -1, id);
    // Counted without the row itself, whichever parent it is under now.
    const others = (await countUnder(tx, level, to)) - (to === now.from ? 1 : 0);
    if (to !== now.from && others >= max) throw badInput(field, `${field}: holds at most ${max} of these already.`);
    const at = Math.min(order ?? others + 1, others + 1);
    await shiftSiblings(tx, level, to, at, 1, id);
    return at;
  }
}
