import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
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

/** Short-lived access JWTs (RFC 9068 shape): ids only, no personal data. */
export class AccessTokenService {
  // Verified tokens, until they expire: a client sends the same token for its whole lifetime, and
  // an Ed25519 check through WebCrypto costs more than the rest of a small request. Only tokens
  // that verified are cached, keys change only at a restart, and the session is still checked.
  private readonly verified = new Map<string, AccessClaims & { exp: number }>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly config: Config['jwt'],
    private readonly clock: Clock,
  ) {}

  async sign(claims: AccessClaims): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const exp = now + this.config.accessTokenTtl;
    const token = await new SignJWT({ sid: claims.sessionId, scope: claims.scope })
      .setProtectedHeader({ alg: this.keys.active.alg, kid: this.keys.active.kid, typ: ACCESS_TOKEN_TYPE })
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.keys.active.key);
    return { token, expiresAt: new Date(exp * 1000) };
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
