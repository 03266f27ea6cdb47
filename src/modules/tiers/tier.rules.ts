import { badInput } from '../../common/errors';

/** An assessment limit staff may give a tier. */
export const MAX_ASSESSMENT_LIMIT = 100_000;
/**
 * The most calls a tier limit may allow per window. The limiter keeps one timestamp per counted
 * call of a user and operation, and rewrites them all on each call, so the count stays bounded.
 */
export const MAX_RATE_LIMIT = 10_000;
/** The longest window of a tier limit: 31 days. */
export const MAX_PERIOD_SECONDS = 86_400 * 31;

// Control characters, and the bidi overrides that make a name render as something else.
const UNSAFE_IN_NAME = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** A tier name, trimmed and NFC-normalized: 2–32 characters. */
export function assertTierName(name: string, field = 'name'): string {
  const trimmed = name.trim().normalize('NFC');
  const length = [...trimmed].length;
  if (length < 2 || length > 32) throw badInput(field, 'A tier name must be 2–32 characters.');
  if (UNSAFE_IN_NAME.test(trimmed)) throw badInput(field, 'The name contains characters that are not allowed.');
  return trimmed;
}

function assertWithin(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(field, `${field} must be a whole number from ${min} to ${max}.`);
  return value;
}

export const assertAssessmentLimit = (value: number, field = 'assessmentLimit') => assertWithin(value, 0, MAX_ASSESSMENT_LIMIT, field);

/** A tier limit's count and window; `operations` are the API's root fields, which it must name. */
export function assertRateLimit(
  input: { operation: string; limit: number; periodSeconds: number },
  operations: ReadonlySet<string>,
): { operation: string; limit: number; periodSeconds: number } {
  if (!operations.has(input.operation)) throw badInput('operation', 'operation must name a query or mutation of the API.');
  return {
    operation: input.operation,
    limit: assertWithin(input.limit, 1, MAX_RATE_LIMIT, 'limit'),
    periodSeconds: assertWithin(input.periodSeconds, 1, MAX_PERIOD_SECONDS, 'periodSeconds'),
  };
}
