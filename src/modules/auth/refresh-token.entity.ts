import { Entity, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import { Session } from './session.entity';

@Entity({ tableName: 'refresh_tokens' })
export class RefreshToken extends BaseEntity<'parentId' | 'rotatedAt' | 'sealedSuccessor'> {
  @ManyToOne(() => Session, { ref: true, deleteRule: 'cascade', index: 'refresh_tokens_session_id_index' })
  session!: Ref<Session>;

  /** SHA-256 of the token; the token itself is never stored. */
  @Property({ type: 'string', length: 64, unique: 'refresh_tokens_token_hash_unique' })
  tokenHash!: string;

  @Property({ type: 'uuid', nullable: true })
  parentId: string | null = null;

  /** Rolling expiry; never past the session's absolute expiry. */
  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  rotatedAt: Date | null = null;

  /**
   * The successor token sealed under a key derived from this token, so that a retry of this token
   * within the grace window gets the same successor back. Cleared once the successor is rotated.
   */
  @Property({ type: 'text', nullable: true })
  sealedSuccessor: string | null = null;
}
