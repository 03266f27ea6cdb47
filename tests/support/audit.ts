import type { TestApp } from './test-app';

/** An audit_events row as stored (the columns the tests look at). */
export interface AuditRow {
  action: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string;
  changes: any;
  ip: string | null;
  user_agent: string | null;
}

/** The audit events of `action` and about `targetId` (either left out: any), oldest first, read in the database. */
export const auditRows = (t: TestApp, { action, targetId }: { action?: string; targetId?: string } = {}) =>
  t.sql<AuditRow>(
    `select action, actor_id, target_type, target_id, changes, ip, user_agent from audit_events
      where (?::text is null or action = ?) and (?::text is null or target_id = ?) order by created_at, id`,
    [action ?? null, action ?? null, targetId ?? null, targetId ?? null],
  );
