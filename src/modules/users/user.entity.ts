import { Entity, Index, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { BaseEntity } from '../../db/base.entity';

export type UserStatus = 'active' | 'disabled' | 'deleted';

@ObjectType('User', { simpleResolvers: true })
@Entity({ tableName: 'users' })
// Email is unique among live accounts only, so a deleted account frees its address.
@Index({
  name: 'users_email_live_unique',
  expression: 'create unique index "users_email_live_unique" on "users" ("email") where "deleted_at" is null',
})
export class User extends BaseEntity<
  'emailVerified' | 'emailVerifiedAt' | 'isSuperuser' | 'status' | 'tier' | 'deletedAt' | 'updatedAt'
> {
  @Field(() => ID)
  declare id: string;

  /** Normalized: trimmed and lower-cased. */
  @Field()
  @Property({ type: 'string', length: 320 })
  email!: string;

  @Field()
  @Property({ type: 'string', length: 20, unique: 'users_username_unique' })
  username!: string;

  @Field()
  @Property({ type: 'string', length: 100 })
  name!: string;

  @Property({ type: 'string', hidden: true, lazy: true })
  passwordHash!: string;

  @Property({ type: 'datetime', nullable: true })
  emailVerifiedAt: Date | null = null;

  @Field()
  get emailVerified(): boolean {
    return this.emailVerifiedAt !== null && this.emailVerifiedAt !== undefined;
  }

  @Field()
  @Property({ type: 'boolean', default: false })
  isSuperuser: boolean = false;

  @Property({ type: 'string', length: 16, default: 'active' })
  status: UserStatus = 'active';

  @Property({ type: 'string', length: 32, default: 'free' })
  tier: string = 'free';

  @Property({ type: 'datetime', nullable: true })
  deletedAt: Date | null = null;

  @Field()
  declare createdAt: Date;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
