import type { AuthCheckerFn } from 'type-graphql';
import { DomainError, ErrorCode, unauthenticated } from '../common/errors';
import type { Context } from './context';

export type Role = 'SUPERUSER';

/** The one place that decides who may call an @Authorized field. */
export const authChecker: AuthCheckerFn<Context, Role> = async ({ context }, roles) => {
  const viewer = await context.auth.viewer();
  if (!viewer) throw unauthenticated();
  if (viewer.scope !== 'full') throw new DomainError(ErrorCode.FORBIDDEN, 'This session cannot do that.');
  if (roles.includes('SUPERUSER') && !viewer.user.isSuperuser) {
    throw new DomainError(ErrorCode.FORBIDDEN, 'Only administrators can do that.');
  }
  return true;
};

/** The viewer of an @Authorized field (the auth checker has already ensured there is one). */
export async function requireViewer(context: Context) {
  const viewer = await context.auth.viewer();
  if (!viewer) throw unauthenticated();
  return viewer;
}
