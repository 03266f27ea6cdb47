import { defineModule, type AppServices } from '../module';
import { AccountService, type AccountDeps } from './account.service';
import { AdminUserFieldsResolver, AdminUsersResolver } from './admin-users.resolver';
import { AdminUserService } from './admin-users.service';
import { AddressProofs } from './address-proof';
import { Migration20261129160000 } from './Migration20261129160000';
import { Migration20261129170200 } from './Migration20261129170200';
import { Migration20261129195900 } from './Migration20261129195900';
import { Profile } from './profile.entity';
import { ProfileResolver } from './profile.resolver';
import { SelfServiceResolver } from './self-service.resolver';
import { User } from './user.entity';
import { UserResolver } from './user.resolver';
import { UsernameReservation } from './username-reservation.entity';

declare module '../module' {
  interface AppServices {
    accounts: AccountService;
    adminUsers: AdminUserService;
    /** What an account loses when its address is proved for the first time (see AddressProofs). */
    addressProofs: AddressProofs;
  }
}

export const usersModule = defineModule({
  name: 'users',
  entities: [User, UsernameReservation, Profile],
  migrations: [
    { name: 'Migration20261129160000', class: Migration20261129160000 },
    { name: 'Migration20261129170200', class: Migration20261129170200 },
    { name: 'Migration20261129195900', class: Migration20261129195900 },
  ],
  resolvers: [UserResolver, ProfileResolver, SelfServiceResolver, AdminUsersResolver, AdminUserFieldsResolver],
  services({ config, clock, services }) {
    // The auth module is set up after this one (its entities point at User), so its services are
    // read from the registry when first used, by then complete.
    const registry = services as AppServices;
    const deps: AccountDeps = {
      config,
      clock,
      get passwords() {
        return registry.passwords;
      },
      get sessions() {
        return registry.sessions;
      },
      get oneTimeTokens() {
        return registry.oneTimeTokens;
      },
    };
    return { accounts: new AccountService(deps), adminUsers: new AdminUserService(deps), addressProofs: new AddressProofs() };
  },
});
