import { defineModule } from '../module';
import { CleanupJob } from './cleanup.job';

declare module '../module' {
  interface AppServices {
    cleanupJob: CleanupJob;
  }
}

export const maintenanceModule = defineModule({
  name: 'maintenance',
  services: ({ orm, logger, config }) => ({ cleanupJob: new CleanupJob(orm, logger, { accountRetentionDays: config.accountRetentionDays }) }),
  workers: (services) => [services.cleanupJob],
});
