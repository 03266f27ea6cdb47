import { adminModule } from './admin/admin.module';
import { auditModule } from './audit/audit.module';
import { assessmentsModule } from './assessments/assessments.module';
import { authModule } from './auth/auth.module';
import { leadsModule } from './leads/leads.module';
import { mailModule } from './mail/mail.module';
import { maintenanceModule } from './maintenance/maintenance.module';
import { mfaModule } from './mfa/mfa.module';
import { oidcModule } from './oidc/oidc.module';
import type { PostureModule } from './module';
import { tiersModule } from './tiers/tiers.module';
import { usersModule } from './users/users.module';

/**
 * Every domain module, in dependency order: the one list the application, the schema, the ORM
 * configuration and the test app read. Adding a module is a folder and a line here.
 */
export const modules: readonly PostureModule[] = [
  auditModule,
  tiersModule,
  usersModule,
  mailModule,
  authModule,
  leadsModule,
  mfaModule,
  oidcModule,
  assessmentsModule,
  adminModule,
  maintenanceModule,
];
