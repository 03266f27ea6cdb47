import fs from 'node:fs';
import path from 'node:path';
import { Secret } from 'otpauth';
import { codes, ok } from '../support/graphql';
import { bearer, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';
import { alignToStep, BEGIN, codeAt, complete, CONFIRM, createMfaUser, MFA_TEST_ENV, newChallenge, nextStep } from './support';

// What two-factor leaves in the database and in DATA_DIR: no secret, recovery code or challenge
// in plaintext anywhere, and a development key kept as the signing key is.
let t: TestApp;

/** Every row of every table, as text. */
async function dumpDatabase(): Promise<string> {
  const tables = await t.sql<{ name: string }>(`select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`);
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await t.sql<{ row: string }>(`select row_to_json(x)::text as row from ${name} x`);
    parts.push(...rows.map((r) => r.row));
  }
  return parts.join('\n');
}

/** The forms a value could be stored in, plain or lightly encoded. */
function formsOf(value: string): string[] {
  const bare = value.replace(/-/g, '');
  return [value, value.toLowerCase(), value.toUpperCase(), bare, bare.toUpperCase(), Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')];
}

describe('at rest', () => {
  beforeAll(async () => {
    t = await startTestApp({ env: MFA_TEST_ENV });
  });
  afterAll(() => t.stop());

  it('keeps no TOTP secret, recovery code or challenge in plaintext anywhere in the database', async () => {
    const user = await createVerifiedUser(t, 'rest');
    alignToStep(t);
    const { secret, otpauthUrl } = ok(await t.gql(BEGIN, {}, bearer(user))).beginTotpEnrollment;
    const recovery = ok(await t.gql(CONFIRM, { code: codeAt(t, secret) }, bearer(user))).confirmTotpEnrollment.codes as string[];
    nextStep(t);
    const challenge = await newChallenge(t, user);
    ok(await t.gql(`mutation ($c: String!, $k: String!) { completeMfaLogIn(challenge: $c, code: $k) { accessToken } }`, { c: challenge, k: recovery[0] }));
    const raw = Secret.fromBase32(secret);
    const dump = await dumpDatabase();
    expect(dump).toContain(user.id); // the dump is real
    const leaks = [secret, otpauthUrl, encodeURIComponent(otpauthUrl), raw.hex, Buffer.from(raw.bytes).toString('base64'), challenge, ...recovery]
      .flatMap(formsOf)
      .filter((form) => dump.includes(form));
    expect(leaks).toEqual([]);
    // Sealed, as AES-GCM output: versioned, and a fresh IV each time the same secret would be sealed.
    const [credential] = await t.sql<{ sealed_secret: string }>(`select sealed_secret from totp_credentials where user_id = ?`, [user.id]);
    expect(credential!.sealed_secret).toMatch(/^v1\.[A-Za-z0-9_-]{70,}$/);
    const hashes = await t.sql<{ code_hash: string }>(`select code_hash from recovery_codes where user_id = ?`, [user.id]);
    expect(hashes).toHaveLength(10);
    for (const { code_hash } of hashes) expect(code_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('binds a sealed secret to its account: moved to another account, it opens for neither code', async () => {
    const a = await createMfaUser(t, 'mva');
    const b = await createMfaUser(t, 'mvb');
    await t.sql(`update totp_credentials set sealed_secret = (select sealed_secret from totp_credentials where user_id = ?) where user_id = ?`, [a.id, b.id]);
    const res = await complete(t, await newChallenge(t, b), codeAt(t, a.secret));
    expect(res.data?.completeMfaLogIn ?? null).toBeNull();
    // A secret that does not open is a fault to see in the logs, never a pass.
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
  });
});

describe('the TOTP key', () => {
  it('is generated once in DATA_DIR without TOTP_ENCRYPTION_KEY (0600), and kept across restarts', async () => {
    t = await startTestApp({ env: MFA_TEST_ENV });
    try {
      const file = path.join(t.env.DATA_DIR!, 'totp-key');
      const key = fs.readFileSync(file, 'utf8');
      expect(Buffer.from(key, 'base64')).toHaveLength(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const user = await createMfaUser(t, 'rst');
      await t.restart();
      expect(fs.readFileSync(file, 'utf8')).toBe(key);
      ok(await complete(t, await newChallenge(t, user), codeAt(t, user.secret)));
    } finally {
      await t.stop();
    }
  });

  it('comes from TOTP_ENCRYPTION_KEY when set: nothing is written to DATA_DIR', async () => {
    t = await startTestApp({ env: { ...MFA_TEST_ENV, TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64') } });
    try {
      expect(fs.existsSync(path.join(t.env.DATA_DIR!, 'totp-key'))).toBe(false);
      const user = await createMfaUser(t, 'cfg');
      ok(await complete(t, await newChallenge(t, user), codeAt(t, user.secret)));
    } finally {
      await t.stop();
    }
  });
});
