import type { AuthCheckerFn } from 'type-graphql';
import { DomainError, ErrorCode, unauthenticated } from '../common/errors';
import { ROLES, SCOPE_REFUSALS, type AccessRule } from './access';
import type { Context } from './context';

/** The one place that decides who may call an @Authorized field, from the rule the field declares. */
export const authChecker: AuthCheckerFn<Context, AccessRule> = async ({ context }, rules) => {
  const principal = await context.auth.principal();
  if (!principal) throw unauthenticated();
  for (const rule of rules) {
    for (const role of rule.roles ?? []) {
      // Roles belong to accounts: a lead session holds none, and is refused like any account
      // without the role (verifying its address would not open a staff field).
      if (principal.scope === 'lead' || !ROLES[role].holds(principal)) throw new DomainError(ErrorCode.FORBIDDEN, ROLES[role].refusal);
    }
    if (!(rule.scopes ?? ['full']).includes(principal.scope)) throw SCOPE_REFUSALS[principal.scope]();
  }
  return true;
};
