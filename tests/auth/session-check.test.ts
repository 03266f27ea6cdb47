import { createPreparedSql, type PreparedSql } from '../../src/db/pg-pool';
import { statementsDuring } from '../support/statements';
import { CHEAP_HASHING, createVerifiedUser, ME, startTestApp, type TestApp } from '../support/test-app';

// The session check of every authenticated request: checks that arrive together share one
// statement, and each still gets the answer for its own session and account.

let t: TestApp;
let sql: PreparedSql;
beforeAll(async () => {
  t = await startTestApp({ env: CHEAP_HASHING });
  const { config, orm, logger } = t.app;
  sql = createPreparedSql(orm, { url: config.databaseUrl, poolMax: config.databasePoolMax, logger });
});
afterAll(async () => {
  await sql?.close();
  await t?.stop();
});

type Account = Awaited<ReturnType<typeof createVerifiedUser>>;

/** The session id (`sid`) of an account's access token. */
async function sessionOf(account: Account): Promise<string> {
  const claims = await t.app.services.accessTokens.verify(account.tokens.accessToken);
  return claims!.sessionId;
}

const isSessionCheck = (text: string) => /from (sessions s|unnest)/.test(text) && /users u/.test(text);

describe('the session check', () => {
  let alice: Account;
  let bob: Account;
  let carol: Account;
  beforeAll(async () => {
    [alice, bob, carol] = await Promise.all([createVerifiedUser(t, 'sca'), createVerifiedUser(t, 'scb'), createVerifiedUser(t, 'scc')]);
    await t.sql(`update sessions set revoked_at = now(), revoked_reason = 'test' where id = ?`, [await sessionOf(carol)]);
  });

  it('runs checks made in one turn as one statement, each answered for its own session and account', async () => {
    const sessions = t.app.services.sessions;
    const [a, b, c] = await Promise.all([sessionOf(alice), sessionOf(bob), sessionOf(carol)]);
    const { result, statements } = await statementsDuring(() =>
      Promise.all([
        sessions.findLiveSessionUser(sql, a, alice.id),
        sessions.findLiveSessionUser(sql, b, bob.id),
        sessions.findLiveSessionUser(sql, c, carol.id), // revoked
        sessions.findLiveSessionUser(sql, a, bob.id), // Alice's session, Bob's account: no one's
        sessions.findLiveSessionUser(sql, b, alice.id),
        sessions.findLiveSessionUser(sql, a, alice.id), // the same check twice
        sessions.findLiveSessionUser(sql, a, 'not-a-uuid'), // never reaches the shared statement
      ]),
    );
    expect(result.map((u) => u?.id ?? null)).toEqual([alice.id, bob.id, null, null, null, alice.id, null]);
    expect(statements.filter(isSessionCheck)).toHaveLength(1);
  });

  it('answers a check alone with the statement for one session', async () => {
    const a = await sessionOf(alice);
    const { result, statements } = await statementsDuring(() => t.app.services.sessions.findLiveSessionUser(sql, a, alice.id));
    expect(result?.email).toBe(alice.email);
    expect(statements.filter(isSessionCheck)).toEqual([expect.not.stringMatching(/unnest/)]);
  });

  it('splits more checks than one statement takes, and answers all of them', async () => {
    const [a, b] = await Promise.all([sessionOf(alice), sessionOf(bob)]);
    const keys = Array.from({ length: 250 }, (_, i) => (i % 2 ? { sid: a, user: alice } : { sid: b, user: bob }));
    const { result, statements } = await statementsDuring(() =>
      Promise.all(keys.map((k) => t.app.services.sessions.findLiveSessionUser(sql, k.sid, k.user.id))),
    );
    expect(result.map((u) => u?.id)).toEqual(keys.map((k) => k.user.id));
    expect(statements.filter(isSessionCheck)).toHaveLength(3); // 100 + 100 + 50
  });

  it('reads the database after each request arrives: a session revoked since the last check is refused by the next', async () => {
    const dave = await createVerifiedUser(t, 'scd');
    const asDave = { token: dave.tokens.accessToken };
    expect((await t.gql(ME, {}, asDave)).data!.me.id).toBe(dave.id);
    await t.sql(`update sessions set revoked_at = now(), revoked_reason = 'test' where id = ?`, [await sessionOf(dave)]);
    const after = await t.gql(ME, {}, asDave);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('gives 30 concurrent requests of three accounts, one revoked, each its own answer', async () => {
    const callers = Array.from({ length: 30 }, (_, i) => [alice, bob, carol][i % 3]!);
    const answers = await Promise.all(callers.map((c) => t.gql(ME, {}, { token: c.tokens.accessToken })));
    answers.forEach((res, i) => {
      if (callers[i] === carol) {
        expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      } else {
        expect(res.errors).toBeUndefined();
        expect(res.data!.me).toMatchObject({ id: callers[i]!.id, email: callers[i]!.email });
      }
    });
  });
});
