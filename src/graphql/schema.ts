import 'reflect-metadata';
import { DateTimeResolver } from 'graphql-scalars';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { UserResolver } from '../modules/users/user.resolver';
import { authChecker } from './auth-checker';

export const resolvers = [UserResolver, AuthResolver] as const;

export function buildAppSchema(container?: ContainerType): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    container,
    authChecker,
    validate: { forbidUnknownValues: false },
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
  });
}

/** The SDL committed as schema.graphql: sorted, so that it only changes when the schema does. */
export const printAppSchema = (schema: GraphQLSchema) => `${printSchema(lexicographicSortSchema(schema))}\n`;
