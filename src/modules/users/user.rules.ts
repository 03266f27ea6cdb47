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
 * The one definition of the account states. Every account that exists holds its email and username,
 * whatever its status: a deleted one too, until it is purged ACCOUNT_RETENTION_DAYS later (a purge,
 * like a hard delete, removes the row). So an existing account is any row, and signUp, a login link
 * or an email change meet a deleted account's address as one in use. A live account is active and
 * not deleted: it may log in and act.
 */
export const EXISTING_USER = {} as const;
export const LIVE_USER = { deletedAt: null, status: 'active' } as const;

/** EXISTING_USER as SQL over the users table aliased `alias`. */
export const existingUserSql = (_alias: string) => 'true';

/** LIVE_USER as SQL over the users table aliased `alias`. */
export const liveUserSql = (alias: string) => `${alias}.status = 'active' and ${alias}.deleted_at is null`;

export const isLiveUser = (user: { status: string; deletedAt: Date | string | null }) =>
  user.status === LIVE_USER.status && user.deletedAt === null;

export const AVATAR_URL_MAX = 2048;

/** An avatar's address: an https URL without credentials, at most AVATAR_URL_MAX characters; null clears it. */
export function assertAvatarUrl(value: string | null, field = 'avatarUrl'): string | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw badInput(field, 'avatarUrl: enter an https URL.');
  }
  if (url.protocol !== 'https:' || !url.hostname || url.username || url.password || /\s/.test(trimmed)) {
    throw badInput(field, 'avatarUrl: enter an https URL without a user name or password.');
  }
  if (url.href.length > AVATAR_URL_MAX) throw badInput(field, `avatarUrl: at most ${AVATAR_URL_MAX} characters.`);
  return url.href;
}
