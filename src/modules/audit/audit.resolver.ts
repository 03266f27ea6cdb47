import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { Authorized } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import type { AppServices } from '../module';
import { User } from '../users/user.entity';
import { AuditFilter } from './audit.input';
import { connectionOf, encodeCursor } from '../../graphql/connection';
import { userLoader } from '../users/user.service';
import type { AuditQueries } from './audit.queries';
import { AuditEventConnection, AuditEventType } from './audit.type';

@Resolver()
export class AuditResolver {
  private readonly queries: AuditQueries;

  constructor(services: AppServices) {
    this.queries = services.auditQueries;
  }

  @Authorized('SUPERUSER')
  @Query(() => AuditEventConnection, {
    description: 'The audit log, newest first (staff). Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT (first over 100, bad cursor, to before from).',
  })
  async auditLog(
    @Arg('first', () => Int, { nullable: true, description: 'How many to return, 0–100 (20 by default).' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Continue after this cursor (PageInfo.endCursor).' }) after: string | null,
    @Arg('filter', () => AuditFilter, { nullable: true, description: 'Which events.' }) filter: AuditFilter | null,
    @Ctx() ctx: Context,
  ): Promise<AuditEventConnection> {
    const page = await this.queries.page(ctx.em, filter, first, after);
    return connectionOf(page, (e) => encodeCursor(e.at, e.id), (e) => e);
  }
}

@Resolver(() => AuditEventType)
export class AuditEventFieldsResolver {
  @FieldResolver(() => User, { nullable: true, description: 'The acting account; null when anonymous or when the account is gone.' })
  actor(@Root() event: AuditEventType, @Ctx() ctx: Context): Promise<User | null> {
    return event.actorId ? userLoader(ctx).load(event.actorId) : Promise.resolve(null);
  }
}
