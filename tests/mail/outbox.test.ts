import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/eventually';
import { codes } from '../support/graphql';
import { linkToken, TestInbox } from '../support/smtp';
import { CHEAP_HASHING, createTestDatabase, newAccount, SIGN_UP, startTestApp, type TestApp, type TestDatabase } from '../support/test-app';

interface OutboxRow {
  id: string;
  template: string;
  recipient: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  payload: Record<string, unknown> | null;
  last_error: string | null;
  sent_at: string | null;
}

const MAIL_ENV = { MAIL_RETRY_DELAY: '1s', MAIL_POLL_INTERVAL: '1s', ...CHEAP_HASHING };
const REQUEST_RESET = `mutation ($email: String!) { requestPasswordReset(email: $email) }`;

let db: TestDatabase;
let inbox: TestInbox;
let t: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  inbox = await new TestInbox().start();
  t = await startTestApp({ db, inbox, env: MAIL_ENV });
});
afterAll(async () => {
  await t?.stop();
  await inbox?.stop();
  await db?.drop();
});

function rowsFor(app: TestApp, recipient: string): Promise<OutboxRow[]> {
  return app.app.orm.em
    .fork()
    .execute<OutboxRow[]>('select * from outbox_emails where recipient = ? order by created_at', [recipient]);
}

describe('the mail outbox', () => {
  it('commits the email with the sign-up, and clears the payload once it is sent', async () => {
    await t.app.mailWorker.stop();
    const account = newAccount('ob');
    try {
      expect((await t.gql(SIGN_UP, { input: account })).errors).toBeUndefined();
      const [queued, ...rest] = await rowsFor(t, account.email);
      expect(rest).toEqual([]);
      expect(queued).toMatchObject({ template: 'verify-email', status: 'pending', attempts: 0, sent_at: null });
      expect(queued!.payload).toMatchObject({ template: 'verify-email', to: account.email, name: account.name });
      expect(String(queued!.payload!.verifyUrl)).toMatch(/\/verify-email\?token=/);
    } finally {
      t.app.mailWorker.start();
    }

    const mail = await inbox.waitFor(account.email, /confirm your email/i);
    const [sent] = await eventually(async () => {
      const rows = await rowsFor(t, account.email);
      expect(rows[0]!.status).toBe('sent');
      return rows;
    });
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, payload: null, last_error: null });
    expect(sent!.sent_at).not.toBeNull();
    // The secret now exists only in the delivered email.
    expect(linkToken(mail, 'verify-email')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('does not create the account when its email cannot be queued', async () => {
    const account = newAccount('ob');
    const em = t.app.orm.em.fork();
    await t.app.mailWorker.stop();
    await em.execute('alter table outbox_emails rename to outbox_emails_x');
    let res;
    try {
      res = await t.gql(SIGN_UP, { input: account });
    } finally {
      await em.execute('alter table outbox_emails_x rename to outbox_emails');
      t.app.mailWorker.start();
    }
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    const users = await em.execute('select id from users where email = ?', [account.email]);
    expect(users).toEqual([]);

    // Nothing half-done stands in the way of trying again.
    expect((await t.gql(SIGN_UP, { input: account })).errors).toBeUndefined();
    await inbox.waitFor(account.email, /confirm your email/i);
  });

  it('delays mail while SMTP is down, without failing the request, and delivers it exactly once when SMTP returns', async () => {
    await inbox.stop();
    const account = newAccount('down');
    try {
      const started = Date.now();
      const res = await t.gql(SIGN_UP, { input: account });
      expect(res.errors).toBeUndefined();
      expect(res.data!.signUp.user.email).toBe(account.email);
      expect(Date.now() - started).toBeLessThan(5000);

      const [failing] = await eventually(async () => {
        const rows = await rowsFor(t, account.email);
        expect(rows[0]!.attempts).toBeGreaterThanOrEqual(1);
        expect(rows[0]!.last_error).not.toBeNull();
        return rows;
      });
      expect(failing).toMatchObject({ template: 'verify-email', status: 'pending' });
      expect(failing!.payload).not.toBeNull();
    } finally {
      await inbox.start(); // on the same port
    }
    expect(inbox.to(account.email)).toEqual([]);
    await inbox.waitFor(account.email, /confirm your email/i, { timeout: 20_000 });
    await sleep(3000); // a duplicate would arrive with the next poll or retry
    expect(inbox.to(account.email)).toHaveLength(1);
    const [sent] = await rowsFor(t, account.email);
    expect(sent).toMatchObject({ status: 'sent', payload: null, last_error: null });
  });

  // Two apps on one database need a PostgreSQL server: the embedded PGlite serves a single connection.
  const withServer = process.env.POSTURE_TEST_EMBEDDED_URL ? it.skip : it;
  withServer('is delivered once per message when several workers share the database', async () => {
    const second = await startTestApp({ db, inbox, env: MAIL_ENV });
    try {
      const accounts = Array.from({ length: 10 }, () => newAccount('mw'));
      for (const [i, account] of accounts.entries()) {
        expect((await (i % 2 ? second : t).gql(SIGN_UP, { input: account })).errors).toBeUndefined();
      }
      await Promise.all(accounts.map((a) => inbox.waitFor(a.email, /confirm your email/i)));

      // Queue the resets with both workers stopped, then start both at once on the same rows.
      await Promise.all([t.app.mailWorker.stop(), second.app.mailWorker.stop()]);
      try {
        const results = await Promise.all(accounts.map((a, i) => (i % 2 ? second : t).gql(REQUEST_RESET, { email: a.email })));
        for (const res of results) expect(res.data).toEqual({ requestPasswordReset: true });
        // Each is a deferred request until a worker decides it: the address and nothing more.
        const pending = await t.app.orm.em
          .fork()
          .execute(`select payload from outbox_emails where payload ->> 'deferred' is not null and status = 'pending'`);
        expect(pending.map((r) => r.payload.to).sort()).toEqual(accounts.map((a) => a.email).sort());
      } finally {
        t.app.mailWorker.start();
        second.app.mailWorker.start();
      }

      await Promise.all(accounts.map((a) => inbox.waitFor(a.email, /reset your password/i)));
      await sleep(2500); // room for a duplicate to show up
      for (const account of accounts) {
        expect(inbox.to(account.email).map((m) => m.subject).sort()).toEqual(['Confirm your email address', 'Reset your password']);
        const rows = await rowsFor(t, account.email);
        expect(rows.map((r) => [r.template, r.status, r.attempts])).toEqual([
          ['verify-email', 'sent', 1],
          ['password-reset', 'sent', 1],
        ]);
      }
    } finally {
      await second.stop();
    }
  });
});
