import { defineModule } from '../module';
import { Lead } from './lead.entity';
import { LeadResolver } from './lead.resolver';
import { LeadService } from './lead.service';
import { LeadSession } from './lead-session.entity';
import { LoginLink } from './login-link.entity';
import { Migration20261129160100 } from './Migration20261129160100';

declare module '../module' {
  interface AppServices {
    leads: LeadService;
  }
}

export const leadsModule = defineModule({
  name: 'leads',
  entities: [Lead, LeadSession, LoginLink],
  migrations: [{ name: 'Migration20261129160100', class: Migration20261129160100 }],
  resolvers: [LeadResolver],
  services: ({ config, clock, services }) => ({
    leads: new LeadService({ config, clock, sessions: services.sessions!, oneTimeTokens: services.oneTimeTokens! }),
  }),
  // Requested login links are decided by the mail worker, after the response.
  onStart: async (services) => services.mailWorker.handleDeferred(services.leads.deferredMail),
});
