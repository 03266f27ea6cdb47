import { defineModule } from '../module';
import { Migration20261129200100 } from './Migration20261129200100';
import { OidcClients } from './oidc-clients';
import { OidcLoginState } from './oidc-login-state.entity';
import { OidcResolver, UserSignInFieldsResolver } from './oidc.resolver';
import { OidcService } from './oidc.service';
import { UserIdentity } from './user-identity.entity';

declare module '../module' {
  interface AppServices {
    /** Sign-in with OpenID Connect providers (OIDC_PROVIDERS), and the identities linked to accounts. */
    oidc: OidcService;
  }
}

export const oidcModule = defineModule({
  name: 'oidc',
  entities: [UserIdentity, OidcLoginState],
  migrations: [{ name: 'Migration20261129200100', class: Migration20261129200100 }],
  resolvers: [OidcResolver, UserSignInFieldsResolver],
  services: ({ config, logger, sql, clock, services }) => {
    // Identities linked while an account's address was unproven belong to whoever made it: the
    // owner's first proof of the address (link, reset, provider) removes them.
    services.addressProofs!.onFirstProof(async (tx, user) => {
      await tx.nativeDelete(UserIdentity, { user: user.id });
    });
    return {
      oidc: new OidcService({
        clients: new OidcClients(config.oidc, logger),
        clock,
        sql,
        logger,
        sessions: services.sessions!,
        conversion: services.leadConversion!,
        signInGate: services.signInGate!,
      }),
    };
  },
});
