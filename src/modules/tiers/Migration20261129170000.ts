import { Migration } from '@mikro-orm/migrations';
import { DEFAULT_TIER_ID, PREMIUM_TIER_ID } from './tier.entity';

/**
 * Tiers in the database, with per-tier rate limits. `free` (the default) and `premium` are made
 * here with no limit yet: the first start fills it from ASSESSMENT_LIMIT_FREE / _PREMIUM (see
 * seedTierLimits), after which the database is the source. Accounts keep the tier they had.
 */
export class Migration20261129170000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "tiers" ("id" uuid not null, "created_at" timestamptz not null, "name" varchar(32) not null, "assessment_limit" int null, "updated_at" timestamptz not null, constraint "tiers_pkey" primary key ("id"));`);
    this.addSql(`alter table "tiers" add constraint "tiers_name_unique" unique ("name");`);
    this.addSql(`create table "tier_rate_limits" ("id" uuid not null, "created_at" timestamptz not null, "tier_id" uuid not null, "operation" varchar(64) not null, "limit" int not null, "period_seconds" int not null, "updated_at" timestamptz not null, constraint "tier_rate_limits_pkey" primary key ("id"));`);
    this.addSql(`alter table "tier_rate_limits" add constraint "tier_rate_limits_tier_operation_unique" unique ("tier_id", "operation");`);
    this.addSql(`alter table "tier_rate_limits" add constraint "tier_rate_limits_tier_id_foreign" foreign key ("tier_id") references "tiers" ("id") on update cascade on delete cascade;`);
    this.addSql(`insert into "tiers" ("id", "created_at", "name", "updated_at") values ('${DEFAULT_TIER_ID}', now(), 'free', now()), ('${PREMIUM_TIER_ID}', now(), 'premium', now());`);
    // Any other tier name an account carried becomes a tier of its own (its limit: the default tier's).
    this.addSql(`insert into "tiers" ("id", "created_at", "name", "updated_at") select gen_random_uuid(), now(), t, now() from (select distinct "tier" as t from "users") s where t not in ('free', 'premium');`);
    this.addSql(`alter table "users" add column "tier_id" uuid not null default '${DEFAULT_TIER_ID}';`);
    this.addSql(`update "users" u set "tier_id" = t."id" from "tiers" t where t."name" = u."tier";`);
    this.addSql(`alter table "users" add constraint "users_tier_id_foreign" foreign key ("tier_id") references "tiers" ("id") on update cascade;`);
    this.addSql(`create index "users_tier_id_index" on "users" ("tier_id");`);
    this.addSql(`alter table "users" drop column "tier";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" add column "tier" varchar(32) not null default 'free';`);
    this.addSql(`update "users" u set "tier" = t."name" from "tiers" t where t."id" = u."tier_id";`);
    this.addSql(`alter table "users" drop constraint "users_tier_id_foreign";`);
    this.addSql(`alter table "users" drop column "tier_id";`);
    this.addSql(`drop table if exists "tier_rate_limits" cascade;`);
    this.addSql(`drop table if exists "tiers" cascade;`);
  }
}
