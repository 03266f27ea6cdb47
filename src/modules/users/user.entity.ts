import { Entity, Index, ManyToOne, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { BaseEntity } from '../../db/base.entity';
import { DEFAULT_TIER_ID, Tier } from '../tiers/tier.entity';

export type UserStatus = 'active' | 'disabled' | 'deleted';

@ObjectType('User', { simpleResolvers: true, description: 'An account.' })
@Entity({ tableName: 'users' })
// Email is unique among every account, a deleted one included: it holds its address until it is
// purged (see EXISTING_USER). The index keeps its old name, which the sign-up and login-link races catch.
@Index({
  name: 'users_email_live_unique',
  expression: 'create unique index "users_email_live_unique" on "users" ("email")',
})
export class User extends BaseEntity<
  | 'emailVerified'
  | 'emailVerifiedAt'
  | 'isSuperuser'
  | 'status'
  | 'tierId'
  | 'deletedAt'
  | 'updatedAt'
  | 'passwordHash'
  | 'avatarUrl'
  | 'totpEnabledAt'
  | 'totpEnabled'
> {
  @Field(() => ID, { description: "The account's ID: a UUID that never changes." })
  declare id: string;

  /** Normalized: trimmed and lower-cased. */
  @Field({ description: 'The email address, trimmed and lower-cased. It works for logIn, and account mail goes to it.' })
  @Property({ type: 'string', length: 320 })
  email!: string;

  @Field({ description: 'Unique and public: 2–20 lower-case letters, digits and underscores.' })
  @Property({ type: 'string', length: 20, unique: 'users_username_unique' })
  username!: string;

  @Field({ description: 'The display name, 2–50 characters.' })
  @Property({ type: 'string', length: 100 })
  name!: string;

  @Field(() => String, { nullable: true, description: 'An https URL of a picture of the person; public (see `user`).' })
  @Property({ type: 'string', length: 2048, nullable: true })
  avatarUrl: string | null = null;

  /** Null for an account made by a login link, until its owner sets a password. */
  @Property({ type: 'string', hidden: true, lazy: true, nullable: true })
  passwordHash: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  emailVerifiedAt: Date | null = null;

  @Field({ description: 'True once the email address is confirmed (by its link, or by a password reset). logIn needs it.' })
  get emailVerified(): boolean {
    return this.emailVerifiedAt !== null && this.emailVerifiedAt !== undefined;
  }

  @Field({ description: 'True for an administrator.' })
  @Property({ type: 'boolean', default: false })
  isSuperuser: boolean = false;

  @Property({ type: 'string', length: 16, default: 'active' })
  status: UserStatus = 'active';

  /** The account's tier, as its id (mapToPk), so the per-request user snapshot carries it as a plain value. */
  @ManyToOne(() => Tier, { mapToPk: true, fieldName: 'tier_id', default: DEFAULT_TIER_ID, index: 'users_tier_id_index' })
  tierId: string = DEFAULT_TIER_ID;

  @Property({ type: 'datetime', nullable: true })
  deletedAt: Date | null = null;

  /**
   * When two-factor sign-in (TOTP) was turned on; null while off. On the row, so the per-request
   * snapshot tells every way in whether a second step is due without a query (the mfa module).
   */
  @Property({ type: 'datetime', nullable: true })
  totpEnabledAt: Date | null = null;

  @Field({ description: 'True while two-factor sign-in (TOTP) is on: every way in then asks for a code (completeMfaLogIn).' })
  get totpEnabled(): boolean {
    return this.totpEnabledAt !== null && this.totpEnabledAt !== undefined;
  }

  @Field({ description: 'When the account was created.' })
  declare createdAt: Date;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
