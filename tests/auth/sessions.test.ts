import { codes } from '../support/graphql';
import { createVerifiedUser, LOG_IN, ME, REFRESH, startTestApp, withEnv, type TestApp } from '../support/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

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
    await withEnv(t, { REFRESH_TOKEN_GRACE: '1s' }, async () => {
      const g = t;
      const user = await createVerifiedUser(g);
      const r1 = await refresh(g, user.tokens.refreshToken);
      const current = r1.data!.refreshSession;
      await new Promise((r) => setTimeout(r, 1500));

      expect(codes(await refresh(g, user.tokens.refreshToken))).toEqual(['INVALID_TOKEN']);
      // The thief's replay ended the family: the legitimate holder's newer tokens are dead too.
      expect(codes(await refresh(g, current.refreshToken))).toEqual(['INVALID_TOKEN']);
      expect(codes(await me(g, current.accessToken))).toEqual(['UNAUTHENTICATED']);
      const [session] = await g.sql<{ revoked_reason: string }>(`select revoked_reason from sessions where user_id = ?`, [user.id]);
      expect(session!.revoked_reason).toBe('refresh_token_reuse');
    });
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

  it('expire: the rolling lifetime is extended by each refresh but never past the absolute one', async () => {
    await withEnv(t, { REFRESH_TOKEN_TTL: '3s', REFRESH_TOKEN_ABSOLUTE_TTL: '4s' }, async () => {
      const g = t;
      const user = await createVerifiedUser(g);
      await new Promise((r) => setTimeout(r, 1500)); // refreshed 1.5 s in: 1.5 s of the rolling 3 s to spare
      const r1 = await refresh(g, user.tokens.refreshToken);
      expect(r1.errors).toBeUndefined();
      const expiresAt = Date.parse(r1.data!.refreshSession.refreshTokenExpiresAt);
      const sessionStart = Date.parse(user.tokens.refreshTokenExpiresAt) - 3000;
      expect(expiresAt).toBeLessThanOrEqual(sessionStart + 4000 + 50); // capped by the absolute lifetime
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 200));
      expect(codes(await refresh(g, r1.data!.refreshSession.refreshToken))).toEqual(['INVALID_TOKEN']);
    });
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
