import { Secret, TOTP } from 'otpauth';
import { AUTH_FIELDS, ok, type GraphQLResponse } from '../support/graphql';
import { bearer, CHEAP_HASHING, createVerifiedUser, LOG_IN, relaxedLimits, type TestApp } from '../support/test-app';

/** The two-factor operations' limits raised (their own tests set them), and cheap hashing. */
export const MFA_RELAXED_LIMITS = [
  'completeMfaLogIn.ip=100000/60',
  'completeMfaLogIn.account=100000/60',
  'logIn.account=100000/60',
  'beginTotpEnrollment.user=100000/60',
  ...['confirmTotpEnrollment', 'disableTotp', 'regenerateRecoveryCodes'].flatMap((op) => [`${op}.ip=100000/60`, `${op}.user=100000/60`]),
];
export const MFA_TEST_ENV = { ...CHEAP_HASHING, RATE_LIMITS: relaxedLimits(...MFA_RELAXED_LIMITS) };

export const BEGIN = `mutation { beginTotpEnrollment { secret otpauthUrl qrSvg } }`;
export const CONFIRM = `mutation ($code: String!) { confirmTotpEnrollment(code: $code) { codes } }`;
export const DISABLE = `mutation ($code: String!) { disableTotp(code: $code) }`;
export const REGENERATE = `mutation ($code: String!) { regenerateRecoveryCodes(code: $code) { codes } }`;
export const COMPLETE = `mutation ($challenge: String!, $code: String!) { completeMfaLogIn(challenge: $challenge, code: $code) { ${AUTH_FIELDS} user { totpEnabled } } }`;
export const ADMIN_DISABLE = `mutation ($id: ID!) { adminDisableTotp(userId: $id) }`;
export const ME_TOTP = `{ me { id totpEnabled } }`;

export type TestUser = Awaited<ReturnType<typeof createVerifiedUser>>;

/**
 * Moves the app's clock to one second into a 30-second step, so a test has 29 seconds before the
 * step turns: "the previous step" and "two steps away" then mean what they say.
 */
export function alignToStep(t: TestApp): void {
  const into = t.clock.now().getTime() % 30_000;
  t.clock.advance((30_000 - into + 1000) / 1000);
}

/** The code an authenticator app shows for `secret`, `steps` steps from the app's now (otpauth's own defaults: SHA-1, 6 digits, 30 s). */
export const codeAt = (t: TestApp, secret: string, steps = 0): string =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: t.clock.now().getTime() + steps * 30_000 });

/** Moves to the next step, so a new code is due (a step is never accepted twice). */
export function nextStep(t: TestApp): void {
  t.clock.advance(30);
}

/** Turns two-factor on for `user` through the API; returns the secret and the recovery codes. */
export async function enroll(t: TestApp, user: TestUser): Promise<{ secret: string; codes: string[] }> {
  alignToStep(t);
  const { secret } = ok(await t.gql(BEGIN, {}, bearer(user))).beginTotpEnrollment;
  const { codes } = ok(await t.gql(CONFIRM, { code: codeAt(t, secret) }, bearer(user))).confirmTotpEnrollment;
  nextStep(t); // the confirming code's step is spent
  return { secret, codes };
}

/** A verified account with two-factor on. */
export async function createMfaUser(t: TestApp, prefix = 'mfa') {
  const user = await createVerifiedUser(t, prefix);
  return { ...user, ...(await enroll(t, user)) };
}

/** logIn with the right password; returns the response (MFA_REQUIRED when two-factor is on). */
export const logIn = (t: TestApp, user: { username: string; password: string }) =>
  t.gql(LOG_IN, { input: { usernameOrEmail: user.username, password: user.password } });

/** The challenge of an MFA_REQUIRED answer; throws for any other. */
export function challengeOf(res: GraphQLResponse): string {
  const error = res.errors?.[0];
  if (error?.extensions?.code !== 'MFA_REQUIRED' || typeof error.extensions.challenge !== 'string') {
    throw new Error(`expected MFA_REQUIRED with a challenge, got ${JSON.stringify(res.errors ?? res.data)}`);
  }
  return error.extensions.challenge;
}

/** A fresh challenge for `user` through logIn. */
export const newChallenge = async (t: TestApp, user: { username: string; password: string }) => challengeOf(await logIn(t, user));

export const complete = (t: TestApp, challenge: string, code: string) => t.gql(COMPLETE, { challenge, code });

/** Rows of a table, as counted in the database. */
export async function count(t: TestApp, table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const [row] = await t.sql<{ n: string }>(`select count(*) as n from ${table} where ${where}`, params);
  return Number(row!.n);
}
