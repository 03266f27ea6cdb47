import { Entity, ManyToOne, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../users/user.entity';

/**
 * An authorization started by startOidcLogin, until its callback comes back. The state itself is
 * stored only as its SHA-256, and the nonce and PKCE verifier are sealed under the state: the table
 * alone cannot complete a flow.
 */
@Entity({ tableName: 'oidc_login_states' })
export class OidcLoginState {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64, unique: 'oidc_login_states_state_hash_unique' })
  stateHash!: string;

  @Property({ type: 'string', length: 32 })
  provider!: string;

  @Property({ type: 'text' })
  redirectUri!: string;

  /** The account a link is for: set when a signed-in session started the flow. */
  @ManyToOne(() => User, { ref: true, nullable: true, deleteRule: 'cascade', index: false })
  user: Ref<User> | null = null;

  /** The session that started a link; linkOidcIdentity must come from it. */
  @Property({ type: 'uuid', nullable: true })
  sessionId: string | null = null;

  /** `{ nonce, verifier }` as JSON, AES-GCM under a key derived from the state (sealWith). */
  @Property({ type: 'text' })
  sealed!: string;

  @Property({ type: 'datetime' })
  createdAt!: Date;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;
}
