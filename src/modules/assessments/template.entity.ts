import { Entity, Index, ManyToOne, Property, Unique, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import type { QuestionKind, TemplateLocale } from './template.types';

/**
 * One version of an assessment template. A published version never changes: editing makes a new
 * version (new rows throughout), and an assessment points at the version it was taken on.
 */
@Entity({ tableName: 'assessment_templates' })
@Unique({ name: 'assessment_templates_slug_version_unique', properties: ['slug', 'version'] })
export class AssessmentTemplate extends BaseEntity<'description' | 'status' | 'checksum' | 'publishedAt'> {
  @Property({ type: 'string', length: 64 })
  slug!: string;

  @Property({ type: 'string', length: 8 })
  locale!: TemplateLocale;

  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'string', length: 16, default: 'PUBLISHED' })
  status: 'DRAFT' | 'PUBLISHED' = 'PUBLISHED';

  /** SHA-256 of the file it was loaded from, to notice a bundled file changed without a new version. */
  @Property({ type: 'string', length: 64, nullable: true })
  checksum: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  publishedAt: Date | null = null;
}

@Entity({ tableName: 'template_categories' })
export class TemplateCategory extends BaseEntity<'description'> {
  @ManyToOne(() => AssessmentTemplate, { ref: true, deleteRule: 'cascade', index: 'template_categories_template_id_index' })
  template!: Ref<AssessmentTemplate>;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'double' })
  weight!: number;

  @Property({ type: 'integer' })
  position!: number;
}

@Entity({ tableName: 'template_questions' })
export class TemplateQuestion extends BaseEntity<'helpText' | 'allowsNotApplicable' | 'cis'> {
  @ManyToOne(() => TemplateCategory, { ref: true, deleteRule: 'cascade', index: 'template_questions_category_id_index' })
  category!: Ref<TemplateCategory>;

  @Property({ type: 'text' })
  text!: string;

  @Property({ type: 'text', nullable: true })
  helpText: string | null = null;

  @Property({ type: 'string', length: 16 })
  kind!: QuestionKind;

  @Property({ type: 'double' })
  weight!: number;

  @Property({ type: 'integer' })
  position!: number;

  @Property({ type: 'boolean', default: false })
  allowsNotApplicable: boolean = false;

  @Property({ type: 'text' })
  recommendation!: string;

  /** NIST CSF 2.0 subcategory ids. */
  @Property({ type: 'json' })
  nist!: string[];

  /** CIS Controls v8 safeguard ids (bare). */
  @Property({ type: 'json', default: '[]' })
  cis: string[] = [];
}

@Entity({ tableName: 'question_options' })
@Index({ name: 'question_options_question_id_index', properties: ['question'] })
export class QuestionOptionRow extends BaseEntity {
  @ManyToOne(() => TemplateQuestion, { ref: true, deleteRule: 'cascade', index: false })
  question!: Ref<TemplateQuestion>;

  @Property({ type: 'text' })
  label!: string;

  /** An answer key: never a field for anyone but staff. */
  @Property({ type: 'double' })
  points!: number;

  @Property({ type: 'integer' })
  position!: number;
}
