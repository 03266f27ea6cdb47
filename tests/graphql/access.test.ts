import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { accessOf, assertAccessDeclared } from '../../src/graphql/access';
import { buildAppSchema } from '../../src/graphql/schema';
import { rootFields } from '../../src/modules/rate-limit/rate-limit.policies';

describe('access declarations', () => {
  it('every root field of the schema declares @Public() or @Authorized(…)', async () => {
    const schema = await buildAppSchema();
    const undeclared = [...rootFields(schema)].filter(([, field]) => !accessOf(field)).map(([name]) => name);
    expect(undeclared).toEqual([]);
    expect(rootFields(schema).size).toBeGreaterThan(5);
  });

  it('a schema with a root field that declares neither is refused, naming the field', () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          open: { type: GraphQLString, extensions: { access: 'public' } },
          forgotten: { type: GraphQLString },
        },
      }),
    });
    expect(() => assertAccessDeclared(schema)).toThrow(/forgotten/);
    expect(() => assertAccessDeclared(schema)).not.toThrow(/open/);
  });

  it('the fields that need a session say so, and the rest are public on purpose', async () => {
    const schema = await buildAppSchema();
    const byAccess = Object.fromEntries([...rootFields(schema)].map(([name, field]) => [name, accessOf(field) === 'public' ? 'public' : 'session']));
    expect(byAccess).toMatchObject({ me: 'public', logIn: 'public', logOutEverywhere: 'session', changePassword: 'session' });
  });
});
