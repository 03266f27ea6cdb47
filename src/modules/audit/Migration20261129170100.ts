import { Migration } from '@mikro-orm/migrations';

/** The audit log. */
export class Migration20261129170100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit_events" ("id" uuid not null, "created_at" timestamptz not null, "action" varchar(64) not null, "actor_id" uuid null, "target_type" varchar(32) null, "target_id" varchar(64) null, "ip" varchar(64) null, "user_agent" varchar(512) null, "changes" jsonb null, constraint "audit_events_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_events_created_at_index" on "audit_events" ("created_at", "id");`);
    this.addSql(`create index "audit_events_action_index" on "audit_events" ("action");`);
    this.addSql(`create index "audit_events_actor_id_index" on "audit_events" ("actor_id");`);
    this.addSql(`create index "audit_events_target_id_index" on "audit_events" ("target_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_events" cascade;`);
  }
}
