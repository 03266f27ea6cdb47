import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import { User } from '../users/user.entity';

/**
 * `change_email` proves a new address (the row's `email`) before an account moves to it;
 * `invitation` is an account made by staff: redeemed by resetPassword, it sets a first password
 * and verifies the address.
 */
export type OneTimeTokenPurpose = 'verify_email' | 'reset_password' | 'change_email' | 'invitation';

/** An emailed link token (and, for resets, a 6-digit code), stored only as hashes: SHA-256 of the token, HMAC of the code. */
@Entity({ tableName: 'one_time_tokens' })
@Index({ name: 'one_time_tokens_user_purpose_index', properties: ['user', 'purpose'] })
export class OneTimeToken extends BaseEntity<'codeHash' | 'codeExpiresAt' | 'attempts' | 'usedAt'> {
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 32 })
  purpose!: OneTimeTokenPurpose;

  /** The address the token was sent to: it proves ownership of that address only. */
  @Property({ type: 'string', length: 320 })
  email!: string;

  @Property({ type: 'string', length: 64, unique: 'one_time_tokens_token_hash_unique' })
  tokenHash!: string;

  /** HMAC-SHA-256 of `id:code` under a server secret (see OneTimeTokenService). */
  @Property({ type: 'string', length: 64, nullable: true })
  codeHash: string | null = null;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  codeExpiresAt: Date | null = null;

  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;
}
