import type { GraphQLResponse, RequestOptions } from '../support/graphql';
import type { TestApp } from '../support/test-app';

export const EVENT_FIELDS = 'id at action actorId actor { id username } targetType targetId ip userAgent changes';
export const AUDIT_LOG = `query ($first: Int, $after: String, $filter: AuditFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ${EVENT_FIELDS} } } } }`;

export interface AuditEventNode {
  id: string;
  at: string;
  action: string;
  actorId: string | null;
  actor: { id: string; username: string } | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  changes: Record<string, unknown> | null;
}

/** A user agent naming the step that sends it, so each event can be told by its client. */
export const agent = (step: string): RequestOptions['headers'] => ({ 'user-agent': `posture-audit-test/${step}` });

/**
 * Every event matching `filter`, newest first, read through auditLog by `admin`, a page of 50 at a
 * time (the query's cost counts its page size: 100 of these nodes would pass GRAPHQL_MAX_COST).
 */
export async function eventsOf(t: TestApp, admin: { tokens: Record<string, string> }, filter: Record<string, unknown> = {}): Promise<AuditEventNode[]> {
  const events: AuditEventNode[] = [];
  for (let after: string | null = null; ; ) {
    const res: GraphQLResponse = await t.gql(AUDIT_LOG, { first: 50, after, filter }, { token: admin.tokens.accessToken });
    if (res.errors?.length) throw new Error(`auditLog failed: ${JSON.stringify(res.errors)}`);
    events.push(...res.data!.auditLog.edges.map((e: { node: AuditEventNode }) => e.node));
    if (!res.data!.auditLog.pageInfo.hasNextPage) return events;
    after = res.data!.auditLog.pageInfo.endCursor;
  }
}

/** How many events of `action` there are about `targetId`, read in the database (for rollback checks). */
export async function countEvents(t: TestApp, action: string, where: { targetId?: string; actorId?: string } = {}): Promise<number> {
  const [row] = await t.sql<{ n: number }>(
    `select count(*)::int as n from audit_events where action = ? and (?::text is null or target_id = ?) and (?::uuid is null or actor_id = ?)`,
    [action, where.targetId ?? null, where.targetId ?? null, where.actorId ?? null, where.actorId ?? null],
  );
  return row!.n;
}
