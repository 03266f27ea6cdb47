import { defineModule } from '../module';
import { ensureAdmin } from './admin.bootstrap';

export const adminModule = defineModule({
  name: 'admin',
  async onStart(services, { config, orm, logger }) {
    if (config.admin) await ensureAdmin(orm.em.fork(), config.admin, services.passwords, logger);
  },
});
