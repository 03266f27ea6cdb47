import { Entity, OneToOne, Property, type Ref } from '@mikro-orm/core';
import type { TemplateLocale } from '../assessments/template.types';
import { WithOrganisation } from './organisation';
import { User } from './user.entity';

/** What an account says about itself and its organisation; one per account, made on first write. */
@Entity({ tableName: 'profiles' })
export class Profile extends WithOrganisation<'locale' | 'assessmentLimit' | 'updatedAt'> {
  @OneToOne(() => User, { ref: true, owner: true, deleteRule: 'cascade', unique: 'profiles_user_id_unique' })
  user!: Ref<User>;

  /** The language of the account's mail. */
  @Property({ type: 'string', length: 8, default: 'en' })
  locale: TemplateLocale = 'en';

  /** Overrides the tier's assessment limit (set by staff); null: the tier's. */
  @Property({ type: 'integer', nullable: true })
  assessmentLimit: number | null = null;

  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
