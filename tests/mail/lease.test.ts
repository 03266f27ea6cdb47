import { setTimeout as sleep } from 'node:timers/promises';
import { initOrm } from '../../src/db/orm';
import { createLogger } from '../../src/logger';
import { MailWorker } from '../../src/modules/mail/mail.worker';
import { eventually } from '../support/eventually';
import { SlowSmtpServer } from '../support/slow-smtp';
import { CHEAP_HASHING, newAccount, sharedPerFile, SIGN_UP, startTestApp, type TestApp } from '../support/test-app';

const MAIL_ENV = { MAIL_RETRY_DELAY: '1s', MAIL_POLL_INTERVAL: '1s', ...CHEAP_HASHING };

const shared = sharedPerFile();

const outbox = (t: TestApp, recipient: string) =>
  t.sql<{ status: string; attempts: number }>(`select status, attempts from outbox_emails where recipient = ? order by created_at`, [
    recipient,
  ]);

/** Signs up an account through `t` with its mail worker stopped, so the verification email stays queued. */
async function queueVerificationEmail(t: TestApp, prefix: string) {
  const account = newAccount(prefix);
  expect((await t.gql(SIGN_UP, { input: account })).errors).toBeUndefined();
  expect(await outbox(t, account.email)).toEqual([{ status: 'pending', attempts: 0 }]);
  return account;
}

describe('the mail lease', () => {
  it('after a worker dies mid-send, a freshly started app delivers the message within 30 s', async () => {
    const before = await startTestApp({ ...shared, env: MAIL_ENV });
    await before.app.mailWorker.stop();
    const account = await queueVerificationEmail(before, 'crash');
    await before.stop();

    // A worker claims the message and dies while sending it, as under kill -9: its database
    // connection goes, and it never renews, finishes or gives back its claim.
    const orm = await initOrm(shared.db.url, { poolMax: 1 });
    let sending!: () => void;
    const claimed = new Promise<void>((resolve) => (sending = resolve));
    let abandon!: (err: Error) => void;
    const hung = new Promise<never>((_, reject) => (abandon = reject));
    const doomed = new MailWorker(orm, { send: () => (sending(), hung), close() {} }, createLogger('silent'), {
      pollInterval: 3600,
      maxAttempts: 10,
      retryDelay: 1,
    });
    doomed.start();
    await claimed;
    await orm.close(true);

    const restartedAt = Date.now();
    const after = await startTestApp({ ...shared, env: MAIL_ENV });
    try {
      await shared.inbox.waitFor(account.email, /confirm your email/i, { timeout: 30_000 });
      expect(Date.now() - restartedAt).toBeLessThan(30_000);
      await eventually(async () => expect((await outbox(after, account.email))[0]!.status).toBe('sent'), 5000);
      // Claimed twice (the dead worker, then the new one), delivered once.
      expect(await outbox(after, account.email)).toEqual([{ status: 'sent', attempts: 2 }]);
      expect(shared.inbox.to(account.email)).toHaveLength(1);
    } finally {
      abandon(new Error('the worker is gone'));
      await doomed.stop();
      await after.stop();
    }
  });

  it('a worker that stops mid-batch hands back the messages it has not started, for another to send at once', async () => {
    const smtp = await new SlowSmtpServer(1500).start();
    const t = await startTestApp({ ...shared, env: { ...MAIL_ENV, SMTP_URL: smtp.url } });
    try {
      await t.app.mailWorker.stop();
      const accounts = [await queueVerificationEmail(t, 'stop'), await queueVerificationEmail(t, 'stop'), await queueVerificationEmail(t, 'stop')];
      t.app.mailWorker.start();
      await eventually(() => expect(smtp.mails).toHaveLength(1), 10_000); // the first send has begun
      await t.app.mailWorker.stop(); // waits for the message in progress

      const rows = await t.sql<{ status: string; attempts: number; lease_token: string | null; due: boolean }>(
        `select status, attempts, lease_token, status = 'sent' or available_at <= now() as due from outbox_emails
          where recipient in (?, ?, ?) order by status`,
        accounts.map((a) => a.email),
      );
      expect(rows).toEqual([
        { status: 'pending', attempts: 0, lease_token: null, due: true },
        { status: 'pending', attempts: 0, lease_token: null, due: true },
        { status: 'sent', attempts: 1, lease_token: null, due: true },
      ]);
      expect(smtp.mails).toHaveLength(1);
    } finally {
      await t.stop();
      await smtp.stop();
    }
  });

  // Two apps on one database need a PostgreSQL server: the embedded PGlite serves a single connection.
  const withServer = process.env.POSTURE_TEST_EMBEDDED_URL ? it.skip : it;
  withServer(
    'a send that outlasts the lease is not taken over, and a claimed message not yet started is sent by one worker only',
    async () => {
      // Each message takes 20 s to be accepted: longer than the lease, shorter than the test.
      const smtp = await new SlowSmtpServer(20_000).start();
      const env = { ...MAIL_ENV, SMTP_URL: smtp.url };
      const a = await startTestApp({ ...shared, env });
      const b = await startTestApp({ ...shared, env });
      try {
        await Promise.all([a.app.mailWorker.stop(), b.app.mailWorker.stop()]);
        const first = await queueVerificationEmail(a, 'slow');
        const second = await queueVerificationEmail(a, 'slow');

        // A claims both messages in one batch and starts sending one; B starts polling.
        a.app.mailWorker.start();
        await eventually(() => expect(smtp.mails).toHaveLength(1), 10_000); // the first send has begun
        b.app.mailWorker.start();

        const duplicated = () => smtp.to(first.email).length > 1 || smtp.to(second.email).length > 1;
        await eventually(async () => {
          if (duplicated()) return; // fail below, at once
          const rows = [...(await outbox(a, first.email)), ...(await outbox(a, second.email))];
          expect(rows.map((r) => r.status)).toEqual(['sent', 'sent']);
        }, 75_000);
        if (!duplicated()) await sleep(2500); // room for a duplicate to begin

        expect(smtp.to(first.email).length + smtp.to(second.email).length).toBe(2);
        expect(smtp.to(first.email)).toHaveLength(1);
        expect(smtp.to(second.email)).toHaveLength(1);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        await smtp.stop();
      }
    },
    120_000,
  );
});
