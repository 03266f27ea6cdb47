import { badInput } from '../../common/errors';

export const USERNAME_PATTERN = /^[a-z0-9_]{2,20}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Control characters, and the bidi overrides that make a name render as something else.
const UNSAFE_IN_NAME = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();
export const normalizeUsername = (username: string) => username.trim().toLowerCase();

/** A login name as typed: an email (contains @) or a username, normalized the way each is stored. */
export function parseLoginName(usernameOrEmail: string): { email: string } | { username: string } {
  const value = usernameOrEmail.trim().toLowerCase();
  return value.includes('@') ? { email: value } : { username: value };
}

export function assertEmail(email: string, field = 'email'): string {
  const normalized = normalizeEmail(email);
  if (normalized.length > 254 || !EMAIL_PATTERN.test(normalized)) throw badInput(field, 'Enter a valid email address.');
  return normalized;
}

export function assertUsername(username: string, field = 'username'): string {
  const normalized = normalizeUsername(username);
  if (!USERNAME_PATTERN.test(normalized)) {
    throw badInput(field, 'Username must be 2–20 characters: lower-case letters, digits and underscores.');
  }
  return normalized;
}

export function assertName(name: string, field = 'name'): string {
  const trimmed = name.trim().normalize('NFC');
  const length = [...trimmed].length;
  if (length < 2 || length > 50) throw badInput(field, 'Name must be 2–50 characters.');
  if (UNSAFE_IN_NAME.test(trimmed)) throw badInput(field, 'Name contains characters that are not allowed.');
  return trimmed;
}

/**
 * The one definition of the account states. An existing account is not deleted: it holds its email
 * and username, whatever its status. A live account exists and is active: it may log in and act.
 */
export const EXISTING_USER = { deletedAt: null } as const;
export const LIVE_USER = { deletedAt: null, status: 'active' } as const;

/** EXISTING_USER as SQL over the users table aliased `alias`. */
export const existingUserSql = (alias: string) => `${alias}.deleted_at is null`;

/** LIVE_USER as SQL over the users table aliased `alias`. */
export const liveUserSql = (alias: string) => `${alias}.status = 'active' and ${existingUserSql(alias)}`;

export const isLiveUser = (user: { status: string; deletedAt: Date | string | null }) =>
  user.status === LIVE_USER.status && user.deletedAt === null;
