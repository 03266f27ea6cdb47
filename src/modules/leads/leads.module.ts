import { defineModule } from '../module';
import { Lead } from './lead.entity';
import { LeadAdminResolver, LeadFieldsResolver } from './lead-admin.resolver';
import { LeadAdminService } from './lead-admin.service';
import { LeadConversion } from './lead-conversion';
import { LeadMetricsService } from './lead-metrics';
import { LeadResolver } from './lead.resolver';
import { LeadService } from './lead.service';
import { LeadSession } from './lead-session.entity';
import { LoginLink } from './login-link.entity';
import { Migration20261129160100 } from './Migration20261129160100';
import { Migration20261129170500 } from './Migration20261129170500';

declare module '../module' {
  interface AppServices {
    leads: LeadService;
    /** What proving an address does to accounts and leads (login links, OpenID Connect). */
    leadConversion: LeadConversion;
    leadAdmin: LeadAdminService;
    leadMetrics: LeadMetricsService;
  }
}

export const leadsModule = defineModule({
  name: 'leads',
  entities: [Lead, LeadSession, LoginLink],
  migrations: [
    { name: 'Migration20261129160100', class: Migration20261129160100 },
    { name: 'Migration20261129170500', class: Migration20261129170500 },
  ],
  resolvers: [LeadResolver, LeadAdminResolver, LeadFieldsResolver],
  services: ({ config, clock, services }) => {
    const leadConversion = new LeadConversion({
      clock,
      sessions: services.sessions!,
      oneTimeTokens: services.oneTimeTokens!,
      addressProofs: services.addressProofs!,
    });
    return {
      leadConversion,
      leads: new LeadService({
        config,
        clock,
        sessions: services.sessions!,
        oneTimeTokens: services.oneTimeTokens!,
        conversion: leadConversion,
        signInGate: services.signInGate!,
      }),
      leadAdmin: new LeadAdminService(),
      leadMetrics: new LeadMetricsService(clock),
    };
  },
  // Requested login links are decided by the mail worker, after the response.
  onStart: async (services) => services.mailWorker.handleDeferred(services.leads.deferredMail),
});
