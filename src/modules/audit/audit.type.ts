import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { connectionType, type Connection } from '../../graphql/connection';

@ObjectType('AuditEvent', { simpleResolvers: true, description: 'One entry of the audit log: who did what, to what, from where.' })
export class AuditEventType {
  @Field(() => ID, { description: 'The event id.' })
  id!: string;

  @Field({ description: 'When it happened.' })
  at!: Date;

  @Field({ description: 'What happened: dotted, past tense (`user.logged_in`, `admin.adminUpdateUser`).' })
  action!: string;

  /** The actor's id even once the account is gone (hard-deleted), where `actor` is null. */
  @Field(() => ID, { nullable: true, description: 'The id of the acting account; null when anonymous.' })
  actorId!: string | null;

  @Field(() => String, { nullable: true, description: 'What kind of thing it happened to: user, session, assessment, lead, tier…' })
  targetType!: string | null;

  @Field(() => ID, { nullable: true, description: 'The id of the thing it happened to.' })
  targetId!: string | null;

  @Field(() => String, { nullable: true, description: 'The client address; null once erased.' })
  ip!: string | null;

  @Field(() => String, { nullable: true, description: 'The client user agent; null once erased.' })
  userAgent!: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'Details: for administrative changes `{ field: { before, after } }` (never a secret); `{ reason }` for a failed login.',
  })
  changes!: Record<string, unknown> | null;
}

export const AuditEventConnection = connectionType<AuditEventType>('AuditEvent', () => AuditEventType, {
  edge: 'An audit event in a list.',
  node: 'The event.',
  page: 'A page of the audit log, newest first (Relay connection).',
  edges: 'The events of this page.',
  total: 'How many events match the filter in all.',
});
export type AuditEventConnection = Connection<AuditEventType>;
