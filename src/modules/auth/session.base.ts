import { Property } from '@mikro-orm/core';
import { BaseEntity } from '../../db/base.entity';

/** What every kind of session holds: an absolute end, how it was ended, and where it was started from. */
export abstract class SessionBase<Optional = never> extends BaseEntity<Optional | 'revokedAt' | 'revokedReason' | 'userAgent' | 'ip'> {
  /** Absolute end of the session, however often it is used or refreshed. */
  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  revokedReason: string | null = null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null = null;
}
