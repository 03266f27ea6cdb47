import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';
import { Lead } from './lead.entity';

/** An emailed login link: proves the address it was sent to. Stored as the SHA-256 of its token, single-use. */
@Entity({ tableName: 'login_links' })
@Index({ name: 'login_links_email_index', properties: ['email'] })
export class LoginLink extends BaseEntity<'lead' | 'usedAt'> {
  /** The address the link was sent to (normalized). */
  @Property({ type: 'string', length: 320 })
  email!: string;

  /** The capture that sent it, if a capture did. */
  @ManyToOne(() => Lead, { ref: true, nullable: true, deleteRule: 'set null' })
  lead: Ref<Lead> | null = null;

  @Property({ type: 'string', length: 64, unique: 'login_links_token_hash_unique' })
  tokenHash!: string;

  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  usedAt: Date | null = null;
}
