import { Ctx, Query, Resolver } from 'type-graphql';
import { Public } from '../../graphql/access';
import type { Context } from '../../graphql/context';
import { User } from './user.entity';

@Resolver(() => User)
export class UserResolver {
  @Public()
  @Query(() => User, {
    nullable: true,
    description:
      'The signed-in user; null when anonymous. Errors: UNAUTHENTICATED when the access token sent is invalid or expired, or its session has ended.',
  })
  async me(@Ctx() ctx: Context): Promise<User | null> {
    return (await ctx.auth.viewer())?.user ?? null;
  }
}
