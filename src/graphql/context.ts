import type { EntityManager } from '@mikro-orm/postgresql';
import { unauthenticated } from '../common/errors';
import type { PreparedSql } from '../db/pg-pool';
import type { AccessTokenService } from '../modules/auth/access-token.service';
import type { SessionScope } from '../modules/auth/session.entity';
import type { ClientMeta, LiveLead, SessionService } from '../modules/auth/session.service';
import type { User } from '../modules/users/user.entity';

/** A signed-in account. */
export interface Viewer {
  /** A read-only snapshot; load the entity through the EntityManager to change it. */
  user: Readonly<User>;
  sessionId: string;
  scope: Exclude<SessionScope, 'lead'>;
}

/** A lead session: an email address that has not been proved yet, and no account. */
export interface LeadViewer {
  lead: LiveLead;
  sessionId: string;
  scope: 'lead';
}

/** Whoever a valid access token speaks for. */
export type Principal = Viewer | LeadViewer;

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
  private cached: Promise<Principal | null> | undefined;
  private settled: Principal | null | undefined;

  constructor(
    private readonly authorization: string | undefined,
    private readonly deps: AuthDeps,
  ) {}

  /**
   * The account or lead the token speaks for; null when anonymous. UNAUTHENTICATED for a token that
   * is malformed, invalid, expired or revoked.
   */
  principal(): Promise<Principal | null> {
    return (this.cached ??= this.load());
  }

  /** The signed-in account; null when anonymous or a lead session (which has no account). */
  async viewer(): Promise<Viewer | null> {
    const principal = await this.principal();
    return principal && principal.scope !== 'lead' ? principal : null;
  }

  /** Like viewer(), but a bad token counts as anonymous. */
  async viewerOrNull(): Promise<Viewer | null> {
    return this.viewer().catch(() => null);
  }

  /**
   * True once this request's principal is known to be a superuser. Synchronous, for the fields read
   * hundreds of times in one answer (option points): a root field that reaches them awaits the
   * principal first; until then, and for everyone else, false.
   */
  get isStaff(): boolean {
    return this.settled?.scope === 'full' && this.settled.user.isSuperuser;
  }

  private async load(): Promise<Principal | null> {
    if (this.authorization === undefined || this.authorization === '') return null;
    const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(this.authorization);
    if (!match) throw unauthenticated('The Authorization header must be "Bearer <access token>".');
    const claims = await this.deps.accessTokens.verify(match[1]);
    if (!claims) throw unauthenticated('The access token is invalid or has expired.');
    if (claims.scope === 'lead') {
      const lead = await this.deps.sessions.findLiveLead(this.deps.sql, claims.sessionId, claims.userId);
      if (!lead) throw unauthenticated('The session has ended.');
      return { lead, sessionId: claims.sessionId, scope: 'lead' };
    }
    const user = await this.deps.sessions.findLiveSessionUser(this.deps.sql, claims.sessionId, claims.userId);
    if (!user) throw unauthenticated('The session has ended.');
    return (this.settled = { user, sessionId: claims.sessionId, scope: claims.scope });
  }
}

export interface Context {
  /** This request's unit of work, forked from the ORM's EntityManager on first use. */
  readonly em: EntityManager;
  meta: RequestMeta;
  auth: RequestAuth;
  /** This request's DataLoader (or other per-request memo) named `name`, made by `create` on first use. */
  loader<T>(name: string, create: () => T): T;
}

/**
 * Most requests (`me`, refused ones) never touch the EntityManager, so it is forked on first use.
 * `em` is a getter on the prototype because Apollo hands resolvers a copy of the context (its own
 * properties on the same prototype): the getter survives the copy, where a lazily set own property
 * would be set on one copy only.
 */
class RequestContext implements Context {
  private forked: EntityManager | undefined;
  // An own property holding a Map: Apollo's copy of the context shares the same Map.
  private readonly loaders = new Map<string, unknown>();

  constructor(
    private readonly root: EntityManager,
    readonly meta: RequestMeta,
    readonly auth: RequestAuth,
  ) {}

  get em(): EntityManager {
    return (this.forked ??= this.root.fork());
  }

  loader<T>(name: string, create: () => T): T {
    let loader = this.loaders.get(name) as T | undefined;
    if (loader === undefined) {
      loader = create();
      this.loaders.set(name, loader);
    }
    return loader;
  }
}

/** A request's context; `root` is the ORM's EntityManager (`orm.em`), forked when first used. */
export function createContext(root: EntityManager, meta: RequestMeta, authorization: string | undefined, deps: AuthDeps): Context {
  return new RequestContext(root, meta, new RequestAuth(authorization, deps));
}
