import { enqueueDeferredMail } from '../../src/modules/mail/mail.outbox';
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

// Defect: a hook ran inside the committing code's own continuation, so the work it woke (the mail
// worker deciding a deferred reset: lookups, a token, rendering) competed with the answer of the
// very request that committed, and an account's existence showed in that answer's time.
describe('after-commit hooks run after the code that committed has gone on', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAIL_POLL_INTERVAL: '1h' } });
    // Stopped, a kick is only counted: no drain of its own can kick again and blur the count.
    await t.app.mailWorker.stop();
  });
  afterAll(() => t.stop());
  afterEach(() => jest.restoreAllMocks());
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it('after a flush outside a transaction', async () => {
    const kicks = jest.spyOn(t.app.mailWorker, 'kick'); // observed; the real kick still runs
    const em = t.app.orm.em.fork();
    enqueueDeferredMail(em, 'auth.verify-email', 'nobody-flush@example.com');
    await em.flush();
    expect(kicks).not.toHaveBeenCalled();
    await nextTurn();
    expect(kicks).toHaveBeenCalledTimes(1);
  });

  it('after a transaction commits, and never after a rollback', async () => {
    const kicks = jest.spyOn(t.app.mailWorker, 'kick');
    await t.app.orm.em.fork().transactional(async (tx) => {
      enqueueDeferredMail(tx, 'auth.verify-email', 'nobody-tx@example.com');
    });
    expect(kicks).not.toHaveBeenCalled();
    await nextTurn();
    expect(kicks).toHaveBeenCalledTimes(1);

    await expect(
      t.app.orm.em.fork().transactional(async (tx) => {
        enqueueDeferredMail(tx, 'auth.verify-email', 'nobody-rollback@example.com');
        await tx.flush();
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await nextTurn();
    expect(kicks).toHaveBeenCalledTimes(1);
  });
});
