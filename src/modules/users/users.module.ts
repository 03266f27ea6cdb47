import { defineModule } from '../module';
import { Migration20261129160000 } from './Migration20261129160000';
import { Profile } from './profile.entity';
import { ProfileResolver } from './profile.resolver';
import { User } from './user.entity';
import { UserResolver } from './user.resolver';
import { UsernameReservation } from './username-reservation.entity';

export const usersModule = defineModule({
  name: 'users',
  entities: [User, UsernameReservation, Profile],
  migrations: [{ name: 'Migration20261129160000', class: Migration20261129160000 }],
  resolvers: [UserResolver, ProfileResolver],
});
