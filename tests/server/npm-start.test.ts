import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codes, postGraphQL } from '../support/graphql';
import { linkToken, TestInbox } from '../support/smtp';
import { LOG_IN, ME, newAccount, REFRESH, SIGN_UP } from '../support/test-app';

const ROOT = path.join(__dirname, '../..');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `npm start` exactly as the README says, with no database configured: the embedded one. */
async function npmStart(env: Record<string, string>): Promise<Started> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'REDIS_URL', 'NODE_ENV', 'JWT_SIGNING_KEYS'].includes(k) && !k.startsWith('POSTURE_TEST')),
  );
  const child = spawn('npm', ['start'], { cwd: ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // PORT=0: the server takes any free port and logs it, so no other process can take it first.
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    const port = /"port":(\d+),"msg":"Posture is listening/.exec(output)?.[1];
    if (port) {
      const url = `http://127.0.0.1:${port}`;
      if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return { child, url, output: () => output };
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`npm start did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function terminate(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

describe('npm start with no database configured', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'posture-npm-start-'));
  let inbox: TestInbox;
  let env: Record<string, string>;
  beforeAll(async () => {
    inbox = await new TestInbox().start();
    // info: when the test fails, the server's output shows whether it listened and delivered mail.
    env = { PORT: '0', DATA_DIR: dataDir, SMTP_URL: inbox.url, PUBLIC_URL: 'http://localhost:4000', LOG_LEVEL: 'info' };
  });
  afterAll(async () => {
    await inbox.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the account story on the embedded database, exits 0 on SIGTERM, and keeps data and sessions', async () => {
    let server = await npmStart(env);
    const gql = (query: string, variables?: Record<string, unknown>, token?: string) => postGraphQL(server.url, query, variables, { token });
    try {
      expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(true);
      const landing = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(landing.status).toBe(200);
      expect(await landing.text()).toMatch(/sandbox|apollo/i);

      const account = newAccount('npm');
      expect((await gql(SIGN_UP, { input: account })).errors).toBeUndefined();
      const token = linkToken(await inbox.waitFor(account.email, /confirm/i, { timeout: 30_000 }), 'verify-email');
      expect((await gql(`mutation ($t: String!) { verifyEmail(token: $t) }`, { t: token })).data).toEqual({ verifyEmail: true });
      const login = await gql(LOG_IN, { input: { usernameOrEmail: account.email, password: account.password } });
      const tokens = login.data!.logIn;
      expect((await gql(ME, {}, tokens.accessToken)).data!.me.username).toBe(account.username);
      const refreshed = (await gql(REFRESH, { t: tokens.refreshToken })).data!.refreshSession;
      expect((await gql(`mutation { logOut }`, {}, refreshed.accessToken)).data).toEqual({ logOut: true });
      expect(codes(await gql(ME, {}, refreshed.accessToken))).toEqual(['UNAUTHENTICATED']);

      const kept = (await gql(LOG_IN, { input: { usernameOrEmail: account.username, password: account.password } })).data!.logIn;
      expect(await terminate(server.child)).toBe(0);

server = await npmStart(env);
      expect((await gql(ME, {}, kept.accessToken)).data!.me.username).toBe(account.username);
      expect((await gql(REFRESH, { t: kept.refreshToken })).errors).toBeUndefined();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- server output ---\n${server.output()}`);
    } finally {
      expect(await terminate(server.child)).toBe(0);
    }
  }, 300_000);
});
