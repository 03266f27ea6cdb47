import { firstCode, ok } from '../support/graphql';
import { linkToken, resetCode } from '../support/smtp';
import { REFRESH, type TestApp } from '../support/test-app';
import { captureLead, LOG_IN_WITH_LINK, loginLinkToken } from '../assessments/support';
import { complete, providerAccount, providerAndApp, signInWith, startAndAuthorize, type TestProvider } from './support';

// An attacker signs in with a provider that does not verify emails, using the victim's address:
// that makes an unverified account with the attacker's identity on it. When the victim later
// proves the address, whatever the unproven creator attached must go, the identity included;
// otherwise the attacker would sign in to the victim's now verified account.
const setup = providerAndApp();
let t: TestApp;
let provider: TestProvider;
beforeAll(() => ({ t, provider } = setup));

const identities = async (email: string) =>
  t.sql<{ subject: string }>(`select i.subject from user_identities i join users u on u.id = i.user_id where u.email = ?`, [email]);

/** The attacker's unverified account, made through the provider with the victim's address. */
async function squat() {
  const attacker = providerAccount({ email_verified: false });
  const made = ok(await signInWith(t, provider, attacker)).completeOidcLogin;
  expect(made.user).toMatchObject({ email: attacker.email, emailVerified: false });
  expect(await identities(attacker.email)).toEqual([{ subject: attacker.sub }]);
  return { ...attacker, session: made as { accessToken: string; refreshToken: string } };
}

/** After the victim's proof: the attacker's provider login no longer reaches the account. */
async function expectAttackerLockedOut(attacker: Awaited<ReturnType<typeof squat>>) {
  expect(await identities(attacker.email)).toEqual([]);
  const cb = await startAndAuthorize(t, provider, attacker);
  // No identity, and the provider does not verify the address: rule 5, no link to the account.
  expect(firstCode(await complete(t, cb))).toBe('CONFLICT');
}

describe('an unverified account made through a provider, then proved by the address owner', () => {
  it('loses the squatter identity when the owner follows a login link', async () => {
    const attacker = await squat();
    await captureLead(t, { email: attacker.email });
    const token = await loginLinkToken(t, attacker.email);
    ok(await t.gql(LOG_IN_WITH_LINK, { t: token }));
    await expectAttackerLockedOut(attacker);
  });

  it('loses the squatter identity when the owner resets the password', async () => {
    const attacker = await squat();
    ok(await t.gql(`mutation ($e: String!) { requestPasswordReset(email: $e) }`, { e: attacker.email }));
    const mail = await t.inbox.waitFor(attacker.email, /reset your password/i);
    expect(resetCode(mail)).toMatch(/^\d{6}$/);
    ok(await t.gql(`mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }`, {
      input: { token: linkToken(mail, 'reset-password'), newPassword: 'a long and new passphrase 42' },
    }));
    await expectAttackerLockedOut(attacker);
  });

  it('loses the squatter identity and session when the owner follows a verification link', async () => {
    const attacker = await squat();
    const squatterSession = attacker.session;
    ok(await t.gql(`mutation ($e: String!) { resendVerificationEmail(email: $e) }`, { e: attacker.email }));
    const mail = await t.inbox.waitFor(attacker.email, /verify|confirm/i);
    ok(await t.gql(`mutation ($t: String!) { verifyEmail(token: $t) }`, { t: linkToken(mail, 'verify-email') }));
    await expectAttackerLockedOut(attacker);
    // The session the provider sign-in gave the squatter ends with the owner's proof.
    expect(firstCode(await t.gql(`{ me { id } }`, {}, { token: squatterSession.accessToken }))).toBe('UNAUTHENTICATED');
    expect(firstCode(await t.gql(REFRESH, { t: squatterSession.refreshToken }))).toBe('INVALID_TOKEN');
  });

  it('cannot be given a password by the squatter: a first password needs a proved address', async () => {
    const attacker = await squat();
    const res = await t.gql(`mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken } }`, {
      input: { newPassword: 'the squatter wants in 2024' },
    }, { token: attacker.session.accessToken });
    expect(firstCode(res)).toBe('EMAIL_NOT_VERIFIED');
    const [row] = await t.sql<{ password_hash: string | null }>(`select password_hash from users where email = ?`, [attacker.email]);
    expect(row!.password_hash).toBeNull();
  });
});
