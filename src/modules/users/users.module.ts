import { defineModule } from '../module';
import { User } from './user.entity';
import { UserResolver } from './user.resolver';
import { UsernameReservation } from './username-reservation.entity';

export const usersModule = defineModule({
  name: 'users',
  entities: [User, UsernameReservation],
  resolvers: [UserResolver],
});
