import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createParameterDecorator } from 'type-graphql';
import type { PreparedQuery, PreparedSql, PreparedStatement } from '../../db/pg-pool';
import type { Context } from '../../graphql/context';
import { AuditEvent } from './audit-event.entity';

/** Every action the log records. Administrative mutations are `admin.<mutation name>`. */
export type AuditAction =
  | 'user.signed_up'
  | 'user.verified'
  | 'user.logged_in'
  | 'user.login_failed'
  | 'session.reuse_detected'
  | 'session.logged_out'
  | 'session.revoked'
  | 'user.password_changed'
  | 'user.password_reset'
  | 'user.email_changed'
  | 'user.deleted'
  | 'user.restored'
  | 'lead.captured'
  | 'lead.converted'
  | 'assessment.completed'
  | 'mfa.enabled'
  | 'mfa.disabled'
  | 'mfa.failed'
  | 'mfa.recovery_codes_regenerated'
  | 'identity.linked'
  | 'identity.unlinked'
  | `admin.${string}`;

export type AuditTargetType = 'user' | 'identity' | 'session' | 'lead' | 'assessment' | 'tier' | 'rate_limit' | 'template' | 'category' | 'question' | 'option';

/** Who acted and from where: the request's signed-in account (or null), its IP and user agent. */
export interface AuditOrigin {
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** What happened, to what. `changes` holds no secret: see changesBetween. */
export interface AuditEntry {
  action: AuditAction;
  targetType?: AuditTargetType;
  targetId?: string | null;
  changes?: Record<string, unknown> | null;
  /** Overrides the origin's actor (a login link's new account acts for itself, say). */
  actorId?: string | null;
}

/** An origin with no request behind it (a background job). */
export const SYSTEM_ORIGIN: AuditOrigin = { actorId: null, ip: null, userAgent: null };

/** Where a request comes from, for audit: its signed-in account, if any, and its client. */
export async function originOf(ctx: Pick<Context, 'auth' | 'meta'>): Promise<AuditOrigin> {
  const viewer = await ctx.auth.viewerOrNull();
  return originFrom(ctx.meta, viewer?.user.id ?? null);
}

/** The origin of a request whose client is `meta` and whose actor the service knows (the account a token proved, say). */
export function originFrom(meta: { ip: string; userAgent?: string | null } | undefined, actorId: string | null): AuditOrigin {
  return { actorId, ip: meta?.ip.slice(0, 64) ?? null, userAgent: meta?.userAgent?.slice(0, 512) ?? null };
}

/** The columns of an event, however it is written. */
const columnsOf = (origin: AuditOrigin, entry: AuditEntry) => ({
  action: entry.action,
  actorId: entry.actorId !== undefined ? entry.actorId : origin.actorId,
  targetType: entry.targetType ?? null,
  targetId: entry.targetId ?? null,
  ip: origin.ip,
  userAgent: origin.userAgent,
  changes: entry.changes ?? null,
});

/**
 * Records an event in `em`'s unit of work, so it commits with the change it records and rolls
 * back with it. The one way services write the log.
 */
export function audit(em: EntityManager, origin: AuditOrigin, entry: AuditEntry): void {
  em.create(AuditEvent, columnsOf(origin, entry));
}

/**
 * The insert of one event with its parameters numbered from `$first` (nine of them, see
 * eventValues): for a hot path that writes in one statement, as one more CTE of it
 * (`with …, event as (${eventInsertSql(11)}) …`), so the event commits with the change.
 */
export const eventInsertSql = (first: number): string =>
  `insert into audit_events (id, created_at, action, actor_id, target_type, target_id, ip, user_agent, changes)
   values (${Array.from({ length: 9 }, (_, i) => `$${first + i}`).join(', ')})`;

/** The values of eventInsertSql's parameters, in order. */
export function eventValues(origin: AuditOrigin, entry: AuditEntry, at = new Date()): unknown[] {
  const e = columnsOf(origin, entry);
  return [randomUUID(), at, e.action, e.actorId, e.targetType, e.targetId, e.ip, e.userAgent, e.changes && JSON.stringify(e.changes)];
}

const INSERT_EVENT: PreparedStatement = { name: 'posture_audit_insert', text: eventInsertSql(1) };

/**
 * Records an event at once, as one statement outside any unit of work: for the paths that write
 * nothing else (a failed logIn). A path writing through PreparedSql folds the event into its own
 * statement instead (eventInsertSql), so that both commit together.
 */
export async function auditNow(db: PreparedSql | PreparedQuery, origin: AuditOrigin, entry: AuditEntry, at = new Date()): Promise<void> {
  await db.query(INSERT_EVENT, eventValues(origin, entry, at));
}

/** Field names that never reach the log, whatever a caller passes. */
const SECRET = /password|hash|token|secret|code|key/i;

/**
 * The fields that differ between `before` and `after`, as `{ field: { before, after } }`; secrets
 * are dropped by name. Dates compare and print as ISO strings.
 */
export function changesBetween(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { before: unknown; after: unknown }> {
  const plain = (v: unknown) => (v instanceof Date ? v.toISOString() : (v ?? null));
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (SECRET.test(key)) continue;
    const [b, a] = [plain(before[key]), plain(after[key])];
    if (JSON.stringify(b) !== JSON.stringify(a)) changes[key] = { before: b, after: a };
  }
  return changes;
}

/** The audit of one administrative mutation: its action (`admin.<field>`) and its caller. */
export class AdminAudit {
  constructor(
    readonly action: AuditAction,
    readonly origin: AuditOrigin,
  ) {}

  /** Records the mutation in `em`'s unit of work (see audit). */
  record(em: EntityManager, entry: Omit<AuditEntry, 'action'>): void {
    audit(em, this.origin, { ...entry, action: this.action });
  }
}

/**
 * The one line that audits an administrative mutation: a resolver parameter giving the service an
 * AdminAudit named after the field (`admin.adminUpdateUser`), to record in its transaction.
 */
export const Audited = () =>
  createParameterDecorator<Context>(async ({ context, info }) => new AdminAudit(`admin.${info.fieldName}`, await originOf(context)));

/**
 * Erases a person's personal data from the events about them (as target: before and after values)
 * and from their own (as actor: IP and user agent), keeping the events: for a hard delete.
 */
export async function eraseAuditSubject(em: EntityManager, userId: string): Promise<void> {
  await em.execute(
    `update audit_events set ip = null, user_agent = null, changes = case when target_id = ? then null else changes end
      where target_id = ? or actor_id = ?`,
    [userId, userId, userId],
  );
}
