import { Entity, OneToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import { User } from '../users/user.entity';

/**
 * An account's TOTP secret: pending from beginTotpEnrollment until a code confirms it. Stored
 * sealed (see TotpKey), never in plaintext.
 */
@Entity({ tableName: 'totp_credentials' })
export class TotpCredential extends BaseEntity<'confirmedAt' | 'lastUsedStep' | 'failureNoticeAt'> {
  @OneToOne(() => User, { ref: true, owner: true, deleteRule: 'cascade', unique: 'totp_credentials_user_id_unique' })
  user!: Ref<User>;

  /** The base32 secret, AES-256-GCM under the TOTP key with the user id as additional data. */
  @Property({ type: 'string', length: 255 })
  sealedSecret!: string;

  /** Null while the enrollment is pending; two-factor is on once set. */
  @Property({ type: 'datetime', nullable: true })
  confirmedAt: Date | null = null;

  /** The latest 30-second step a code was accepted for: no code of it, or of any earlier step, is accepted again. */
  @Property({ type: 'integer', nullable: true })
  lastUsedStep: number | null = null;

  /** When the account was last told that a sign-in died at the second step (at most one such mail an hour). */
  @Property({ type: 'datetime', nullable: true })
  failureNoticeAt: Date | null = null;
}
