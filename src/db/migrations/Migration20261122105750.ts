import { Migration } from '@mikro-orm/migrations';

export class Migration20261122105750 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "outbox_emails" ("id" uuid not null, "created_at" timestamptz not null, "template" varchar(64) not null, "recipient" varchar(320) not null, "payload" jsonb null, "status" varchar(16) not null default 'pending', "attempts" int not null default 0, "available_at" timestamptz not null, "last_error" text null, "sent_at" timestamptz null, constraint "outbox_emails_pkey" primary key ("id"));`);
    this.addSql(`create index "outbox_emails_due_index" on "outbox_emails" ("available_at") where "status" = 'pending';`);

    this.addSql(`create table "users" ("id" uuid not null, "created_at" timestamptz not null, "email" varchar(320) not null, "username" varchar(20) not null, "name" varchar(100) not null, "password_hash" varchar(255) not null, "email_verified_at" timestamptz null, "is_superuser" boolean not null default false, "status" varchar(16) not null default 'active', "tier" varchar(32) not null default 'free', "deleted_at" timestamptz null, "updated_at" timestamptz not null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_username_unique" unique ("username");`);
    this.addSql(`create unique index "users_email_live_unique" on "users" ("email") where "deleted_at" is null;`);

    this.addSql(`create table "sessions" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "scope" varchar(32) not null default 'full', "expires_at" timestamptz not null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, "revoked_reason" varchar(64) null, "user_agent" varchar(512) null, "ip" varchar(64) null, constraint "sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);

    this.addSql(`create table "refresh_tokens" ("id" uuid not null, "created_at" timestamptz not null, "session_id" uuid not null, "token_hash" varchar(64) not null, "parent_id" uuid null, "expires_at" timestamptz not null, "rotated_at" timestamptz null, "sealed_successor" text null, constraint "refresh_tokens_pkey" primary key ("id"));`);
    this.addSql(`create index "refresh_tokens_session_id_index" on "refresh_tokens" ("session_id");`);
    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "one_time_tokens" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "purpose" varchar(32) not null, "email" varchar(320) not null, "token_hash" varchar(64) not null, "code_hash" varchar(64) null, "expires_at" timestamptz not null, "code_expires_at" timestamptz null, "attempts" int not null default 0, "used_at" timestamptz null, constraint "one_time_tokens_pkey" primary key ("id"));`);
    this.addSql(`alter table "one_time_tokens" add constraint "one_time_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "one_time_tokens_user_purpose_index" on "one_time_tokens" ("user_id", "purpose");`);

    this.addSql(`create table "username_reservations" ("username" varchar(20) not null, "expires_at" timestamptz not null, constraint "username_reservations_pkey" primary key ("username"));`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "one_time_tokens" add constraint "one_time_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);

    this.addSql(`alter table "one_time_tokens" drop constraint "one_time_tokens_user_id_foreign";`);

    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_session_id_foreign";`);

    this.addSql(`drop table if exists "outbox_emails" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "refresh_tokens" cascade;`);

    this.addSql(`drop table if exists "one_time_tokens" cascade;`);

    this.addSql(`drop table if exists "username_reservations" cascade;`);
  }

}
