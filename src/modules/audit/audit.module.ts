import { defineModule } from '../module';
import { AuditEvent } from './audit-event.entity';
import { AuditQueries } from './audit.queries';
import { AuditEventFieldsResolver, AuditResolver } from './audit.resolver';
import { Migration20261129170100 } from './Migration20261129170100';
import { Migration20261129170600 } from './Migration20261129170600';

declare module '../module' {
  interface AppServices {
    auditQueries: AuditQueries;
  }
}

export const auditModule = defineModule({
  name: 'audit',
  entities: [AuditEvent],
  migrations: [
    { name: 'Migration20261129170100', class: Migration20261129170100 },
    { name: 'Migration20261129170600', class: Migration20261129170600 },
  ],
  resolvers: [AuditResolver, AuditEventFieldsResolver],
  services: () => ({ auditQueries: new AuditQueries() }),
});
