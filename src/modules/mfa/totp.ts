import { randomInt } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';
import { safeEqual } from '../../common/crypto';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD = 30;
const DIGITS = 6;
const ALGORITHM = 'SHA1';
/** Steps either side of now a code is accepted for (clock drift, a code typed as it turned). */
export const TOTP_WINDOW = 1;
export const ISSUER = 'Posture';

export const RECOVERY_CODE_COUNT = 10;
// Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{10}$/;

/** A new secret: 20 random bytes (the RFC's SHA-1 key size), in base32 as apps take it. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

/** The otpauth:// URI of a secret, for an app to scan (issuer Posture, the account as label). */
export const otpauthUrl = (secret: string, account: string): string =>
  new TOTP({ issuer: ISSUER, label: account, secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, period: TOTP_PERIOD }).toString();

/** The 30-second step `at` falls in. */
export const stepAt = (at: Date): number => Math.floor(at.getTime() / 1000 / TOTP_PERIOD);

/** The code of `secret` for one step (what an app shows then). */
export const totpCode = (secret: string, step: number): string =>
  HOTP.generate({ secret: Secret.fromBase32(secret), algorithm: ALGORITHM, digits: DIGITS, counter: step });

/** A code as typed: spaces dropped ("123 456"). */
export const cleanCode = (raw: string): string => raw.replace(/[\s-]+/g, '');

export const looksLikeTotpCode = (code: string): boolean => /^\d{6}$/.test(code);

/**
 * The step within the window around `now` whose code `code` is, if it is later than `after` (the
 * last step used): the earliest such, so a code typed early does not spend the steps after it.
 */
export function matchingStep(secret: string, code: string, now: Date, after: number | null): number | null {
  if (!looksLikeTotpCode(code)) return null;
  const current = stepAt(now);
  let found: number | null = null;
  // Every step in the window is computed and compared, whatever matches, so timing says nothing.
  for (let step = current + TOTP_WINDOW; step >= current - TOTP_WINDOW; step--) {
    if (safeEqual(totpCode(secret, step), code) && (after === null || step > after)) found = step;
  }
  return found;
}

/** Ten new recovery codes, `xxxxx-xxxxx` (50 random bits each). */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: 10 }, () => CROCKFORD[randomInt(CROCKFORD.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** A recovery code as stored (lower case, no dash, the look-alikes O, I and L read as 0, 1, 1); null when it cannot be one. */
export function normalizeRecoveryCode(raw: string): string | null {
  const code = cleanCode(raw).toLowerCase().replace(/o/g, '0').replace(/[il]/g, '1');
  return RECOVERY_CODE.test(code) ? code : null;
}
