import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import type { Config } from '../config';
import { sensitiveOperations } from '../modules/rate-limit/rate-limit.policies';
import { collectRootFields, fragmentsOf } from './root-fields';

/**
 * Sensitive root fields may appear once per request: twenty aliased logIns are refused before
 * any of them runs, instead of each being hashed and rate-limited in turn.
 */
export const oncePerRequestRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    const fieldNames = sensitiveOperations(context.getSchema());
    const counts = new Map<string, number>();
    for (const field of collectRootFields(operation, fragmentsOf(context.getDocument()))) {
      const name = field.name.value;
      if (!fieldNames.has(name)) continue;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (counts.get(name) === 2) {
        context.reportError(new GraphQLError(`${name} may be called only once per request.`, { nodes: [field] }));
      }
    }
  },
});

// graphql-armor throws by default, which escapes validate() and becomes a 500; report instead,
// so a refused query is a GRAPHQL_VALIDATION_FAILED (400) listed with the other validation errors.
const report = {
  propagateOnRejection: false,
  onReject: [(context: unknown, error: GraphQLError) => (context as ValidationContext).reportError(error)],
};

export function queryLimitRules(limits: Config['graphql']): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, ...report }) as unknown as ValidationRule,
    maxAliasesRule({ n: limits.maxAliases, ...report }) as unknown as ValidationRule,
    costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, ...report }) as unknown as ValidationRule,
    oncePerRequestRule,
  ];
}
