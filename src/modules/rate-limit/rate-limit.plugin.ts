import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { getArgumentValues, GraphQLError, type GraphQLObjectType } from 'graphql';
import { DomainError, ErrorCode } from '../../common/errors';
import type { Context } from '../../graphql/context';
import { collectRootFields } from '../../graphql/root-fields';
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

const rateLimited = (message: string, retryAfter: number) =>
  new GraphQLError(message, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      retryAfter,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) },
    },
  });

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
          const fragments = Object.fromEntries(
            document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])),
          );
          for (const field of collectRootFields(operation, fragments)) {
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
                if (err instanceof DomainError && err.code === ErrorCode.RATE_LIMITED) throw rateLimited(err.message, 1);
                throw err;
              }
              if (limited) throw rateLimited(`Too many ${name} attempts; try again later.`, policy.windowSeconds);
            }
          }
        },
      };
    },
  };
}
