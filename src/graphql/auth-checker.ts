import type { AuthCheckerFn } from 'type-graphql';
import { DomainError, ErrorCode, unauthenticated } from '../common/errors';
import { ROLES, SCOPE_REFUSALS, type AccessRule } from './access';
import type { Context } from './context';

/** The one place that decides who may call an @Authorized field, from the rule the field declares. */
export const authChecker: AuthCheckerFn<Context, AccessRule> = async ({ context }, rules) => {
  const viewer = await context.auth.viewer();
  if (!viewer) throw unauthenticated();
  for (const rule of rules) {
    if (!(rule.scopes ?? ['full']).includes(viewer.scope)) throw SCOPE_REFUSALS[viewer.scope]();
    for (const role of rule.roles ?? []) {
      if (!ROLES[role].holds(viewer)) throw new DomainError(ErrorCode.FORBIDDEN, ROLES[role].refusal);
    }
  }
  return true;
};
