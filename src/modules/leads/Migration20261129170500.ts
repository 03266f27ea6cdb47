import { Migration } from '@mikro-orm/migrations';

/** The staff view of leads: newest-first pages and periods by capture time; the account a lead converted into. */
export class Migration20261129170500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "leads_created_at_index" on "leads" ("created_at", "id");`);
    this.addSql(`create index "leads_converted_user_id_index" on "leads" ("converted_user_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "leads_converted_user_id_index";`);
    this.addSql(`drop index if exists "leads_created_at_index";`);
  }
}
