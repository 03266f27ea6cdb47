import type { EntityManager } from '@mikro-orm/postgresql';
import { unauthenticated } from '../common/errors';
import type { PreparedSql } from '../db/pg-pool';
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

export interface AuthDeps {
  accessTokens: AccessTokenService;
  sessions: SessionService;
  /** Where the session check runs: a prepared statement outside the ORM. */
  sql: PreparedSql;
}

/**
 * Who is calling, worked out on first use: a request that never asks (logIn, refreshSession) is
 * not failed by a stale Authorization header.
 */
export class RequestAuth {
  private cached: Promise<Viewer | null> | undefined;

  constructor(
    private readonly authorization: string | undefined,
    private readonly deps: AuthDeps,
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
    const user = await this.deps.sessions.findLiveSessionUser(this.deps.sql, claims.sessionId, claims.userId);
    if (!user) throw unauthenticated('The session has ended.');
    return { user, sessionId: claims.sessionId, scope: claims.scope };
  }
}

export interface Context {
  /** This request's unit of work, forked from the ORM's EntityManager on first use. */
  readonly em: EntityManager;
  meta: RequestMeta;
  auth: RequestAuth;
}

/**
 * Most requests (`me`, refused ones) never touch the EntityManager, so it is forked on first use.
 * `em` is a getter on the prototype because Apollo hands resolvers a copy of the context (its own
 * properties on the same prototype): the getter survives the copy, where a lazily set own property
 * would be set on one copy only.
 */
class RequestContext implements Context {
  private forked: EntityManager | undefined;

  constructor(
    private readonly root: EntityManager,
    readonly meta: RequestMeta,
    readonly auth: RequestAuth,
  ) {}

  get em(): EntityManager {
    return (this.forked ??= this.root.fork());
  }
}

/** A request's context; `root` is the ORM's EntityManager (`orm.em`), forked when first used. */
export function createContext(root: EntityManager, meta: RequestMeta, authorization: string | undefined, deps: AuthDeps): Context {
  return new RequestContext(root, meta, new RequestAuth(authorization, deps));
}
