import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { generateSigningKey, SigningKeys } from '../../src/modules/auth/signing-keys';
import { codes } from '../support/graphql';
import { createVerifiedUser, ME, startTestApp, withEnv, type TestApp } from '../support/test-app';

let t: TestApp;
let user: Awaited<ReturnType<typeof createVerifiedUser>>;
beforeAll(async () => {
  t = await startTestApp();
  user = await createVerifiedUser(t);
});
afterAll(() => t.stop());

const me = (token: string) => t.gql(ME, {}, { token });
const claims = () => decodeJwt(user.tokens.accessToken);

/** Signs with the server's own key, so only the altered claim can make the token fail. */
async function forge(overrides: { payload?: Record<string, unknown>; header?: Record<string, unknown>; exp?: number }) {
  const c = claims();
  const { key, kid, alg } = t.app.keys.active;
  return new SignJWT({ sid: c.sid, scope: c.scope, ...overrides.payload })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt', ...overrides.header })
    .setSubject(String(overrides.payload?.sub ?? c.sub))
    .setJti(crypto.randomUUID())
    .setIssuer(String(overrides.payload?.iss ?? c.iss))
    .setAudience((overrides.payload?.aud as string) ?? String(c.aud))
    .setIssuedAt()
    .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(key);
}

describe('access tokens', () => {
  it('carry kid, sub, sid, jti, iss, aud and typ, and no personal data', () => {
    const header = decodeProtectedHeader(user.tokens.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: t.app.keys.active.kid });
    const c = claims();
    expect(c).toMatchObject({ sub: user.id, iss: 'http://posture.test', aud: 'posture', scope: 'full' });
    expect(typeof c.sid).toBe('string');
    expect(typeof c.jti).toBe('string');
    expect(c.exp! - c.iat!).toBe(15 * 60);
    expect(JSON.stringify(c)).not.toContain(user.email);
    expect(JSON.stringify(c)).not.toContain(user.username);
  });

  it('verify for a partner through the published JWKS', async () => {
    const jwks = createRemoteJWKSet(new URL(`${t.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(user.tokens.accessToken, jwks, {
      issuer: 'http://posture.test',
      audience: 'posture',
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
    });
    expect(payload.sub).toBe(user.id);
    const published = (await (await fetch(`${t.url}/.well-known/jwks.json`)).json()) as { keys: object[] };
    expect(published.keys[0]).not.toHaveProperty('d');
  });

  it('are refused when tampered with', async () => {
    const [h, p, s] = user.tokens.accessToken.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const swapped = Buffer.from(JSON.stringify({ ...payload, sub: crypto.randomUUID() })).toString('base64url');
    expect(codes(await me(`${h}.${swapped}.${s}`))).toEqual(['UNAUTHENTICATED']);
    const flipped = s!.slice(0, -2) + (s!.endsWith('AA') ? 'BB' : 'AA');
    expect(codes(await me(`${h}.${p}.${flipped}`))).toEqual(['UNAUTHENTICATED']);
  });

  it('are refused when expired, for another audience or issuer, or of another type', async () => {
    const cases = [
      await forge({ exp: Math.floor(Date.now() / 1000) - 60 }),
      await forge({ payload: { aud: 'another-service' } }),
      await forge({ payload: { iss: 'https://evil.example' } }),
      await forge({ header: { typ: 'JWT' } }),
    ];
    for (const token of cases) expect(codes(await me(token))).toEqual(['UNAUTHENTICATED']);
    // The same forge with nothing altered is accepted: the failures above are the claims'.
    expect((await me(await forge({}))).data!.me.id).toBe(user.id);
  });

  it('are refused with alg "none", an unknown kid, or a key not ours', async () => {
    const c = claims();
    const none = [
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: t.app.keys.active.kid })).toString('base64url'),
      Buffer.from(JSON.stringify(c)).toString('base64url'),
      '',
    ].join('.');
    expect(codes(await me(none))).toEqual(['UNAUTHENTICATED']);

    const stranger = await SigningKeys.fromJwks([await generateSigningKey()]);
    const foreign = await new SignJWT({ sid: c.sid, scope: 'full' })
      .setProtectedHeader({ alg: 'EdDSA', kid: t.app.keys.active.kid, typ: 'at+jwt' })
      .setSubject(user.id)
      .setJti(crypto.randomUUID())
      .setIssuer(String(c.iss))
      .setAudience('posture')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(stranger.active.key);
    expect(codes(await me(foreign))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await me(await forge({ header: { kid: 'unknown-kid' } })))).toEqual(['UNAUTHENTICATED']);
  });

  it('are refused for a session id that is not the user’s, or malformed headers', async () => {
    const other = await createVerifiedUser(t);
    const crossed = await forge({ payload: { sid: decodeJwt(other.tokens.accessToken).sid } });
    expect(codes(await me(crossed))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await me(await forge({ payload: { sid: 'not-a-uuid' } })))).toEqual(['UNAUTHENTICATED']);
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer a b', user.tokens.accessToken]) {
      const res = await t.gql(ME, {}, { headers: { authorization } });
      expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('signed by a rotated-out key keep verifying while it is still listed', async () => {
    const oldKey = await generateSigningKey();
    const newKey = await generateSigningKey();
    await withEnv(t, { JWT_SIGNING_KEYS: JSON.stringify({ keys: [oldKey] }) }, async () => {
      const before = t;
      const u = await createVerifiedUser(before);
      await before.restart({ JWT_SIGNING_KEYS: JSON.stringify({ keys: [newKey, oldKey] }) });
      expect((await before.gql(ME, {}, { token: u.tokens.accessToken })).data!.me.id).toBe(u.id);
      const fresh = await before.gql(`mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, {
        t: u.tokens.refreshToken,
      });
      expect(decodeProtectedHeader(fresh.data!.refreshSession.accessToken).kid).toBe(newKey.kid);
      const jwks = (await (await fetch(`${before.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([newKey.kid, oldKey.kid]);

      await before.restart({ JWT_SIGNING_KEYS: JSON.stringify({ keys: [newKey] }) });
      expect(codes(await before.gql(ME, {}, { token: u.tokens.accessToken }))).toEqual(['UNAUTHENTICATED']);
    });
  });

  it('do not fail operations that do not need them: a stale token still lets you refresh', async () => {
    const res = await t.gql(`mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, { t: user.tokens.refreshToken }, {
      token: await forge({ exp: Math.floor(Date.now() / 1000) - 60 }),
    });
    expect(res.errors).toBeUndefined();
  });
});
