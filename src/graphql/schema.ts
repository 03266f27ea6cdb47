import 'reflect-metadata';
import { DateTimeResolver } from 'graphql-scalars';
import { GraphQLScalarType, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType, type NonEmptyArray } from 'type-graphql';
import { modules } from '../modules';
import type { PostureModule } from '../modules/module';
import { assertAccessDeclared } from './access';
import { authChecker } from './auth-checker';

/**
 * graphql-scalars' DateTime, answering the ISO string itself rather than a Date: JSON.stringify
 * turns a Date into the same string, but calling its toJSON from inside the stringifier cost more
 * than the rest of writing a `me` answer. Same name, description, checks and inputs.
 */
export const DateTimeScalar = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize: (value) => (DateTimeResolver.serialize(value) as Date).toISOString(),
});

/** Builds the API's schema from the modules' resolvers; refuses a root field that declares neither @Public() nor @Authorized(…). */
export async function buildAppSchema(container?: ContainerType, list: readonly PostureModule[] = modules): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: list.flatMap((m) => m.resolvers ?? []) as unknown as NonEmptyArray<Function>,
    container,
    authChecker,
    // Input bounds are checked by the input guard (MaxLength), before any resolver or lookup.
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
  });
  assertAccessDeclared(schema);
  // type-graphql has no option for describing the root types, and Sandbox shows only descriptions.
  schema.getQueryType()!.description = 'Reads. Each field lists the error codes (`extensions.code`) it can raise.';
  schema.getMutationType()!.description = 'Changes. Each field lists the error codes (`extensions.code`) it can raise.';
  return schema;
}

/** The SDL committed as schema.graphql: sorted, so that it only changes when the schema does. */
export const printAppSchema = (schema: GraphQLSchema) => `${printSchema(lexicographicSortSchema(schema))}\n`;
