import type { EntityManager } from '@mikro-orm/postgresql';
import { unauthenticated } from '../common/errors';
import type { AccessTokenService } from '../modules/auth/access-token.service';
import type { SessionScope } from '../modules/auth/session.entity';
import type { ClientMeta, SessionService } from '../modules/auth/session.service';
import type { User } from '../modules/users/user.entity';

export interface Viewer {
  /** A read-only snapshot; load the entity through the EntityManager to change it. */
  user: Readonly<User>;
  sessionId: string;
  scope: SessionScope;
}

export interface RequestMeta extends ClientMeta {
  requestId: string;
}

/**
 * Who is calling, worked out on first use: a request that never asks (logIn, refreshSession) is
 * not failed by a stale Authorization header.
 */
export class RequestAuth {
  private cached: Promise<Viewer | null> | undefined;

  constructor(
    private readonly authorization: string | undefined,
    private readonly em: EntityManager,
    private readonly deps: { accessTokens: AccessTokenService; sessions: SessionService },
  ) {}

  /** null when anonymous; UNAUTHENTICATED for a token that is malformed, invalid, expired or revoked. */
  viewer(): Promise<Viewer | null> {
    return (this.cached ??= this.load());
  }

  /** Like viewer(), but a bad token counts as anonymous. */
  async viewerOrNull(): Promise<Viewer | null> {
    return this.viewer().catch(() => null);
  }

  private async load(): Promise<Viewer | null> {
    if (this.authorization === undefined || this.authorization === '') return null;
    const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(this.authorization);
    if (!match) throw unauthenticated('The Authorization header must be "Bearer <access token>".');
    const claims = await this.deps.accessTokens.verify(match[1]);
    if (!claims) throw unauthenticated('The access token is invalid or has expired.');
    const user = await this.deps.sessions.findLiveSessionUser(this.em, claims.sessionId, claims.userId);
    if (!user) throw unauthenticated('The session has ended.');
    return { user, sessionId: claims.sessionId, scope: claims.scope };
  }
}

export interface Context {
  em: EntityManager;
  meta: RequestMeta;
  auth: RequestAuth;
}

export function createContext(
  em: EntityManager,
  meta: RequestMeta,
  authorization: string | undefined,
  deps: { accessTokens: AccessTokenService; sessions: SessionService },
): Context {
  return { em, meta, auth: new RequestAuth(authorization, em, deps) };
}
