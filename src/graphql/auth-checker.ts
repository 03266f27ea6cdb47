import type { AuthCheckerFn } from 'type-graphql';
import { DomainError, ErrorCode, unauthenticated } from '../common/errors';
import { ROLES, SCOPE_REFUSALS, type AccessRule } from './access';
import type { Context } from './context';

/** The one place that decides who may call an @Authorized field, from the rule the field declares. */
export const authChecker: AuthCheckerFn<Context, AccessRule> = async ({ context }, rules) => {
  const principal = await context.auth.principal();
  if (!principal) throw unauthenticated();
  for (const rule of rules) {
    if (!(rule.scopes ?? ['full']).includes(principal.scope)) throw SCOPE_REFUSALS[principal.scope]();
    for (const role of rule.roles ?? []) {
      // Roles belong to accounts: a lead session holds none.
      if (principal.scope === 'lead') throw SCOPE_REFUSALS.lead();
      if (!ROLES[role].holds(principal)) throw new DomainError(ErrorCode.FORBIDDEN, ROLES[role].refusal);
    }
  }
  return true;
};
