import { Migration } from '@mikro-orm/migrations';

/** Outbox claims carry a token, so a worker whose lease lapsed cannot act on a row another worker has claimed since. */
export class Migration20261129110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "outbox_emails" add column "lease_token" uuid null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox_emails" drop column "lease_token";`);
  }
}
