import type { GraphQLField } from 'graphql';

// Placeholder until the input guard lands: accepts everything.
export function guardArguments(_field: GraphQLField<unknown, unknown>, _args: Record<string, unknown>): void {}
