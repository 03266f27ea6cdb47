import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPLATE_LOCALES, type QuestionKind, type TemplateFile } from '../template.types';
// Imported rather than read from disk so that tsc copies them into dist/ with the compiled code.
import smbBaselineEn from './smb-baseline.en.json';
import smbBaselineNb from './smb-baseline.nb.json';

const FORMAT: TemplateFile['format'] = 'posture-template/1';
/** A template slug: 2 to 64 lowercase letters, digits or hyphens. */
export const SLUG = /^[a-z0-9-]{2,64}$/;
const KINDS: readonly QuestionKind[] = ['SINGLE', 'MULTIPLE'];

/**
 * Bounds on a template's content, the same for bundled files, imports and edits: names fit their
 * columns, and no document (or draft) grows past what one request should carry.
 */
export const CONTENT_LIMITS = {
  name: 200,
  description: 2000,
  text: 1000,
  helpText: 4000,
  recommendation: 4000,
  label: 500,
  categories: 100,
  questions: 200,
  options: 20,
  references: 30,
  weight: 1000,
} as const;

/** The keys each level of a template file may have: anything else is a typo or foreign data. */
const KEYS = {
  file: ['format', 'slug', 'locale', 'version', 'name', 'description', 'categories'],
  category: ['name', 'description', 'weight', 'questions'],
  question: ['text', 'helpText', 'kind', 'weight', 'allowsNotApplicable', 'recommendation', 'nist', 'cis', 'options'],
  option: ['label', 'points'],
} as const;

/** The templates shipped with Posture, as fresh copies; throws if one of them does not validate. */
export function bundledTemplates(): TemplateFile[] {
  return [smbBaselineEn, smbBaselineNb].map((file) => {
    const problems = validateTemplateFile(file, nistSubcategoryIds(), cisSafeguardIds());
    if (problems.length > 0) throw new Error(`Bundled template is invalid:\n${problems.join('\n')}`);
    return structuredClone(file) as TemplateFile;
  });
}

let nist: ReadonlySet<string> | undefined;
let cis: ReadonlySet<string> | undefined;

/** NIST CSF 2.0 subcategory ids (active ones only), e.g. `PR.AA-01`. */
export function nistSubcategoryIds(): ReadonlySet<string> {
  nist ??= new Set(
    lines('nist-csf-2.0.tsv')
      .slice(1)
      .map((line) => line.split('\t'))
      .filter(([, level]) => level === 'subcategory')
      .map(([id]) => id),
  );
  return nist;
}

/** CIS Controls v8 safeguard ids, e.g. `4.1` (compare as text: `3.10` is not `3.1`). */
export function cisSafeguardIds(): ReadonlySet<string> {
  cis ??= new Set(lines('cis-safeguard-ids.txt').filter((line) => !line.startsWith('#')));
  return cis;
}

function lines(name: string): string[] {
  return readFileSync(join(__dirname, name), 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
const isOptionalText = (value: unknown) => value === undefined || typeof value === 'string';
const isPositive = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0;
const quoted = (value: unknown) => String(JSON.stringify(value)).slice(0, 80);

/** Problems with an object's keys and the lengths of its text fields. */
function shapeProblems(value: Fields, keys: readonly string[], lengths: Record<string, number>): string[] {
  const problems = Object.keys(value)
    .filter((key) => !keys.includes(key))
    .map((key) => `unknown field ${quoted(key)}`);
  for (const [key, max] of Object.entries(lengths)) {
    const text = value[key];
    if (typeof text === 'string' && text.length > max) problems.push(`${key} is longer than ${max} characters`);
  }
  const { weight } = value;
  if (typeof weight === 'number' && weight > CONTENT_LIMITS.weight) problems.push(`weight ${weight} is more than ${CONTENT_LIMITS.weight}`);
  return problems;
}

const tooMany = (list: unknown[], max: number, what: string) => (list.length > max ? [`${what}: at most ${max}, not ${list.length}`] : []);

/**
 * Every problem with a template file, in words an author can act on; empty when the file is valid.
 * Framework ids are checked against the given sets, so withdrawn or mistyped ids are reported.
 */
export function validateTemplateFile(
  file: unknown,
  knownNist: ReadonlySet<string>,
  knownCis: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  if (!isObject(file)) return ['the template is not a JSON object'];

  if (file.format !== FORMAT) problems.push(`format is ${quoted(file.format)}, expected "${FORMAT}"`);
  if (typeof file.slug !== 'string' || !SLUG.test(file.slug)) {
    problems.push(`slug ${quoted(file.slug)} must be 2 to 64 lowercase letters, digits or hyphens`);
  }
  if (!TEMPLATE_LOCALES.includes(file.locale as never)) {
    problems.push(`locale ${quoted(file.locale)} must be one of ${TEMPLATE_LOCALES.join(', ')}`);
  }
  if (!Number.isInteger(file.version) || (file.version as number) < 1) {
    problems.push(`version ${quoted(file.version)} must be a positive integer`);
  }
  if (!isText(file.name)) problems.push('name is missing or empty');
  if (!isOptionalText(file.description)) problems.push('description must be text');
  problems.push(...shapeProblems(file, KEYS.file, { name: CONTENT_LIMITS.name, description: CONTENT_LIMITS.description }));

  if (!Array.isArray(file.categories) || file.categories.length === 0) {
    problems.push('categories must be a non-empty list');
    return problems;
  }
  // An oversized document is refused before its parts are looked at one by one.
  const count = tooMany(file.categories, CONTENT_LIMITS.categories, 'categories');
  if (count.length) return [...problems, ...count];

  const texts = new Map<string, string>();
  file.categories.forEach((category: unknown, c) => {
    const at = `categories[${c}]`;
    if (!isObject(category)) {
      problems.push(`${at} is not an object`);
      return;
    }
    if (!isText(category.name)) problems.push(`${at}: name is missing or empty`);
    if (!isOptionalText(category.description)) problems.push(`${at}: description must be text`);
    if (!isPositive(category.weight)) problems.push(`${at}: weight ${quoted(category.weight)} must be a number > 0`);
    problems.push(
      ...shapeProblems(category, KEYS.category, { name: CONTENT_LIMITS.name, description: CONTENT_LIMITS.description }).map((p) => `${at}: ${p}`),
    );
    if (!Array.isArray(category.questions) || category.questions.length === 0) {
      problems.push(`${at}: questions must be a non-empty list`);
      return;
    }
    const count = tooMany(category.questions, CONTENT_LIMITS.questions, 'questions');
    if (count.length) {
      problems.push(...count.map((p) => `${at}: ${p}`));
      return;
    }
    category.questions.forEach((question: unknown, q) => {
      const where = `${at}.questions[${q}]`;
      if (!isObject(question)) {
        problems.push(`${where} is not an object`);
        return;
      }
      if (isText(question.text)) {
        const key = question.text.trim().toLowerCase();
        const first = texts.get(key);
        if (first) problems.push(`${where}: the same text as ${first}`);
        else texts.set(key, where);
      } else {
        problems.push(`${where}: text is missing or empty`);
      }
      problems.push(...questionProblems(question, knownNist, knownCis).map((problem) => `${where}: ${problem}`));
    });
  });
  return problems;
}

function questionProblems(question: Fields, knownNist: ReadonlySet<string>, knownCis: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const { kind, weight, options } = question;
  if (!isOptionalText(question.helpText)) problems.push('helpText must be text');
  if (!KINDS.includes(kind as never)) problems.push(`kind ${quoted(kind)} must be SINGLE or MULTIPLE`);
  if (!isPositive(weight)) problems.push(`weight ${quoted(weight)} must be a number > 0`);
  if (question.allowsNotApplicable !== undefined && typeof question.allowsNotApplicable !== 'boolean') {
    problems.push('allowsNotApplicable must be true or false');
  }
  if (!isText(question.recommendation)) problems.push('recommendation is missing or empty');
  problems.push(
    ...shapeProblems(question, KEYS.question, {
      text: CONTENT_LIMITS.text,
      helpText: CONTENT_LIMITS.helpText,
      recommendation: CONTENT_LIMITS.recommendation,
    }),
  );

  const { nist, cis } = question;
  if (!Array.isArray(nist) || nist.length === 0) problems.push('nist must list at least one NIST CSF 2.0 subcategory');
  else if (nist.length > CONTENT_LIMITS.references) problems.push(...tooMany(nist, CONTENT_LIMITS.references, 'nist'));
  else for (const id of nist) if (!knownNist.has(id)) problems.push(`unknown NIST CSF 2.0 subcategory ${quoted(id)}`);
  if (cis !== undefined && !Array.isArray(cis)) problems.push('cis must be a list');
  else if (cis && cis.length > CONTENT_LIMITS.references) problems.push(...tooMany(cis, CONTENT_LIMITS.references, 'cis'));
  else for (const id of cis ?? []) if (!knownCis.has(id)) problems.push(`unknown CIS v8 safeguard ${quoted(id)}`);

  if (!Array.isArray(options) || options.length === 0) {
    problems.push('options must be a non-empty list');
    return problems;
  }
  if (options.length > CONTENT_LIMITS.options) return [...problems, ...tooMany(options, CONTENT_LIMITS.options, 'options')];
  const labels = new Set<string>();
  const points: number[] = [];
  options.forEach((option: unknown, o) => {
    const at = `options[${o}]`;
    if (!isObject(option)) {
      problems.push(`${at} is not an object`);
      return;
    }
    problems.push(...shapeProblems(option, KEYS.option, { label: CONTENT_LIMITS.label }).map((p) => `${at}: ${p}`));
    if (!isText(option.label)) problems.push(`${at}: label is missing or empty`);
    else if (labels.has(option.label.trim())) problems.push(`${at}: label ${quoted(option.label)} appears twice`);
    else labels.add(option.label.trim());
    if (typeof option.points !== 'number' || !Number.isFinite(option.points)) {
      problems.push(`${at}: points ${quoted(option.points)} must be a number`);
    } else {
      points.push(option.points);
      if (isPositive(weight) && (option.points < 0 || option.points > weight)) {
        problems.push(`${at}: points ${option.points} are outside [0, ${weight}]`);
      }
    }
  });

  if (isPositive(weight) && points.length === options.length) {
    if (kind === 'SINGLE' && !points.includes(weight)) {
      problems.push(`a SINGLE question needs an option worth the full weight ${weight}`);
    }
    const sum = points.reduce((total, p) => total + p, 0);
    if (kind === 'MULTIPLE' && sum < weight) {
      problems.push(`the options of a MULTIPLE question add up to ${sum}, less than the weight ${weight}`);
    }
  }
  return problems;
}
