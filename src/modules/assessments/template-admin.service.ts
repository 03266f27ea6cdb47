import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import { badInput, conflict, notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import type { Context } from '../../graphql/context';
import { changesBetween, type AdminAudit } from '../audit/audit';
import { CONTENT_LIMITS, SLUG } from './content';
import type { TemplateDraftInput } from './template-admin.input';
import { fileOf, invalidContent, optionalText, templateFileProblems, text } from './template-draft';
import { lockDraft, lockTemplate, nextVersion, treeIn } from './template-draft.queries';
import type { TemplateCatalog } from './template.catalog';
import { checksumOf, insertTemplateVersion } from './template.seeder';
import { TEMPLATE_LOCALES, type TemplateFile, type TemplateLocale, type TemplateNode } from './template.types';

export interface TemplateAdminDeps {
  catalog: TemplateCatalog;
  clock: Clock;
}

/**
 * The life of a template version for staff: drafts made new, copied or imported, then published
 * (checked like the bundled files, and frozen), and exported in the data-file format. Every change
 * is one transaction that records itself in the audit log.
 */
export class TemplateAdminService {
  constructor(private readonly deps: TemplateAdminDeps) {}

  /** The ids of every draft, by slug. */
  async draftIds(em: EntityManager): Promise<string[]> {
    const rows = await em.execute<Array<{ id: string }>>(`select id from assessment_templates where status = 'DRAFT' order by slug, version`);
    return rows.map((r) => r.id);
  }

  /**
   * A draft: a new template as version 1, or a copy (new rows throughout) of a published version as
   * the next version of its slug, or as version 1 of a new slug. One draft per slug at a time.
   */
  async createDraft(em: EntityManager, input: TemplateDraftInput, audit: AdminAudit, ctx: Pick<Context, 'loader'>): Promise<string> {
    const source = input.fromTemplateId == null ? null : await this.publishedSource(input.fromTemplateId, ctx);
    const slug = input.slug ?? source?.slug;
    if (!slug || !SLUG.test(slug)) throw badInput('slug', 'slug: 2 to 64 lowercase letters, digits or hyphens.');
    const locale = input.locale ?? source?.locale;
    if (!TEMPLATE_LOCALES.includes(locale as TemplateLocale)) throw badInput('locale', `locale: one of ${TEMPLATE_LOCALES.join(', ')}.`);
    const name = input.name === undefined && source ? source.name : text('name', input.name, CONTENT_LIMITS.name);
    const description =
      input.description === undefined ? (source?.description ?? null) : optionalText('description', input.description, CONTENT_LIMITS.description);
    const base: TemplateFile = source ? fileOf(source) : { format: 'posture-template/1', slug, locale: locale as TemplateLocale, version: 1, name, categories: [] };

    return em.transactional(async (tx) => {
      const next = await nextVersion(tx, slug, locale as TemplateLocale);
      // A slug's versions follow one another: the next one is copied from one of its own.
      if (next.exists && source?.slug !== slug) {
        throw conflict(`The template "${slug}" exists: make its next version from one of its published versions (fromTemplateId).`, { field: 'slug' });
      }
      const { description: _, ...rest } = base;
      const file: TemplateFile = { ...rest, slug, locale: locale as TemplateLocale, version: next.version, name, ...(description !== null ? { description } : {}) };
      const id = await insertTemplateVersion(tx, file, this.deps.clock.now(), 'DRAFT');
      if (!id) throw conflict(`The template "${slug}" has a draft already: edit or publish that one.`, { field: 'slug' });
      audit.record(tx, {
        targetType: 'template',
        targetId: id,
        changes: changesBetween({}, { slug, locale, version: next.version, name, description, fromTemplateId: source?.id ?? null }),
      });
      return id;
    });
  }

  /** A draft of the document's slug as its next version, from a data file checked like a publish. */
  async importTemplate(em: EntityManager, document: unknown, audit: AdminAudit): Promise<string> {
    const problems = templateFileProblems(document);
    if (problems.length) throw invalidContent('document', problems);
    const file = document as TemplateFile;
    return em.transactional(async (tx) => {
      const { version } = await nextVersion(tx, file.slug, file.locale, 'document');
      const id = await insertTemplateVersion(tx, { ...file, version }, this.deps.clock.now(), 'DRAFT');
      if (!id) throw conflict(`The template "${file.slug}" has a draft already: edit or publish that one.`, { field: 'document' });
      audit.record(tx, {
        targetType: 'template',
        targetId: id,
        changes: changesBetween({}, { slug: file.slug, locale: file.locale, version, name: file.name, fileVersion: file.version }),
      });
      return id;
    });
  }

  /**
   * Checks a draft as the bundled files are checked and freezes it as its version: BAD_USER_INPUT
   * listing the problems, CONFLICT when it is published already. The row lock makes concurrent
   * publishes of one draft publish it once; the others find it published.
   */
  async publish(em: EntityManager, id: string, audit: AdminAudit): Promise<string> {
    return em.transactional(async (tx) => {
      const row = await lockTemplate(tx, id, 'id');
      if (row.status !== 'DRAFT') throw conflict(`Version ${row.version} of "${row.slug}" is published already.`, { field: 'id' });
      const file = fileOf(await treeIn(tx, row));
      const problems = templateFileProblems(file);
      if (problems.length) throw invalidContent('id', problems);
      const now = this.deps.clock.now();
      await tx.execute(`update assessment_templates set status = 'PUBLISHED', published_at = ?, checksum = ? where id = ?`, [now, checksumOf(file), id]);
      audit.record(tx, {
        targetType: 'template',
        targetId: id,
        changes: { ...changesBetween({ status: 'DRAFT' }, { status: 'PUBLISHED' }), slug: row.slug, version: row.version },
      });
      return id;
    });
  }

  /** A version (published or draft) in the bundled data-file format. */
  async exportTemplate(em: EntityManager, id: string, audit: AdminAudit): Promise<TemplateFile> {
    // Read fresh: an edit earlier in the same request must show in the export of a draft.
    const tree = await this.deps.catalog.byId(id);
    if (!tree) throw notFound('Template', 'id');
    audit.record(em, { targetType: 'template', targetId: id, changes: { slug: tree.slug, version: tree.version, status: tree.status } });
    await em.flush();
    return fileOf(tree);
  }

  /** Discards a draft with everything in it; a published version is never deleted (CONFLICT). */
  async deleteDraft(em: EntityManager, id: string, audit: AdminAudit): Promise<boolean> {
    return em.transactional(async (tx) => {
      const row = await lockDraft(tx, id, 'id');
      await tx.execute(`delete from assessment_templates where id = ?`, [id]);
      audit.record(tx, {
        targetType: 'template',
        targetId: id,
        changes: changesBetween({ slug: row.slug, version: row.version, name: row.name, status: row.status }, {}),
      });
      return true;
    });
  }

  /** A version, after its transaction committed: read fresh, never through a request's loaders. */
  async read(id: string): Promise<TemplateNode> {
    const tree = await this.deps.catalog.byId(id);
    if (!tree) throw notFound('Template', 'id');
    return tree;
  }

  private async publishedSource(id: string, ctx: Pick<Context, 'loader'>): Promise<TemplateNode> {
    const source = isUuid(id) ? await this.deps.catalog.byId(id, ctx) : null;
    if (!source) throw notFound('Template', 'fromTemplateId');
    if (source.status !== 'PUBLISHED') throw badInput('fromTemplateId', 'fromTemplateId: copy a published version; edit a draft in place.');
    return source;
  }
}
