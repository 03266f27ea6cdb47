import { Field, ObjectType } from 'type-graphql';
import { User } from '../users/user.entity';

@ObjectType({ simpleResolvers: true })
export class SignUpPayload {
  @Field(() => User, {
    description: 'The new, unverified account. The same shape comes back when the email is already registered.',
  })
  user!: User;
}

@ObjectType({ simpleResolvers: true })
export class AuthPayload {
  @Field({ description: 'Bearer token for the Authorization header.' })
  accessToken!: string;

  @Field({ description: 'Opaque; exchange it with refreshSession. Each use returns a new one.' })
  refreshToken!: string;

  @Field()
  accessTokenExpiresAt!: Date;

  @Field()
  refreshTokenExpiresAt!: Date;

  @Field(() => User)
  user!: User;
}
