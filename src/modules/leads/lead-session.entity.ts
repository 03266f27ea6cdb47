import { Entity, ManyToOne, type Ref } from '@mikro-orm/core';
import { SessionBase } from '../auth/session.base';
import { Lead } from './lead.entity';

/**
 * A lead's session: no account, no refresh token. Its id is the access token's `sid`, and the
 * token's `sub` is `lead:<lead id>`, never a user id. Checked live on every request like a session.
 */
@Entity({ tableName: 'lead_sessions' })
export class LeadSession extends SessionBase {
  @ManyToOne(() => Lead, { ref: true, deleteRule: 'cascade', index: 'lead_sessions_lead_id_index' })
  lead!: Ref<Lead>;
}
