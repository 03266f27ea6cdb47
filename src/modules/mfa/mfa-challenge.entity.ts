import { Entity, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import type { SignInMethod } from '../auth/second-step';
import { User } from '../users/user.entity';

/**
 * The second step a way in asked for (MFA_REQUIRED): its token stored as SHA-256, single-use,
 * short-lived, and dead after a few wrong codes.
 */
@Entity({ tableName: 'mfa_challenges' })
export class MfaChallenge extends BaseEntity<'failedAttempts' | 'usedAt'> {
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: 'mfa_challenges_user_id_index' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 64, unique: 'mfa_challenges_token_hash_unique' })
  tokenHash!: string;

  /** The way in that asked for it (logIn, a login link, OpenID Connect). */
  @Property({ type: 'string', length: 16 })
  via!: SignInMethod;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'integer', default: 0 })
  failedAttempts: number = 0;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;
}
