import { Migration } from '@mikro-orm/migrations';

/**
 * Whether two-factor sign-in is on, on the users row (User.totpEnabledAt), so the per-request user
 * snapshot carries it and every way in can ask without a query. The two-factor module's own
 * tables come in its migration.
 */
export class Migration20261129195900 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "users" add column "totp_enabled_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" drop column "totp_enabled_at";`);
  }
}
