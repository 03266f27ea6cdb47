import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { ManualClock } from '../../src/common/clock';
import { AccessTokenService } from '../../src/modules/auth/access-token.service';
import { generateSigningKey, SigningKeys } from '../../src/modules/auth/signing-keys';

const jwt = { issuer: 'https://posture.test', audience: 'posture', accessTokenTtl: 900 } as ConstructorParameters<typeof AccessTokenService>[1];

async function es256Key() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'ES256', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

// Posture signs with node:crypto and verifies with jose: each algorithm it accepts is signed in a
// form jose (and so a partner reading the JWKS) verifies, with exactly the claims given.
describe.each([
  ['EdDSA', generateSigningKey],
  ['ES256', es256Key],
])('an access token signed with %s', (alg, makeKey) => {
  it('verifies with jose against the public JWKS, with its claims, and not once altered', async () => {
    const keys = await SigningKeys.fromJwks([await makeKey()]);
    const clock = new ManualClock();
    const before = Math.floor(Date.now() / 1000);
    const service = new AccessTokenService(keys, jwt, clock);
    const { token, expiresAt } = service.sign({ userId: 'u-1', sessionId: 's-1', scope: 'full' });

    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: keys.active.kid, typ: 'at+jwt' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.publicJwks), {
      algorithms: [alg],
      issuer: jwt.issuer,
      audience: jwt.audience,
      typ: 'at+jwt',
      currentDate: clock.now(),
    });
    expect(payload).toMatchObject({ sub: 'u-1', sid: 's-1', scope: 'full', iss: jwt.issuer, aud: jwt.audience });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(typeof payload.jti).toBe('string');
    expect(expiresAt.getTime()).toBe(payload.exp! * 1000);
    await expect(service.verify(token)).resolves.toMatchObject({ userId: 'u-1', sessionId: 's-1', scope: 'full' });

    const [h, p, s] = token.split('.');
    const altered = Buffer.from(JSON.stringify({ ...payload, sub: 'u-2' })).toString('base64url');
    await expect(service.verify(`${h}.${altered}.${s}`)).resolves.toBeNull();
    expect(p).not.toBe(altered);
  });
});
