import { Field, ObjectType } from 'type-graphql';
import { User } from '../users/user.entity';

@ObjectType({ simpleResolvers: true, description: 'What signUp returns.' })
export class SignUpPayload {
  @Field(() => User, {
    description: 'The new, unverified account. The same shape comes back when the email is already registered.',
  })
  user!: User;
}

@ObjectType({ simpleResolvers: true, description: 'The tokens of a new or refreshed session, and its user.' })
export class AuthPayload {
  @Field({ description: 'Bearer token for the Authorization header: a signed JWT (EdDSA) that partners can verify.' })
  accessToken!: string;

  @Field({ description: 'Opaque; exchange it with refreshSession. Each use returns a new one.' })
  refreshToken!: string;

  @Field({ description: 'When the access token stops working, 15 minutes after issue by default. Refresh before then.' })
  accessTokenExpiresAt!: Date;

  @Field({
    description: 'When the refresh token expires unless used: 7 days after issue by default, and never later than 30 days after log-in.',
  })
  refreshTokenExpiresAt!: Date;

  @Field(() => User, { description: 'The signed-in user.' })
  user!: User;
}
