import 'reflect-metadata';
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  type GraphQLField,
  type GraphQLFieldConfigArgumentMap,
} from 'graphql';
import { guardArguments } from '../../src/graphql/input-guard';
import { buildAppSchema } from '../../src/graphql/schema';
import { rejection } from '../support/rejection';

const JSONish = new GraphQLScalarType({ name: 'JSONish' });
const Level = new GraphQLEnumType({ name: 'Level', values: { LOW: {}, HIGH: {} } });
const Address = new GraphQLInputObjectType({
  name: 'Address',
  fields: { street: { type: GraphQLString }, lines: { type: new GraphQLList(GraphQLString) } },
});
const Profile: GraphQLInputObjectType = new GraphQLInputObjectType({
  name: 'Profile',
  fields: () => ({
    name: { type: new GraphQLNonNull(GraphQLString) },
    password: { type: GraphQLString, extensions: { secret: true } },
    addresses: { type: new GraphQLList(new GraphQLNonNull(Address)) },
    referrer: { type: Profile },
    level: { type: Level },
    meta: { type: JSONish },
  }),
});

/** A root field with the given arguments, as the schema hands it to the guard. */
function fieldWith(args: GraphQLFieldConfigArgumentMap): GraphQLField<unknown, unknown> {
  const Query = new GraphQLObjectType({ name: 'Query', fields: { f: { type: GraphQLBoolean, args } } });
  return new GraphQLSchema({ query: Query }).getQueryType()!.getFields().f!;
}

const field = fieldWith({
  email: { type: new GraphQLNonNull(GraphQLString) },
  id: { type: GraphQLID },
  secret: { type: GraphQLString, extensions: { secret: true } },
  tags: { type: new GraphQLList(GraphQLString) },
  profile: { type: Profile },
  profiles: { type: new GraphQLList(Profile) },
});

const refusal = (args: Record<string, unknown>) => rejection(() => guardArguments(field, args));

describe('guardArguments', () => {
  it('accepts ordinary strings, tab and newline, and any character but NUL in a secret', () => {
    expect(() =>
      guardArguments(field, {
        email: 'ada@example.com',
        id: '42',
        secret: 'p\u0001\u001b[31m\u0085\u009f\r\n\tw',
        tags: ['a\tb', 'c\nd', 'é ü 中文 🙂', '\u200b'],
        profile: { name: 'Ada\tL', password: '\u0007bell\u007f', addresses: [{ street: 'Main\n1', lines: ['x'] }], level: 'HIGH' },
      }),
    ).not.toThrow();
  });

  it('accepts missing and null values', () => {
    expect(() => guardArguments(field, { email: 'a', profile: null, tags: [null, 'x'], profiles: undefined })).not.toThrow();
  });

  it.each([
    ['email', { email: 'a\u0000b' }],
    ['email', { email: 'x@y.z\u0000' }],
    ['id', { email: 'a', id: '\u0000' }],
    ['secret', { email: 'a', secret: 'pass\u0000word' }],
    ['tags', { email: 'a', tags: ['ok', 'n\u0000o'] }],
    ['name', { email: 'a', profile: { name: '\u0000' } }],
    ['password', { email: 'a', profile: { name: 'A', password: 'x\u0000' } }],
    ['street', { email: 'a', profile: { name: 'A', addresses: [{ street: 'ok' }, { street: 'b\u0000d' }] } }],
    ['lines', { email: 'a', profile: { name: 'A', addresses: [{ lines: ['\u0000'] }] } }],
    ['name', { email: 'a', profile: { name: 'A', referrer: { name: 'B', referrer: { name: 'C\u0000' } } } }],
    ['name', { email: 'a', profiles: [{ name: 'ok' }, { name: 'n\u0000' }] }],
    ['meta', { email: 'a', profile: { name: 'A', meta: { deep: ['x', { k: 'v\u0000' }] } } }],
    ['meta', { email: 'a', profile: { name: 'A', meta: { 'k\u0000': 1 } } }],
  ])('refuses NUL in %s, in any string, passwords included', (name, args) => {
    const err = refusal(args);
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.details).toEqual({ field: name });
    expect(err.message).toMatch(/U\+0000/);
  });

  it.each([
    ['\u0001', 'a C0 control'],
    ['\r', 'a carriage return'],
    ['\u000b', 'a vertical tab'],
    ['\u000c', 'a form feed'],
    ['\u001b', 'an escape'],
    ['\u001f', 'the last C0 control'],
    ['\u007f', 'DEL'],
    ['\u0080', 'the first C1 control'],
    ['\u0085', 'next line'],
    ['\u009f', 'the last C1 control'],
  ])('refuses %j (%s) in strings that are not secret, naming the field', (char) => {
    for (const [name, args] of [
      ['email', { email: `a${char}b` }],
      ['tags', { email: 'a', tags: [char] }],
      ['name', { email: 'a', profile: { name: `x${char}` } }],
      ['street', { email: 'a', profile: { name: 'x', addresses: [{ street: char }] } }],
    ] as const) {
      const err = refusal(args);
      expect(err.code).toBe('BAD_USER_INPUT');
      expect(err.details).toEqual({ field: name });
      expect(err.message).toMatch(/control characters/);
    }
    expect(() => guardArguments(field, { email: 'a', secret: `p${char}w`, profile: { name: 'x', password: `p${char}w` } })).not.toThrow();
  });

  it('names the first offending field in argument order', () => {
    expect(refusal({ email: 'a\u0001', secret: 'b\u0000' }).details).toEqual({ field: 'email' });
  });

  it('takes a single value given for a list', () => {
    expect(refusal({ email: 'a', tags: 'x\u0000' }).details).toEqual({ field: 'tags' });
  });

  it('walks values nested deeper than the call stack, typed or not', () => {
    let deep: Record<string, unknown> = { name: 'bottom\u0000' };
    for (let i = 0; i < 100_000; i++) deep = { name: 'x', referrer: deep };
    expect(refusal({ email: 'a', profile: deep }).details).toEqual({ field: 'name' });
    let untyped: unknown = 'v\u0000';
    for (let i = 0; i < 100_000; i++) untyped = [{ k: untyped }];
    expect(refusal({ email: 'a', profile: { name: 'A', meta: untyped } }).details).toEqual({ field: 'meta' });
  });

  it('walks a variable that is not coerced yet, whatever its shape', () => {
    expect(refusal({ email: { nested: ['\u0000'] } }).details).toEqual({ field: 'email' });
    expect(refusal({ email: 'a', profile: 'x\u0000' }).details).toEqual({ field: 'profile' });
    expect(refusal({ email: 'a', profile: [{ name: '\u0000' }] }).details).toEqual({ field: 'profile' });
    expect(() => guardArguments(field, { email: 42, id: true, tags: { a: 1 }, profile: { name: 7, level: 'LOW', addresses: 'x' } })).not.toThrow();
  });

  it('honours a secret argument, not only a secret input field', () => {
    const withSecretArg = fieldWith({ token: { type: GraphQLString }, password: { type: GraphQLString, extensions: { secret: true } } });
    expect(() => guardArguments(withSecretArg, { token: 't', password: '\u0001' })).not.toThrow();
    expect(rejection(() => guardArguments(withSecretArg, { token: '\u0001' })).details).toEqual({ field: 'token' });
  });
});

describe('the password fields of the schema', () => {
  it('are the ones declared secret, and only they', async () => {
    const schema = await buildAppSchema();
    const secret: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!(type instanceof GraphQLInputObjectType)) continue;
      for (const f of Object.values(type.getFields())) if (f.extensions?.secret === true) secret.push(`${type.name}.${f.name}`);
    }
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      for (const f of Object.values(root?.getFields() ?? {})) {
        for (const arg of f.args) if (arg.extensions?.secret === true) secret.push(`${f.name}(${arg.name})`);
      }
    }
    expect(secret.sort()).toEqual([
      'ChangePasswordInput.currentPassword',
      'ChangePasswordInput.newPassword',
      'LogInInput.password',
      'ResetPasswordInput.newPassword',
      'SignUpInput.password',
    ]);
  });
});
