import { Migration } from '@mikro-orm/migrations';

/** Profiles, and accounts without a password (made by a login link). */
export class Migration20261129160000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "profiles" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "full_name" varchar(100) null, "company_name" varchar(100) null, "job_title" varchar(100) null, "phone" varchar(32) null, "company_size" varchar(16) null, "industry" varchar(64) null, "locale" varchar(8) not null default 'en', "assessment_limit" int null, "updated_at" timestamptz not null, constraint "profiles_pkey" primary key ("id"));`);
    this.addSql(`alter table "profiles" add constraint "profiles_user_id_unique" unique ("user_id");`);
    this.addSql(`alter table "users" alter column "password_hash" type varchar(255) using ("password_hash"::varchar(255));`);
    this.addSql(`alter table "users" alter column "password_hash" drop not null;`);
    this.addSql(`alter table "profiles" add constraint "profiles_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "profiles" cascade;`);
    this.addSql(`update "users" set "password_hash" = '!' where "password_hash" is null;`);
    this.addSql(`alter table "users" alter column "password_hash" set not null;`);
  }
}
