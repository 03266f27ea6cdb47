import { Migration } from '@mikro-orm/migrations';

/**
 * A deleted account holds its email until it is purged (ACCOUNT_RETENTION_DAYS later), so the
 * address is unique among every account rather than among those not deleted; and avatars.
 * Nothing deleted accounts before this migration, so no two rows share an address.
 */
export class Migration20261129170200 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "users_email_live_unique";`);
    this.addSql(`create unique index "users_email_live_unique" on "users" ("email");`);
    this.addSql(`alter table "users" add column "avatar_url" varchar(2048) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" drop column "avatar_url";`);
    this.addSql(`drop index if exists "users_email_live_unique";`);
    this.addSql(`create unique index "users_email_live_unique" on "users" ("email") where "deleted_at" is null;`);
  }
}
