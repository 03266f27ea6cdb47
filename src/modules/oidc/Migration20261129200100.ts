import { Migration } from '@mikro-orm/migrations';

/** OpenID Connect login: the identities linked to accounts, and the states of authorizations under way. */
export class Migration20261129200100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "user_identities" ("id" uuid not null, "user_id" uuid not null, "provider" varchar(32) not null, "subject" varchar(255) not null, "email" varchar(320) null, "linked_at" timestamptz not null, constraint "user_identities_pkey" primary key ("id"));`);
    this.addSql(`alter table "user_identities" add constraint "user_identities_user_provider_unique" unique ("user_id", "provider");`);
    this.addSql(`alter table "user_identities" add constraint "user_identities_provider_subject_unique" unique ("provider", "subject");`);
    this.addSql(`alter table "user_identities" add constraint "user_identities_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`create table "oidc_login_states" ("id" uuid not null, "state_hash" varchar(64) not null, "provider" varchar(32) not null, "redirect_uri" text not null, "user_id" uuid null, "session_id" uuid null, "sealed" text not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "oidc_login_states_pkey" primary key ("id"));`);
    this.addSql(`alter table "oidc_login_states" add constraint "oidc_login_states_state_hash_unique" unique ("state_hash");`);
    this.addSql(`alter table "oidc_login_states" add constraint "oidc_login_states_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "oidc_login_states" cascade;`);
    this.addSql(`drop table if exists "user_identities" cascade;`);
  }
}
