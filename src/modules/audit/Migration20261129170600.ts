import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log is append-only in the database itself: an event can be added, and its personal
 * data (IP, user agent, before and after values) erased by a hard delete, but no event can be
 * deleted or rewritten, whatever code or console runs against the table.
 */
export class Migration20261129170600 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create or replace function audit_events_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    raise exception 'audit events are append-only: % cannot be deleted', old.id;
  end if;
  if new.id is distinct from old.id or new.created_at is distinct from old.created_at or new.action is distinct from old.action
     or new.actor_id is distinct from old.actor_id or new.target_type is distinct from old.target_type
     or new.target_id is distinct from old.target_id
     or (new.ip is not null and new.ip is distinct from old.ip)
     or (new.user_agent is not null and new.user_agent is distinct from old.user_agent)
     or (new.changes is not null and new.changes is distinct from old.changes) then
    raise exception 'audit events are append-only: only their personal data may be erased';
  end if;
  return new;
end $$;`);
    this.addSql(`create trigger audit_events_append_only before update or delete on audit_events for each row execute function audit_events_append_only();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists audit_events_append_only on audit_events;`);
    this.addSql(`drop function if exists audit_events_append_only();`);
  }
}
