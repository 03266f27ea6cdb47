import { codes } from '../support/graphql';
import { createVerifiedUser, LOG_IN, ME, REFRESH, startTestApp, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const DAY = 86400;
const refresh = (app: TestApp, token: string) => app.gql(REFRESH, { t: token });
const me = (app: TestApp, token: string) => app.gql(ME, {}, { token });

describe('refresh tokens', () => {
  it('rotate on every use, and are stored only as hashes', async () => {
    const user = await createVerifiedUser(t);
    const first = user.tokens.refreshToken;
    expect(Buffer.from(first, 'base64url')).toHaveLength(32); // 256 bits

    const r1 = await refresh(t, first);
    const r2 = await refresh(t, r1.data!.refreshSession.refreshToken);
    expect(r2.errors).toBeUndefined();
    const tokens = [first, r1.data!.refreshSession.refreshToken, r2.data!.refreshSession.refreshToken];
    expect(new Set(tokens).size).toBe(3);

    const rows = await t.sql<{ token_hash: string; sealed_successor: string | null }>(`select rt.token_hash, rt.sealed_successor from refresh_tokens rt join sessions s on s.id = rt.session_id where s.user_id = ?`,
      [user.id],
    );
    expect(rows).toHaveLength(3);
    const stored = JSON.stringify(rows);
    for (const token of tokens) expect(stored).not.toContain(token);
  });

  it('revoke the whole family when a rotated token is replayed after the grace window', async () => {
    const user = await createVerifiedUser(t);
    const r1 = await refresh(t, user.tokens.refreshToken);
    const current = r1.data!.refreshSession;
    t.clock.advance(31); // the grace window is 30 s

    expect(codes(await refresh(t, user.tokens.refreshToken))).toEqual(['INVALID_TOKEN']);
    // The thief's replay ended the family: the legitimate holder's newer tokens are dead too.
    expect(codes(await refresh(t, current.refreshToken))).toEqual(['INVALID_TOKEN']);
    expect(codes(await me(t, current.accessToken))).toEqual(['UNAUTHENTICATED']);
    const [session] = await t.sql<{ revoked_reason: string }>(`select revoked_reason from sessions where user_id = ?`, [user.id]);
    expect(session!.revoked_reason).toBe('refresh_token_reuse');
  });

  it('give a retry of the immediate parent within the grace window the same current token', async () => {
    const user = await createVerifiedUser(t);
    const r1 = await refresh(t, user.tokens.refreshToken);
    const retry = await refresh(t, user.tokens.refreshToken); // a second tab, or a lost response
    expect(retry.errors).toBeUndefined();
    expect(retry.data!.refreshSession.refreshToken).toBe(r1.data!.refreshSession.refreshToken);
    expect(retry.data!.refreshSession.refreshTokenExpiresAt).toBe(r1.data!.refreshSession.refreshTokenExpiresAt);
    expect((await me(t, retry.data!.refreshSession.accessToken)).data!.me.id).toBe(user.id);

    // The family lives on: the current token still rotates normally.
    const r2 = await refresh(t, r1.data!.refreshSession.refreshToken);
    expect(r2.errors).toBeUndefined();
    // Once the successor has rotated, the grandparent is no longer "the immediate parent": reuse.
    expect(codes(await refresh(t, user.tokens.refreshToken))).toEqual(['INVALID_TOKEN']);
    expect(codes(await refresh(t, r2.data!.refreshSession.refreshToken))).toEqual(['INVALID_TOKEN']);
  });

  it('give parallel refreshes of one token one successor between them', async () => {
    const user = await createVerifiedUser(t);
    const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(t, user.tokens.refreshToken)));
    for (const a of answers) expect(a.errors).toBeUndefined();
    expect(new Set(answers.map((a) => a.data!.refreshSession.refreshToken)).size).toBe(1);
    const [{ n }] = await t.sql<{ n: string }>(`select count(*) as n from refresh_tokens rt join sessions s on s.id = rt.session_id where s.user_id = ?`,
      [user.id],
    );
    expect(Number(n)).toBe(2);
  });

  it('reject unknown, empty and oversized tokens without a 500', async () => {
    for (const token of ['nope', '', 'x'.repeat(5000)]) {
      expect(codes(await refresh(t, token))).toEqual(['INVALID_TOKEN']);
    }
  });

  it('expire when unused for the rolling lifetime (7 days)', async () => {
    const user = await createVerifiedUser(t);
    t.clock.advance(7 * DAY + 60);
    expect(codes(await refresh(t, user.tokens.refreshToken))).toEqual(['INVALID_TOKEN']);
  });

  it('expire: the rolling lifetime is extended by each refresh but never past the absolute one (30 days)', async () => {
    const user = await createVerifiedUser(t);
    const sessionStart = Date.parse(user.tokens.refreshTokenExpiresAt) - 7 * DAY * 1000;
    let token = user.tokens.refreshToken;
    let expiresAt = 0;
    for (let day = 6; day <= 29; day += 6) {
      t.clock.advance(6 * DAY);
      const r = await refresh(t, token);
      expect(r.errors).toBeUndefined();
      token = r.data!.refreshSession.refreshToken;
      expiresAt = Date.parse(r.data!.refreshSession.refreshTokenExpiresAt);
      // Rolling: 7 days from each refresh, until the absolute lifetime caps it.
      const expected = Math.min(t.clock.now().getTime() + 7 * DAY * 1000, sessionStart + 30 * DAY * 1000);
      expect(Math.abs(expiresAt - expected)).toBeLessThan(5000);
    }
    expect(Math.abs(expiresAt - (sessionStart + 30 * DAY * 1000))).toBeLessThan(5000);
    t.clock.advance((expiresAt - t.clock.now().getTime()) / 1000 + 10);
    expect(codes(await refresh(t, token))).toEqual(['INVALID_TOKEN']);
  });
});

describe('log-out', () => {
  it('by refresh token ends that session only, and its access token stops working at once', async () => {
    const user = await createVerifiedUser(t);
    const other = await t.gql(LOG_IN, { input: { usernameOrEmail: user.email, password: user.password } });
    const second = other.data!.logIn;

    const out = await t.gql(`mutation ($t: String) { logOut(refreshToken: $t) }`, { t: user.tokens.refreshToken });
    expect(out.data).toEqual({ logOut: true });
    expect(codes(await me(t, user.tokens.accessToken))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await refresh(t, user.tokens.refreshToken))).toEqual(['INVALID_TOKEN']);
    expect((await me(t, second.accessToken)).data!.me.id).toBe(user.id);
  });

  it('by access token ends the current session', async () => {
    const user = await createVerifiedUser(t);
    expect((await t.gql(`mutation { logOut }`, {}, { token: user.tokens.accessToken })).data).toEqual({ logOut: true });
    expect(codes(await me(t, user.tokens.accessToken))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await refresh(t, user.tokens.refreshToken))).toEqual(['INVALID_TOKEN']);
  });

  it('without any token is UNAUTHENTICATED; twice is still true', async () => {
    expect(codes(await t.gql(`mutation { logOut }`))).toEqual(['UNAUTHENTICATED']);
    const user = await createVerifiedUser(t);
    const q = `mutation ($t: String) { logOut(refreshToken: $t) }`;
    expect((await t.gql(q, { t: user.tokens.refreshToken })).data).toEqual({ logOut: true });
    expect((await t.gql(q, { t: user.tokens.refreshToken })).data).toEqual({ logOut: true });
  });

  it('everywhere ends every session of the user and no one else’s', async () => {
    const user = await createVerifiedUser(t);
    const bystander = await createVerifiedUser(t);
    const second = (await t.gql(LOG_IN, { input: { usernameOrEmail: user.username, password: user.password } })).data!.logIn;

    expect(codes(await t.gql(`mutation { logOutEverywhere }`))).toEqual(['UNAUTHENTICATED']);
    expect((await t.gql(`mutation { logOutEverywhere }`, {}, { token: second.accessToken })).data).toEqual({ logOutEverywhere: true });
    for (const token of [user.tokens.accessToken, second.accessToken]) {
      expect(codes(await me(t, token))).toEqual(['UNAUTHENTICATED']);
    }
    for (const token of [user.tokens.refreshToken, second.refreshToken]) {
      expect(codes(await refresh(t, token))).toEqual(['INVALID_TOKEN']);
    }
    expect((await me(t, bystander.tokens.accessToken)).data!.me.id).toBe(bystander.id);
  });
});
