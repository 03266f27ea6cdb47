import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../logger';
import { AssessmentTemplate, QuestionOptionRow, TemplateCategory, TemplateQuestion } from './template.entity';
import type { TemplateFile } from './template.types';

/** SHA-256 of a template file's content, to notice a file that changed without a new version. */
export const checksumOf = (file: TemplateFile) => createHash('sha256').update(JSON.stringify(file)).digest('hex');

/**
 * Inserts a template file as a new version with its whole tree, in `tx`; returns its id, or null
 * when (slug, version) exists already. The template row goes first, `on conflict do nothing`, so
 * of several transactions racing on one version exactly one goes on to insert the tree.
 */
export async function insertTemplateVersion(
  tx: EntityManager,
  file: TemplateFile,
  now: Date,
  status: 'DRAFT' | 'PUBLISHED' = 'PUBLISHED',
): Promise<string | null> {
  const id = randomUUID();
  const rows = await tx.execute<Array<{ id: string }>>(
    `insert into assessment_templates (id, created_at, slug, locale, version, name, description, status, checksum, published_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (slug, version) do nothing returning id`,
    [id, now, file.slug, file.locale, file.version, file.name, file.description ?? null, status, checksumOf(file), status === 'PUBLISHED' ? now : null],
  );
  if (rows.length === 0) return null;
  const template = tx.getReference(AssessmentTemplate, id, { wrapped: true });
  const categories: Array<Partial<TemplateCategory>> = [];
  const questions: Array<Partial<TemplateQuestion>> = [];
  const options: Array<Partial<QuestionOptionRow>> = [];
  file.categories.forEach((c, ci) => {
    const categoryId = randomUUID();
    categories.push({ id: categoryId, createdAt: now, template, name: c.name, description: c.description ?? null, weight: c.weight, position: ci + 1 });
    c.questions.forEach((q, qi) => {
      const questionId = randomUUID();
      questions.push({
        id: questionId,
        createdAt: now,
        category: tx.getReference(TemplateCategory, categoryId, { wrapped: true }),
        text: q.text,
        helpText: q.helpText ?? null,
        kind: q.kind,
        weight: q.weight,
        position: qi + 1,
        allowsNotApplicable: q.allowsNotApplicable ?? false,
        recommendation: q.recommendation,
        nist: q.nist,
        cis: q.cis ?? [],
      });
      q.options.forEach((o, oi) =>
        options.push({
          id: randomUUID(),
          createdAt: now,
          question: tx.getReference(TemplateQuestion, questionId, { wrapped: true }),
          label: o.label,
          points: o.points,
          position: oi + 1,
        }),
      );
    });
  });
  // A new draft starts with no categories at all.
  if (categories.length) await tx.insertMany(TemplateCategory, categories);
  if (questions.length) await tx.insertMany(TemplateQuestion, questions);
  if (options.length) await tx.insertMany(QuestionOptionRow, options);
  return id;
}

/**
 * Loads each template file whose (slug, version) is not in the database yet, as a published
 * version; safe on several instances at once (see insertTemplateVersion). A published version is
 * never changed: a file edited without a new version is reported, not applied.
 */
export async function seedTemplates(orm: MikroORM, files: readonly TemplateFile[], clock: Clock, logger: Logger): Promise<number> {
  let loaded = 0;
  for (const file of files) {
    // A knex transaction rather than em.transactional: the ORM's runs an AsyncLocalStorage, and on
    // Node 20 the first one switches on promise tracking for the whole process (a few percent of
    // every request after it). Start-up should not be what switches it on.
    const inserted = await orm.em.getConnection().getKnex().transaction(async (trx) => {
      const tx = orm.em.fork();
      tx.setTransactionContext(trx);
      if (await insertTemplateVersion(tx, file, clock.now())) return true;
      const [existing] = await tx.execute<Array<{ checksum: string | null }>>(
        `select checksum from assessment_templates where slug = ? and version = ?`,
        [file.slug, file.version],
      );
      if (existing?.checksum && existing.checksum !== checksumOf(file)) {
        logger.warn({ slug: file.slug, version: file.version }, 'a bundled template changed without a new version; the published version stays as it was');
      }
      return false;
    });
    if (inserted) {
      loaded++;
      logger.info({ slug: file.slug, version: file.version }, 'loaded a bundled assessment template');
    }
  }
  return loaded;
}
