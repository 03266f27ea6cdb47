import { randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { Clock } from '../../common/clock';
import type { Config } from '../../config';
import type { SessionScope } from './session.entity';
import { SUPPORTED_ALGORITHMS, type SigningKeys } from './signing-keys';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessClaims {
  /** The token's `sub`: a user id, or `lead:<lead id>` for a lead session. */
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

  /** A signed access token for `claims`, valid for `ttlSeconds` (the configured TTL by default). */
  sign(claims: AccessClaims, ttlSeconds = this.config.accessTokenTtl): { token: string; expiresAt: Date } {
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const exp = iat + ttlSeconds;
    const token = this.keys.signCompact(ACCESS_TOKEN_TYPE, {
      sid: claims.sessionId,
      scope: claims.scope,
      sub: claims.userId,
      jti: randomUUID(),
      iss: this.config.issuer,
      aud: this.config.audience,
      iat,
      exp,
    });
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
