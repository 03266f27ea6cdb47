import { badInput } from '../../common/errors';
import { TEMPLATE_LOCALES, type TemplateLocale } from '../assessments/template.types';
import { assertName } from '../users/user.rules';
import { COMPANY_SIZES, type CompanySize } from '../users/organisation';

// Control characters and bidi overrides have no place in what staff will read.
const UNSAFE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const PHONE = /^[+0-9 ().-]{4,32}$/;

// Multi-line text (staff notes) keeps tab and newline; other control characters still fail.
const UNSAFE_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** An optional free-text field: trimmed, null when empty, at most `max` characters; on one line unless `multiline`. */
export function optionalText(value: string | null | undefined, field: string, max: number, { multiline = false } = {}): string | null {
  const trimmed = value?.trim().normalize('NFC') ?? '';
  if (trimmed === '') return null;
  if ([...trimmed].length > max) throw badInput(field, `${field}: at most ${max} characters.`);
  if ((multiline ? UNSAFE_MULTILINE : UNSAFE).test(trimmed)) throw badInput(field, `${field}: contains characters that are not allowed.`);
  return trimmed;
}


export const optionalName = (value: string | null | undefined, field: string) =>
  value?.trim() ? assertName(value, field) : null;

export function optionalPhone(value: string | null | undefined, field = 'phone'): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return null;
  if (!PHONE.test(trimmed)) throw badInput(field, `${field}: digits, spaces and + ( ) - . only, 4–32 characters.`);
  return trimmed;
}

export function optionalCompanySize(value: string | null | undefined, field = 'companySize'): CompanySize | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return null;
  if (!COMPANY_SIZES.includes(trimmed as CompanySize)) throw badInput(field, `${field}: one of ${COMPANY_SIZES.join(', ')}.`);
  return trimmed as CompanySize;
}

export function localeOf(value: string | null | undefined, field = 'locale'): TemplateLocale {
  const trimmed = value?.trim().toLowerCase() ?? '';
  if (trimmed === '') return 'en';
  if (!TEMPLATE_LOCALES.includes(trimmed as TemplateLocale)) throw badInput(field, `${field}: "en" or "nb".`);
  return trimmed as TemplateLocale;
}

/**
 * A username from an email's local part: lower-case letters, digits and underscores, 2–16
 * characters, to which a numeric suffix is added when taken.
 */
export function usernameBase(email: string): string {
  const local = email.split('@')[0] ?? '';
  const base = local
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // å → a, é → e
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 15);
  return base.length >= 2 ? base : `user${base}`;
}

/** A display name for an account made from an email alone: the local part, tidied. */
export function nameFromEmail(email: string): string {
  const local = (email.split('@')[0] ?? '').replace(/[._+-]+/g, ' ').trim().slice(0, 50);
  const name = local.replace(/\b\p{L}/gu, (c) => c.toUpperCase());
  return [...name].length >= 2 && !UNSAFE.test(name) ? name : 'Posture user';
}
