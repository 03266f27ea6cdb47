import { dictionary } from '@zxcvbn-ts/language-common';

let list: Set<string> | undefined;

/** True for a password on the public list of common passwords (case-insensitive). */
export function isCommonPassword(password: string): boolean {
  // Built on first use: only entries long enough to pass the length rule matter.
  list ??= new Set((dictionary['passwords-common'] as string[]).filter((p) => p.length >= 8).map((p) => p.toLowerCase()));
  return list.has(password.toLowerCase());
}
