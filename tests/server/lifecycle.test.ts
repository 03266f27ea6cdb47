import fs from 'node:fs';
import path from 'node:path';
import { codes } from '../support/graphql';
import { createTestDatabase, createVerifiedUser, LOG_IN, ME, startTestApp, withEnv, type TestApp } from '../support/test-app';

const ADMIN = { ADMIN_EMAIL: ' Admin@Example.com ', ADMIN_PASSWORD: 'first admin passphrase', ADMIN_USERNAME: 'root_admin' };
const logInAs = (t: TestApp, usernameOrEmail: string, password: string) => t.gql(LOG_IN, { input: { usernameOrEmail, password } });

describe('the administrator from ADMIN_EMAIL / ADMIN_PASSWORD', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: ADMIN });
  });
  afterAll(() => t.stop());

  it('is created at start as a verified superuser', async () => {
    const res = await logInAs(t, 'admin@example.com', ADMIN.ADMIN_PASSWORD);
    expect(res.data!.logIn.user).toMatchObject({ email: 'admin@example.com', username: 'root_admin', isSuperuser: true, emailVerified: true });
  });

  it('is left alone on later starts, password included', async () => {
    await t.restart({ ADMIN_PASSWORD: 'another admin passphrase' });
    expect(codes(await logInAs(t, 'root_admin', 'another admin passphrase'))).toEqual(['INVALID_CREDENTIALS']);
    expect((await logInAs(t, 'root_admin', ADMIN.ADMIN_PASSWORD)).data!.logIn.user.isSuperuser).toBe(true);
    const [{ n }] = await t.sql(`select count(*) as n from users`);
    expect(Number(n)).toBe(1);
  });

  it('refuses to start with a weak password, naming the variable', async () => {
    const weak = withEnv(t, { ADMIN_EMAIL: 'other@example.com', ADMIN_PASSWORD: 'password123' }, async () => undefined);
    await expect(weak).rejects.toThrow(/ADMIN_PASSWORD/);
  });
});

describe('the development signing key', () => {
  it('is generated once into DATA_DIR, so sessions survive a restart', async () => {
    const t = await startTestApp();
    try {
      const file = path.join(t.env.DATA_DIR!, 'signing-keys.json');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const user = await createVerifiedUser(t);
      await t.restart();
      expect((await t.gql(ME, {}, { token: user.tokens.accessToken })).data!.me.id).toBe(user.id);
    } finally {
      await t.stop();
    }
  });
});

describe('shutdown', () => {
  it('turns readiness to 503, lets in-flight requests finish, then closes', async () => {
    const t = await startTestApp({ env: { SHUTDOWN_DELAY: '1s', HASH_CONCURRENCY: '1' } });
    const user = await createVerifiedUser(t);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

    // A few logIns queue behind one argon2 slot, so some are still running when the stop begins.
    const inFlight = Array.from({ length: 3 }, () => logInAs(t, user.username, user.password));
    const stopping = t.app.stop();
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    for (const res of await Promise.all(inFlight)) expect(res.errors).toBeUndefined();

    await stopping;
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
    expect(await t.app.orm.isConnected()).toBe(false);
    await t.stop(); // idempotent: cleans up the inbox and database
  });

  it('readiness answers 503 when the database is unreachable', async () => {
    if (!process.env.DATABASE_URL) return; // needs a server whose database can be taken away
    const db = await createTestDatabase();
    const t = await startTestApp({ db });
    try {
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
      await db.drop();
      expect((await fetch(`${t.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
