import { Migration } from '@mikro-orm/migrations';

/** Leads, their sessions and the login links that convert them. */
export class Migration20261129160100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "leads" ("id" uuid not null, "created_at" timestamptz not null, "email" varchar(320) not null, "full_name" varchar(100) null, "company_name" varchar(100) null, "job_title" varchar(100) null, "phone" varchar(32) null, "company_size" varchar(16) null, "industry" varchar(64) null, "source" varchar(64) null, "locale" varchar(8) not null default 'en', "marketing_consent" boolean not null default false, "marketing_consent_at" timestamptz null, "status" varchar(16) not null default 'NEW', "notes" text null, "converted_user_id" uuid null, "converted_at" timestamptz null, "ip" varchar(64) null, constraint "leads_pkey" primary key ("id"));`);
    this.addSql(`create index "leads_email_index" on "leads" ("email");`);
    this.addSql(`create table "login_links" ("id" uuid not null, "created_at" timestamptz not null, "email" varchar(320) not null, "lead_id" uuid null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "login_links_pkey" primary key ("id"));`);
    this.addSql(`alter table "login_links" add constraint "login_links_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "login_links_email_index" on "login_links" ("email");`);
    this.addSql(`create table "lead_sessions" ("id" uuid not null, "created_at" timestamptz not null, "lead_id" uuid not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_reason" varchar(64) null, "user_agent" varchar(512) null, "ip" varchar(64) null, constraint "lead_sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "lead_sessions_lead_id_index" on "lead_sessions" ("lead_id");`);
    this.addSql(`alter table "leads" add constraint "leads_converted_user_id_foreign" foreign key ("converted_user_id") references "users" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "login_links" add constraint "login_links_lead_id_foreign" foreign key ("lead_id") references "leads" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "lead_sessions" add constraint "lead_sessions_lead_id_foreign" foreign key ("lead_id") references "leads" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "lead_sessions" cascade;`);
    this.addSql(`drop table if exists "login_links" cascade;`);
    this.addSql(`drop table if exists "leads" cascade;`);
  }
}
