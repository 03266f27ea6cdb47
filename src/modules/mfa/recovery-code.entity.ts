import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import { User } from '../users/user.entity';

/** A single-use recovery code, stored only as an HMAC under a key derived from the TOTP key (see TotpKey). */
@Entity({ tableName: 'recovery_codes' })
@Index({ name: 'recovery_codes_user_id_code_hash_index', properties: ['user', 'codeHash'] })
export class RecoveryCode extends BaseEntity<'usedAt'> {
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 64 })
  codeHash!: string;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;
}
