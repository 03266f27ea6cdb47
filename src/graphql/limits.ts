import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  GraphQLError,
  Kind,
  validate,
  visit,
  type ArgumentNode,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
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

const costRule = (limits: Config['graphql']) =>
  costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, ...report }) as unknown as ValidationRule;

export function queryLimitRules(limits: Config['graphql']): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, ...report }) as unknown as ValidationRule,
    maxAliasesRule({ n: limits.maxAliases, ...report }) as unknown as ValidationRule,
    costRule(limits),
    oncePerRequestRule,
  ];
}

const PAGE_ARGUMENTS = new Set(['first', 'last']);
const isVariablePage = (arg: ArgumentNode) => PAGE_ARGUMENTS.has(arg.name.value) && arg.value.kind === Kind.VARIABLE;
const pagedByVariable = new WeakMap<DocumentNode, boolean>();

/**
 * The cost rule multiplies a list's cost by its page size (`first`, `last`) only when the size is
 * written in the document: validation runs before variables are known, so `first: $n` counts as
 * one, and a client could ask for the largest pages at the price of one row. Once the variables
 * are known, this checks the cost again with each such variable written in as its value, and
 * returns the refusal (empty when within the limit, or when no page size comes from a variable).
 */
export function variablePageCost(limits: Config['graphql']) {
  const rules = [costRule(limits)];
  return (schema: GraphQLSchema, document: DocumentNode, coercedVariables: () => Record<string, unknown>): readonly GraphQLError[] => {
    let paged = pagedByVariable.get(document);
    if (paged === undefined) {
      paged = false;
      visit(document, {
        Argument(arg) {
          if (isVariablePage(arg)) paged = true;
        },
      });
      pagedByVariable.set(document, paged);
    }
    if (!paged) return [];
    const variables = coercedVariables();
    const inlined = visit(document, {
      Argument(arg) {
        if (!isVariablePage(arg) || arg.value.kind !== Kind.VARIABLE) return undefined;
        const value = variables[arg.value.name.value];
        // A value that is not a whole number fails coercion at execution; count it as one here.
        const size = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 1;
        return { ...arg, value: { kind: Kind.INT, value: String(size) } };
      },
    });
    return validate(schema, inlined, rules);
  };
}
