import { firstCode, ok } from '../support/graphql';
import type { TestApp } from '../support/test-app';
import { linkToken } from '../support/smtp';
import { captureLead, LOG_IN_WITH_LINK } from '../assessments/support';
import { BEGIN, challengeOf, codeAt, complete as completeMfa, CONFIRM, alignToStep, nextStep } from '../mfa/support';
import { complete, providerAccount, providerAndApp, signInWith, startAndAuthorize, type TestProvider } from './support';

// The second step on the OpenID Connect way in, and two-factor set up by someone who never proved
// the account's address.
const setup = providerAndApp();
let t: TestApp;
let provider: TestProvider;
beforeAll(() => ({ t, provider } = setup));

/** Turns two-factor on for the session `token`; returns the secret. */
async function enrollWith(token: string): Promise<string> {
  alignToStep(t);
  const { secret } = ok(await t.gql(BEGIN, {}, { token })).beginTotpEnrollment;
  ok(await t.gql(CONFIRM, { code: codeAt(t, secret) }, { token }));
  nextStep(t);
  return secret;
}

describe('completeOidcLogin with two-factor on', () => {
  it('issues no tokens: MFA_REQUIRED with a challenge, which a TOTP code then completes', async () => {
    const account = providerAccount();
    const first = ok(await signInWith(t, provider, account)).completeOidcLogin;
    const secret = await enrollWith(first.accessToken);

    const res = await signInWith(t, provider, account);
    expect(res.data ?? null).toBeNull();
    const challenge = challengeOf(res);
    const done = ok(await completeMfa(t, challenge, codeAt(t, secret))).completeMfaLogIn;
    expect(done.user).toMatchObject({ id: first.user.id, totpEnabled: true });
    // The state was spent by the first answer: replaying the callback gets nothing.
  });

  it('spends the state even when it answers MFA_REQUIRED', async () => {
    const account = providerAccount();
    const first = ok(await signInWith(t, provider, account)).completeOidcLogin;
    await enrollWith(first.accessToken);
    const cb = await startAndAuthorize(t, provider, account);
    challengeOf(await complete(t, cb));
    expect(firstCode(await complete(t, cb))).toBe('INVALID_TOKEN');
  });
});

describe('two-factor enrolled by whoever made an unverified account', () => {
  it('is removed when the owner proves the address: the owner signs in without the squatter\'s codes', async () => {
    const squatter = providerAccount({ email_verified: false });
    const made = ok(await signInWith(t, provider, squatter)).completeOidcLogin;
    expect(made.user.emailVerified).toBe(false);
    const enrolled = await t.gql(BEGIN, {}, { token: made.accessToken });
    if (enrolled.errors) {
      // An unverified account cannot enrol at all: nothing to undo.
      expect(firstCode(enrolled)).toBe('EMAIL_NOT_VERIFIED');
      return;
    }
    const secret = enrolled.data!.beginTotpEnrollment.secret as string;
    alignToStep(t);
    ok(await t.gql(CONFIRM, { code: codeAt(t, secret) }, { token: made.accessToken }));

    await captureLead(t, { email: squatter.email });
    const mail = await t.inbox.waitFor(squatter.email, /save your posture results/i);
    const res = ok(await t.gql(LOG_IN_WITH_LINK, { t: linkToken(mail, 'login') })).logInWithLink;
    expect(res.user.email).toBe(squatter.email);
    const [row] = await t.sql<{ totp_enabled_at: Date | null; secrets: string; codes: string }>(
      `select u.totp_enabled_at,
              (select count(*) from totp_credentials c where c.user_id = u.id)::text as secrets,
              (select count(*) from recovery_codes r where r.user_id = u.id)::text as codes
         from users u where u.email = ?`,
      [squatter.email],
    );
    expect(row).toEqual({ totp_enabled_at: null, secrets: '0', codes: '0' });
  });
});
