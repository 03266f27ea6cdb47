import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../../graphql/context';
import { rateLimitedError } from '../../graphql/errors';
import { collectRootFields, fragmentsOf } from '../../graphql/root-fields';
import type { PasswordService } from './password.service';

/** The operations that run argon2. */
export const HASHING_OPERATIONS: ReadonlySet<string> = new Set(['logIn', 'signUp', 'resetPassword', 'changePassword']);

/**
 * Sheds hashing operations while the hashing queue is full, before execution: under a login flood
 * each refusal then costs little more than parsing, and clients get HTTP 429 with Retry-After.
 * (The services check again, for callers that do not come through GraphQL.)
 */
export function hashingAdmissionPlugin(passwords: PasswordService): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document }) {
          if (operation?.operation !== 'mutation' || passwords.hasCapacity()) return;
          if (collectRootFields(operation, fragmentsOf(document)).some((f) => HASHING_OPERATIONS.has(f.name.value))) {
            throw rateLimitedError('The server is busy; try again in a moment.', 1);
          }
        },
      };
    },
  };
}
