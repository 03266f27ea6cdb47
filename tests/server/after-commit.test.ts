import { newAccount, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';

// The mail worker polls once an hour here: mail that arrives at once was woken by its commit.
describe('after-commit hooks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAIL_POLL_INTERVAL: '1h' } });
  });
  afterAll(() => t.stop());

  it('a committed outbox row wakes the mail worker without a poll', async () => {
    const account = newAccount('wake');
    const res = await t.gql(SIGN_UP, { input: account });
    expect(res.errors).toBeUndefined();
    const mail = await t.inbox.waitFor(account.email, /confirm/i, { timeout: 5000 });
    expect(mail.text).toContain('verify-email?token=');
  });
});
