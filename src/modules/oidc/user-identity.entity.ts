import { Entity, ManyToOne, PrimaryKey, Property, Unique, type Ref } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../users/user.entity';

/**
 * An account's login at an OpenID provider. Keyed by (provider, subject), never by email: the
 * email is what the provider said when it was linked, shown to the account and nothing more.
 */
@Entity({ tableName: 'user_identities' })
@Unique({ name: 'user_identities_provider_subject_unique', properties: ['provider', 'subject'] })
@Unique({ name: 'user_identities_user_provider_unique', properties: ['user', 'provider'] })
export class UserIdentity {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: false })
  user!: Ref<User>;

  /** The configured provider id (OIDC_PROVIDERS). */
  @Property({ type: 'string', length: 32 })
  provider!: string;

  /** The ID token's `sub`: at most 255 ASCII characters (OpenID Connect Core 2). */
  @Property({ type: 'string', length: 255 })
  subject!: string;

  /** The address the provider gave, normalized; null when it gave none. */
  @Property({ type: 'string', length: 320, nullable: true })
  email: string | null = null;

  @Property({ type: 'datetime' })
  linkedAt!: Date;
}
