import type { GraphQLSchema } from 'graphql';
import { Authorized as TypeGraphQLAuthorized, createParameterDecorator, Extensions } from 'type-graphql';
import { DomainError, ErrorCode, unauthenticated } from '../common/errors';
import type { SessionScope } from '../modules/auth/session.entity';
import { rootFields } from '../modules/rate-limit/rate-limit.policies';
import type { Context, Principal, Viewer } from './context';

/**
 * Roles a viewer may hold, each with the test that grants it. A new role (staff, say) is one entry
 * here and `@Authorized({ roles: [...] })` on the fields it opens; the auth checker stays as it is.
 */
export const ROLES = {
  SUPERUSER: { holds: (viewer: Viewer) => viewer.user.isSuperuser, refusal: 'Only administrators can do that.' },
} satisfies Record<string, { holds: (viewer: Viewer) => boolean; refusal: string }>;
export type Role = keyof typeof ROLES;

/** What a session of each scope is told when it calls a field its scope does not admit. */
export const SCOPE_REFUSALS: Record<SessionScope, () => DomainError> = {
  full: () => new DomainError(ErrorCode.FORBIDDEN, 'This session cannot do that.'),
  lead: () =>
    new DomainError(ErrorCode.EMAIL_NOT_VERIFIED, 'Follow the login link in your email to open your account first.'),
};

/** Who may call an @Authorized field: a session of one of `scopes` (default: full) holding every role in `roles`. */
export interface AccessRule {
  roles?: readonly Role[];
  scopes?: readonly SessionScope[];
}

/** A root field's declared access: `'public'`, or the rule a caller must meet. */
export type Access = 'public' | AccessRule;

type FieldDecorator = MethodDecorator & PropertyDecorator;

/** Anyone may call this field, signed in or not. */
export const Public = (): FieldDecorator => Extensions({ access: 'public' satisfies Access });

/** Only callers meeting `rule` (a role name, or roles and scopes) may call this field. */
export function Authorized(rule: Role | AccessRule = {}): FieldDecorator {
  const access: AccessRule = typeof rule === 'string' ? { roles: [rule] } : rule;
  const authorized = TypeGraphQLAuthorized<AccessRule>(access);
  const extension = Extensions({ access });
  return (target: object, key: string | symbol, descriptor?: PropertyDescriptor) => {
    authorized(target, key, descriptor as never);
    extension(target, key, descriptor as never);
  };
}

/**
 * Who owns what the caller makes (an assessment): the signed-in account, or the lead of a lead
 * session. For fields declared `@Authorized({ scopes: ['full', 'lead'] })`.
 */
export type Owner = { kind: 'user'; userId: string } | { kind: 'lead'; leadId: string };

export const ownerOf = (principal: Principal): Owner =>
  principal.scope === 'lead'
    ? { kind: 'lead', leadId: principal.lead.id }
    : { kind: 'user', userId: principal.user.id };

/** The owner behind an @Authorized field that admits lead sessions. */
export const CurrentOwner = () =>
  createParameterDecorator<Context>(async ({ context }) => {
    const principal = await context.auth.principal();
    if (!principal) throw unauthenticated();
    return ownerOf(principal);
  });

/** The signed-in viewer of an @Authorized field (the auth checker has already required one). */
export const CurrentViewer = () =>
  createParameterDecorator<Context>(async ({ context }) => {
    const viewer = await context.auth.viewer();
    if (!viewer) throw unauthenticated();
    return viewer;
  });

export function accessOf(field: { extensions?: unknown }): Access | undefined {
  return (field.extensions as { access?: Access } | undefined)?.access;
}

/** Throws naming every root field that declares neither @Public() nor @Authorized(…): none is public by omission. */
export function assertAccessDeclared(schema: GraphQLSchema): void {
  const undeclared = [...rootFields(schema)].filter(([, field]) => !accessOf(field)).map(([name]) => name);
  if (undeclared.length) {
    throw new Error(`Root fields must declare @Public() or @Authorized(…): ${undeclared.join(', ')}`);
  }
}
