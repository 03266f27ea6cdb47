import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType, type Connection } from '../../graphql/connection';
import { User } from './user.entity';

/** Where an account stands, as staff see it: worked out from its status, deletion and verification. */
export const AccountStatus = { ACTIVE: 'ACTIVE', UNVERIFIED: 'UNVERIFIED', DISABLED: 'DISABLED', DELETED: 'DELETED' } as const;
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus];
registerEnumType(AccountStatus, {
  name: 'UserStatus',
  description: 'Where an account stands.',
  valuesConfig: {
    ACTIVE: { description: 'Verified and in use.' },
    UNVERIFIED: { description: 'Not disabled or deleted, but its email address is not confirmed yet (logIn refuses it).' },
    DISABLED: { description: 'Disabled by staff: its sessions ended and it cannot log in until staff enable it again.' },
    DELETED: {
      description: 'Deleted: it cannot log in, and it keeps its email and username (staff may restore it) until it is purged.',
    },
  },
});

export function accountStatusOf(user: Pick<User, 'status' | 'deletedAt' | 'emailVerifiedAt'>): AccountStatus {
  if (user.deletedAt || user.status === 'deleted') return AccountStatus.DELETED;
  if (user.status === 'disabled') return AccountStatus.DISABLED;
  return user.emailVerifiedAt ? AccountStatus.ACTIVE : AccountStatus.UNVERIFIED;
}

@ObjectType('PublicUser', { simpleResolvers: true, description: 'What anyone may see of an account.' })
export class PublicUser {
  @Field({ description: 'The username.' })
  username!: string;

  @Field({ description: 'The display name.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'An https URL of a picture; null when none is set.' })
  avatarUrl!: string | null;
}

@ObjectType('SessionInfo', { simpleResolvers: true, description: 'A live session (one login) of an account.' })
export class SessionInfo {
  @Field(() => ID, { description: 'The session id (revokeSession takes it).' })
  id!: string;

  @Field({ description: 'When it started (the login).' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When its refresh token was last used; null if never.' })
  lastUsedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The User-Agent header of the login, as sent.' })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: 'The client address of the login, as the server saw it.' })
  ip!: string | null;

  @Field({ description: 'True for the session of the request asking.' })
  current!: boolean;
}

@ObjectType('AdminUser', { simpleResolvers: true, description: 'Everything staff may see of an account.' })
export class AdminUser {
  @Field(() => User, { description: 'The account.' })
  user!: User;

  @Field(() => AccountStatus, { description: 'Where the account stands.' })
  status!: AccountStatus;

  @Field(() => Date, { nullable: true, description: 'When it was deleted; it is purged ACCOUNT_RETENTION_DAYS (30 by default) later. Null unless deleted.' })
  deletedAt!: Date | null;

  // tier, profile, sessions, assessments and lastLogInAt are resolved by AdminUserFieldsResolver.
}

export const UserConnection = connectionType<User>('User', () => User, {
  edge: 'An account in a list.',
  node: 'The account.',
  page: 'A page of accounts, newest first (Relay connection).',
  edges: 'The accounts of this page.',
  total: 'How many accounts match the filter in all.',
});
export type UserConnection = Connection<User>;
