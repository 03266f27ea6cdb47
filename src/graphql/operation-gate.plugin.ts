import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import {
  getArgumentValues,
  getVariableValues,
  GraphQLError,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { DomainError, ErrorCode } from '../common/errors';
import { consumeRateLimits, RateLimitExceeded, type Clearable, type FieldCall } from '../modules/rate-limit/rate-limit.gate';
import { policyOf, type OperationPolicy, type RateLimitSource } from '../modules/rate-limit/rate-limit.policies';
import type { RateLimiter } from '../modules/rate-limit/rate-limiter';
import type { Context } from './context';
import { rateLimitedError } from './errors';
import { guardArguments } from './input-guard';
import type { variablePageCost } from './limits';
import { collectRootFields, fragmentsOf } from './root-fields';

export interface OperationGateDeps {
  limiter: RateLimiter;
  limits: RateLimitSource;
  /** Whether a hashing operation admitted now would run or wait rather than be refused. */
  hashingHasCapacity: () => boolean;
}

/** A domain error raised before execution, as the request error Apollo answers with (4xx, code kept). */
function requestError(err: DomainError, status: number): GraphQLError {
  return new GraphQLError(err.message, { extensions: { ...err.details, code: err.code, http: { status } } });
}

/** A root field occurrence of an operation, with what its field declares. */
interface PlannedCall {
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  policy: OperationPolicy | undefined;
  responseKey: string;
}

/**
 * The root field occurrences of an operation, worked out once per parsed operation: Apollo hands
 * the same document (and operation node) to every request with the same query text.
 */
const plans = new WeakMap<OperationDefinitionNode, { schema: GraphQLSchema; calls: PlannedCall[] }>();

function planOf(schema: GraphQLSchema, root: GraphQLObjectType, operation: OperationDefinitionNode, document: DocumentNode): PlannedCall[] {
  const known = plans.get(operation);
  if (known?.schema === schema) return known.calls;
  const calls: PlannedCall[] = [];
  for (const node of collectRootFields(operation, fragmentsOf(document))) {
    const field = root.getFields()[node.name.value];
    if (field) calls.push({ field, node, policy: policyOf(field), responseKey: node.alias?.value ?? node.name.value });
  }
  plans.set(operation, { schema, calls });
  return calls;
}

/** Subscriptions need a streaming transport this server does not offer. */
const subscriptionRefused = () =>
  new GraphQLError('Subscription operations are not supported.', {
    extensions: { code: ApolloServerErrorCode.BAD_REQUEST, http: { status: 400 } },
  });

/**
 * Everything checked before an operation runs, in order, once per root field occurrence (aliases
 * and fragments included), from what each field declares:
 * 0. a subscription is refused as a bad request (graphql-js would fail it with an uncoded error),
 *    and the query's cost with page sizes given as variables is counted (the validation rule cannot);
 * 1. its arguments: no NUL or control characters reach a lookup;
 * 2. its rate limits: every alias counts, and a limited request fails whole with 429;
 * 3. hashing admission: while the hashing queue is full, hashing operations are refused with 429.
 * One plugin, because Apollo runs the plugins' hooks side by side and the order matters.
 */
export function operationGatePlugin(
  deps: OperationGateDeps & {
    /** The cost check once variables are known (see variablePageCost). */
    pageCost: ReturnType<typeof variablePageCost>;
  },
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let clearOnSuccess: Map<string, readonly Clearable[]> | undefined;
      return {
        async didResolveOperation({ operation, document, schema, request, contextValue }) {
          if (!operation) return;
          if (operation.operation === 'subscription') throw subscriptionRefused();
          const root: GraphQLObjectType | null | undefined = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
          if (!root) return;
          // Coerced (only when a page size comes from a variable), so a variable's default counts as its value.
          const [tooCostly] = deps.pageCost(
            schema,
            document,
            () => getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}).coerced ?? {},
          );
          if (tooCostly) {
            throw new GraphQLError(tooCostly.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
          }
          const calls: Array<FieldCall & { responseKey: string }> = [];
          for (const { field, node, policy, responseKey } of planOf(schema, root, operation, document)) {
            let args: Record<string, unknown> = {};
            if (field.args.length > 0) {
              try {
                args = getArgumentValues(field, node, request.variables ?? {});
              } catch {
                // execution reports bad arguments; the ip and user limits still count
              }
              try {
                guardArguments(field, args);
              } catch (err) {
                if (err instanceof DomainError) throw requestError(err, 400);
                throw err;
              }
            }
            calls.push({ operation: field.name, args, policy, responseKey });
          }

          for (const call of calls) {
            const counted = consumeRateLimits(call, contextValue, deps);
            const outcome = counted instanceof Promise ? await counted : counted;
            if (outcome instanceof RateLimitExceeded) throw rateLimitedError(outcome.message, outcome.retryAfter);
            if (outcome.length) (clearOnSuccess ??= new Map()).set(call.responseKey, outcome);
          }

          if (calls.some((c) => c.policy?.hashing) && !deps.hashingHasCapacity()) {
            throw rateLimitedError('The server is busy; try again in a moment.', 1);
          }
        },

        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          // A call that succeeded forgives what its policy says it clears.
          for (const [key, clearable] of clearOnSuccess ?? []) {
            if (data?.[key] == null) continue;
            for (const { identity, policy } of clearable) await deps.limiter.clear(identity, policy);
          }
          // A request refused whole as RATE_LIMITED, wherever the refusal came from (a limit here, or a
          // full hashing queue in a service), answers 429 with Retry-After.
          if (data != null || !errors?.length || !errors.every((e) => e.extensions?.code === ErrorCode.RATE_LIMITED)) return;
          response.http.status = 429;
          const retryAfter = Math.max(...errors.map((e) => Number(e.extensions?.retryAfter) || 1));
          response.http.headers.set('retry-after', String(retryAfter));
        },
      };
    },
  };
}
