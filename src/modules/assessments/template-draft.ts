import { badInput, DomainError, ErrorCode } from '../../common/errors';
import { cisSafeguardIds, CONTENT_LIMITS, nistSubcategoryIds, validateTemplateFile } from './content';
import type { TemplateFile, TemplateNode } from './template.types';

/**
 * The pure rules of editing content: a tree as a data file (export), the checks a publish or an
 * import runs, and the checks of each field an edit sets. No I/O.
 */

/** A template version in the bundled data-file format: what exportTemplate answers and importTemplate reads. */
export function fileOf(tree: TemplateNode): TemplateFile {
  return {
    format: 'posture-template/1',
    slug: tree.slug,
    locale: tree.locale,
    version: tree.version,
    name: tree.name,
    ...(tree.description !== null ? { description: tree.description } : {}),
    categories: tree.categories.map((c) => ({
      name: c.name,
      ...(c.description !== null ? { description: c.description } : {}),
      weight: c.weight,
      questions: c.questions.map((q) => ({
        text: q.text,
        ...(q.helpText !== null ? { helpText: q.helpText } : {}),
        kind: q.kind,
        weight: q.weight,
        allowsNotApplicable: q.allowsNotApplicable,
        recommendation: q.recommendation,
        nist: [...q.nist],
        cis: [...q.cis],
        options: q.options.map((o) => ({ label: o.label, points: o.points })),
      })),
    })),
  };
}

/** The problems of a data file, with the checks the bundled files pass (points within weight, a reachable 100%, known references). */
export const templateFileProblems = (file: unknown): string[] => validateTemplateFile(file, nistSubcategoryIds(), cisSafeguardIds());

/** BAD_USER_INPUT listing every problem (in `extensions.problems`), naming the argument at fault. */
export function invalidContent(field: string, problems: readonly string[]): DomainError {
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return new DomainError(ErrorCode.BAD_USER_INPUT, `The template is not valid: ${shown}${more}.`, { field, problems: problems.slice(0, 200) });
}

/** A required text field when it is given (trimmed): not blank, within `max`. Null or blank is BAD_USER_INPUT. */
export function text(field: string, value: string | null | undefined, max: number): string {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') throw badInput(field, `${field}: must not be empty.`);
  if (trimmed.length > max) throw badInput(field, `${field}: must be at most ${max} characters.`);
  return trimmed;
}

/** An optional text field when it is given (trimmed): null or blank clears it. */
export function optionalText(field: string, value: string | null, max: number): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed.length > max) throw badInput(field, `${field}: must be at most ${max} characters.`);
  return trimmed === '' ? null : trimmed;
}

/** A weight or points: a number from 0 to CONTENT_LIMITS.weight (GraphQL's Float already refuses NaN and infinities). */
export function amount(field: string, value: number | null | undefined): number {
  if (value === null || value === undefined) throw badInput(field, `${field}: is required.`);
  if (!Number.isFinite(value) || value < 0 || value > CONTENT_LIMITS.weight) {
    throw badInput(field, `${field}: must be a number from 0 to ${CONTENT_LIMITS.weight}.`);
  }
  return value;
}

/** A position from 1; null means "at the end". */
export function position(value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw badInput('order', 'order: must be 1 or more.');
  return value;
}

/**
 * Framework references as the Question type shows them, split into the stored lists: NIST CSF 2.0
 * subcategory ids (`PR.AA-01`) and CIS v8 safeguards (`CIS 4.1`). Unknown ids are BAD_USER_INPUT
 * naming them; duplicates are dropped.
 */
export function parseReferences(references: readonly string[]): { nist: string[]; cis: string[] } {
  if (references.length > CONTENT_LIMITS.references * 2) {
    throw badInput('references', `references: at most ${CONTENT_LIMITS.references * 2}.`);
  }
  const nist = new Set<string>();
  const cis = new Set<string>();
  const unknown: string[] = [];
  for (const reference of references) {
    const value = reference.trim();
    const safeguard = /^CIS\s+(\S+)$/i.exec(value)?.[1];
    if (safeguard !== undefined && cisSafeguardIds().has(safeguard)) cis.add(safeguard);
    else if (safeguard === undefined && nistSubcategoryIds().has(value)) nist.add(value);
    else unknown.push(value.slice(0, 40));
  }
  if (unknown.length) {
    throw new DomainError(
      ErrorCode.BAD_USER_INPUT,
      `references: not a NIST CSF 2.0 subcategory (PR.AA-01) or a CIS v8 safeguard (CIS 4.1): ${unknown.slice(0, 5).join(', ')}.`,
      { field: 'references', unknown: unknown.slice(0, 20) },
    );
  }
  if (nist.size > CONTENT_LIMITS.references || cis.size > CONTENT_LIMITS.references) {
    throw badInput('references', `references: at most ${CONTENT_LIMITS.references} of each framework.`);
  }
  return { nist: [...nist], cis: [...cis] };
}
