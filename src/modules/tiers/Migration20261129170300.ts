import { Migration } from '@mikro-orm/migrations';

/** The version row instances poll to reload the tier rate limits they keep in memory. */
export class Migration20261129170300 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "tier_limits_version" ("id" smallint not null, "version" int not null default 0, constraint "tier_limits_version_pkey" primary key ("id"));`);
    this.addSql(`insert into "tier_limits_version" ("id", "version") values (1, 0);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "tier_limits_version" cascade;`);
  }
}
