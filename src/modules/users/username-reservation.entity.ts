import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * A username held by a sign-up that was answered as a success although the email already had an
 * account. Without it, signing up again with that username would succeed where a real sign-up's
 * username would be taken, and so reveal that the email is registered.
 */
@Entity({ tableName: 'username_reservations' })
export class UsernameReservation {
  @PrimaryKey({ type: 'string', length: 20 })
  username!: string;

  @Property({ type: 'datetime' })
  expiresAt!: Date;
}
