import { defineModule } from '../module';
import { AuditEvent } from './audit-event.entity';
import { Migration20261129170100 } from './Migration20261129170100';

export const auditModule = defineModule({
  name: 'audit',
  entities: [AuditEvent],
  migrations: [{ name: 'Migration20261129170100', class: Migration20261129170100 }],
});
