import { randomUUID, sign } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { Clock } from '../../common/clock';
import type { Config } from '../../config';
import type { SessionScope } from './session.entity';
import { SUPPORTED_ALGORITHMS, type SigningKeys } from './signing-keys';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  scope: SessionScope;
}

const CACHE_LIMIT = 10_000;

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Short-lived access JWTs (RFC 9068 shape): ids only, no personal data. */
export class AccessTokenService {
  // Verified tokens, until they expire: a client sends the same token for its whole lifetime, and
  // an Ed25519 check through WebCrypto costs more than the rest of a small request. Only tokens
  // that verified are cached, keys change only at a restart, and the session is still checked.
  private readonly verified = new Map<string, AccessClaims & { exp: number }>();
  private header: string | undefined;

  constructor(
    private readonly keys: SigningKeys,
    private readonly config: Config['jwt'],
    private readonly clock: Clock,
  ) {}

  /**
   * A compact JWS signed with node:crypto, synchronously: jose signs through WebCrypto, which costs
   * about three times as much and a trip through libuv's thread pool, on every logIn and refresh.
   * jose verifies it (and partners do, through the JWKS), so the two cannot drift apart unnoticed.
   */
  sign(claims: AccessClaims): { token: string; expiresAt: Date } {
    const { alg, kid, key } = this.keys.active;
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const exp = iat + this.config.accessTokenTtl;
    this.header ??= base64url({ alg, kid, typ: ACCESS_TOKEN_TYPE });
    const payload = base64url({
      sid: claims.sessionId,
      scope: claims.scope,
      sub: claims.userId,
      jti: randomUUID(),
      iss: this.config.issuer,
      aud: this.config.audience,
      iat,
      exp,
    });
    const input = `${this.header}.${payload}`;
    // EdDSA hashes internally; ES256 is SHA-256 with the signature as r‖s (JWS, RFC 7518 §3.4).
    const signature = sign(alg === 'EdDSA' ? null : 'sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${signature.toString('base64url')}`, expiresAt: new Date(exp * 1000) };
  }

  /** The claims of a valid token, or null for anything else (bad signature, expired, wrong audience…). */
  async verify(token: string): Promise<AccessClaims | null> {
    const now = this.clock.now().getTime() / 1000;
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp > now) return { userId: hit.userId, sessionId: hit.sessionId, scope: hit.scope };
      this.verified.delete(token);
    }
    const claims = await this.check(token);
    if (claims) {
      if (this.verified.size >= CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, claims);
    }
    return claims;
  }

  private async check(token: string): Promise<(AccessClaims & { exp: number }) | null> {
    try {
      const { payload } = await jwtVerify(token, this.keys.resolve, {
        algorithms: [...SUPPORTED_ALGORITHMS],
        issuer: this.config.issuer,
        audience: this.config.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
        clockTolerance: 5,
        currentDate: this.clock.now(),
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return null;
      return {
        userId: payload.sub,
        sessionId: payload.sid,
        scope: (payload.scope as SessionScope) ?? 'full',
        exp: payload.exp! + 5, // the clock tolerance jwtVerify allowed
      };
    } catch {
      return null;
    }
  }
}
