import { Entity, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { SessionBase } from './session.base';
import { User } from '../users/user.entity';

/**
 * What a session may do: `full` for an account's login; `lead` for a lead session (lead capture),
 * which has no account and may only take assessments. Access tokens carry it as `scope`.
 */
export type SessionScope = 'full' | 'lead';

/** One login: a family of refresh tokens rotated one into the next. Its id is the access token's `sid`. */
@Entity({ tableName: 'sessions' })
export class Session extends SessionBase<'scope' | 'lastUsedAt'> {
  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade', index: 'sessions_user_id_index' })
  user!: Ref<User>;

  @Property({ type: 'string', length: 32, default: 'full' })
  scope: SessionScope = 'full';

  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;
}
