import { defineModule } from '../module';
import { CleanupJob } from './cleanup.job';

declare module '../module' {
  interface AppServices {
    cleanupJob: CleanupJob;
  }
}

export const maintenanceModule = defineModule({
  name: 'maintenance',
  services: ({ orm, logger }) => ({ cleanupJob: new CleanupJob(orm, logger) }),
  workers: (services) => [services.cleanupJob],
});
