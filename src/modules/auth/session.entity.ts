import { Entity, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import { User } from '../users/user.entity';

/** What a session may do: `full` for a normal login; narrower scopes come with lead capture. */
export type SessionScope = 'full';

/** One login: a family of refresh tokens rotated one into the next. Its id is the access token's `sid`. */
@Entity({ tableName: 'sessions' })
export class Session extends BaseEntity<'scope' | 'lastUsedAt' | 'revokedAt' | 'revokedReason' | 'userAgent' | 'ip'> {
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: 'sessions_user_id_index' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 32, default: 'full' })
  scope: SessionScope = 'full';

  /** Absolute end of the session, however often it is refreshed. */
  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  revokedReason: string | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null = null;
}
