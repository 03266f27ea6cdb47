import type { ApolloServerPlugin } from '@apollo/server';
import { getArgumentValues, type GraphQLObjectType } from 'graphql';
import { DomainError, ErrorCode } from '../../common/errors';
import type { Context } from '../../graphql/context';
import { rateLimitedError } from '../../graphql/errors';
import { collectRootFields, fragmentsOf } from '../../graphql/root-fields';
import { User } from '../users/user.entity';
import { parseLoginName } from '../users/user.rules';
import { ACCOUNT_ARGUMENT, type RateLimitPolicy } from './rate-limit.policies';
import type { RateLimiter } from './rate-limiter';

function argumentAt(args: Record<string, unknown>, path: string): string | undefined {
  const value = path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), args);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * The account a name designates: its user id when it exists, so an email and a username count
 * together; otherwise the normalized name, so unknown accounts are limited the same way.
 */
async function accountKey(ctx: Context, name: string): Promise<string> {
  const login = parseLoginName(name);
  const user = await ctx.em.findOne(User, { ...login, deletedAt: null }, { fields: ['id'] });
  return user ? `user:${user.id}` : `name:${'email' in login ? login.email : login.username}`;
}

async function identityFor(scope: RateLimitPolicy['scope'], ctx: Context, args: Record<string, unknown>, operation: string) {
  switch (scope) {
    case 'ip':
      return `ip:${ctx.meta.ip}`;
    case 'user': {
      const viewer = await ctx.auth.viewerOrNull();
      return viewer ? `user:${viewer.user.id}` : undefined;
    }
    case 'account': {
      const name = argumentAt(args, ACCOUNT_ARGUMENT[operation] ?? '');
      return name ? `account:${await accountKey(ctx, name)}` : undefined;
    }
  }
}

/**
 * Applies the rate-limit policies once per root field occurrence, before execution: every alias
 * counts, and a limited request fails whole with RATE_LIMITED (HTTP 429).
 */
export function rateLimitPlugin(limiter: RateLimiter, policies: Map<string, RateLimitPolicy[]>): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, request, contextValue }) {
          if (!operation) return;
          const root: GraphQLObjectType | null | undefined =
            operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'query' ? schema.getQueryType() : null;
          if (!root) return;
          for (const field of collectRootFields(operation, fragmentsOf(document))) {
            const name = field.name.value;
            const fieldPolicies = policies.get(name);
            const definition = root.getFields()[name];
            if (!fieldPolicies || !definition) continue;
            let args: Record<string, unknown>;
            try {
              args = getArgumentValues(definition, field, request.variables ?? {});
            } catch {
              args = {}; // execution reports bad arguments; the ip and user limits still count
            }
            for (const policy of fieldPolicies) {
              const identity = await identityFor(policy.scope, contextValue, args, name);
              if (!identity) continue;
              let limited: boolean;
              try {
                limited = await limiter.consume(identity, policy);
              } catch (err) {
                // The shared counter stayed locked: busy, not an internal error.
                if (err instanceof DomainError && err.code === ErrorCode.RATE_LIMITED) throw rateLimitedError(err.message, 1);
                throw err;
              }
              if (limited) throw rateLimitedError(`Too many ${name} attempts; try again later.`, policy.windowSeconds);
            }
          }
        },
        // A request refused whole as RATE_LIMITED, wherever the refusal came from (a limit here, or a
        // full hashing queue in a service), answers 429 with Retry-After.
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (data != null || !errors?.length || !errors.every((e) => e.extensions?.code === ErrorCode.RATE_LIMITED)) return;
          response.http.status = 429;
          const retryAfter = Math.max(...errors.map((e) => Number(e.extensions?.retryAfter) || 1));
          response.http.headers.set('retry-after', String(retryAfter));
        },
      };
    },
  };
}
