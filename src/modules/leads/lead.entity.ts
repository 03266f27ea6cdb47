import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { WithOrganisation } from '../users/organisation';
import type { TemplateLocale } from '../assessments/template.types';
import { User } from '../users/user.entity';

export const LEAD_STATUSES = ['NEW', 'CONTACTED', 'QUALIFIED', 'CUSTOMER', 'LOST'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** One capture of the lead form: what a visitor typed, kept for staff; it never touches an account. */
@Entity({ tableName: 'leads' })
@Index({ name: 'leads_email_index', properties: ['email'] })
// The staff list pages newest first, and the metrics read a period by capture time.
@Index({ name: 'leads_created_at_index', properties: ['createdAt', 'id'] })
export class Lead extends WithOrganisation<
  | 'source'
  | 'locale'
  | 'marketingConsent'
  | 'marketingConsentAt'
  | 'status'
  | 'notes'
  | 'convertedUser'
  | 'convertedAt'
  | 'ip'
> {
  /** Normalized: trimmed and lower-cased. */
  @Property({ type: 'string', length: 320 })
  email!: string;

  @Property({ type: 'string', length: 64, nullable: true })
  source: string | null = null;

  @Property({ type: 'string', length: 8, default: 'en' })
  locale: TemplateLocale = 'en';

  @Property({ type: 'boolean', default: false })
  marketingConsent: boolean = false;

  @Property({ type: 'datetime', nullable: true })
  marketingConsentAt: Date | null = null;

  @Property({ type: 'string', length: 16, default: 'NEW' })
  status: LeadStatus = 'NEW';

  @Property({ type: 'text', nullable: true })
  notes: string | null = null;

  /** The account this lead became when a login link for its address was followed. */
  @ManyToOne(() => User, { ref: true, nullable: true, deleteRule: 'set null', index: 'leads_converted_user_id_index' })
  convertedUser: Ref<User> | null = null;

  @Property({ type: 'datetime', nullable: true })
  convertedAt: Date | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip: string | null = null;
}
