import { Migration } from '@mikro-orm/migrations';

/**
 * Two-factor sign-in: the sealed TOTP secrets, hashed recovery codes, and the challenges of the
 * second step. (Whether it is on is users.totp_enabled_at, from the users module's migration.)
 */
export class Migration20261129200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "totp_credentials" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "sealed_secret" varchar(255) not null, "confirmed_at" timestamptz null, "last_used_step" int null, "failure_notice_at" timestamptz null, constraint "totp_credentials_pkey" primary key ("id"));`);
    this.addSql(`alter table "totp_credentials" add constraint "totp_credentials_user_id_unique" unique ("user_id");`);
    this.addSql(`create table "recovery_codes" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "code_hash" varchar(64) not null, "used_at" timestamptz null, constraint "recovery_codes_pkey" primary key ("id"));`);
    this.addSql(`create index "recovery_codes_user_id_code_hash_index" on "recovery_codes" ("user_id", "code_hash");`);
    this.addSql(`create table "mfa_challenges" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid not null, "token_hash" varchar(64) not null, "via" varchar(16) not null, "expires_at" timestamptz not null, "failed_attempts" int not null default 0, "used_at" timestamptz null, constraint "mfa_challenges_pkey" primary key ("id"));`);
    this.addSql(`create index "mfa_challenges_user_id_index" on "mfa_challenges" ("user_id");`);
    this.addSql(`alter table "mfa_challenges" add constraint "mfa_challenges_token_hash_unique" unique ("token_hash");`);
    this.addSql(`alter table "totp_credentials" add constraint "totp_credentials_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "mfa_challenges" add constraint "mfa_challenges_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "mfa_challenges" cascade;`);
    this.addSql(`drop table if exists "recovery_codes" cascade;`);
    this.addSql(`drop table if exists "totp_credentials" cascade;`);
  }
}
