import {
  getNamedType,
  getNullableType,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLScalarType,
  GraphQLString,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { buildAppSchema } from '../../src/graphql/schema';
import { codes, type GraphQLResponse } from '../support/graphql';
import { RELAXED_IP_LIMITS, startTestApp, type TestApp } from '../support/test-app';

/** One string in the schema a client can send: a root field, the path to it in the arguments, and its name. */
interface StringSlot {
  operation: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  /** Argument name, then input field names down to the string. */
  path: string[];
  secret: boolean;
  /** The bound declared with MaxLength, if any. */
  maxLength?: number;
}

/** Every String argument and String input field reachable from every root field. */
function stringSlots(schema: GraphQLSchema): StringSlot[] {
  const slots: StringSlot[] = [];
  type Declared = { extensions?: { secret?: unknown; maxLength?: unknown } | null };
  const visit = (operation: StringSlot['operation'], field: GraphQLField<unknown, unknown>, type: GraphQLInputType, path: string[], declared: Declared, seen: Set<string>) => {
    const named = getNamedType(type);
    const secret = declared.extensions?.secret === true;
    const maxLength = typeof declared.extensions?.maxLength === 'number' ? declared.extensions.maxLength : undefined;
    if (named === GraphQLString) slots.push({ operation, field, path, secret, maxLength });
    else if (named instanceof GraphQLInputObjectType && !seen.has(named.name)) {
      for (const inner of Object.values(named.getFields())) {
        visit(operation, field, inner.type, [...path, inner.name], inner, new Set([...seen, named.name]));
      }
    }
  };
  for (const [operation, root] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const secretArguments = (field.extensions as { secretArguments?: string[] } | undefined)?.secretArguments ?? [];
      for (const arg of field.args) {
        const declared = secretArguments.includes(arg.name) ? { extensions: { ...arg.extensions, secret: true } } : arg;
        visit(operation, field, arg.type, [arg.name], declared, new Set());
      }
    }
  }
  return slots;
}

/** A value of `type` that coerces, with `poison` at `path` and harmless values elsewhere. */
function valueOf(type: GraphQLInputType, path: string[], poison: string): unknown {
  const nullable = getNullableType(type);
  if (nullable instanceof GraphQLList) return [valueOf(nullable.ofType, path, poison)];
  if (nullable instanceof GraphQLInputObjectType) {
    return Object.fromEntries(
      Object.values(nullable.getFields()).map((f) => [f.name, f.name === path[0] ? valueOf(f.type, path.slice(1), poison) : valueOf(f.type, [], '')]),
    );
  }
  if (nullable instanceof GraphQLEnumType) return nullable.getValues()[0]!.name;
  if (nullable === GraphQLString) return path.length === 0 && poison ? poison : 'harmless';
  if (nullable instanceof GraphQLScalarType) return { Boolean: true, Int: 1, Float: 1, ID: '1', DateTime: '2026-01-01T00:00:00Z' }[nullable.name] ?? 'x';
  throw new Error(`no value for ${String(type)}`);
}

/** The operation that sends `poison` to a slot through variables. */
function requestFor(slot: StringSlot, poison: string): { query: string; variables: Record<string, unknown> } {
  const { field } = slot;
  const definitions = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = getNamedType(field.type) instanceof GraphQLScalarType ? '' : ' { __typename }';
  const query = `${slot.operation} ${definitions ? `(${definitions})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
  const variables = Object.fromEntries(
    field.args.map((a) => [a.name, a.name === slot.path[0] ? valueOf(a.type, slot.path.slice(1), poison) : valueOf(a.type, [], '')]),
  );
  return { query, variables };
}

function expectRefused(res: GraphQLResponse, field: string) {
  expect(res.status).toBeLessThan(500);
  expect(res.status).toBe(400);
  expect(res.data ?? null).toBeNull();
  expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
}

let schema: GraphQLSchema;
let slots: StringSlot[];
let t: TestApp;
beforeAll(async () => {
  schema = await buildAppSchema();
  slots = stringSlots(schema);
  // Over-bound strings are refused before any limit counts them; the at-bound ones reach the
  // services, so the per-address limits of capture and login links (all to one address) are raised.
  t = await startTestApp({
    env: { RATE_LIMITS: `${RELAXED_IP_LIMITS},captureLead.account=100000/60,requestLoginLink.account=100000/60` },
  });
});
afterAll(() => t?.stop());

const name = (s: StringSlot) => `${s.field.name}(${s.path.join('.')})`;

it('finds the string inputs of the schema, passwords among them', () => {
  const names = slots.map(name);
  expect(names).toEqual(
    expect.arrayContaining([
      'logIn(input.usernameOrEmail)',
      'logIn(input.password)',
      'signUp(input.email)',
      'signUp(input.password)',
      'requestPasswordReset(email)',
      'resendVerificationEmail(email)',
      'resetPassword(input.token)',
      'changePassword(input.currentPassword)',
      'refreshSession(refreshToken)',
      'verifyEmail(token)',
    ]),
  );
  expect(slots.filter((s) => s.secret).map(name).sort()).toEqual([
    'changePassword(input.currentPassword)',
    'changePassword(input.newPassword)',
    'completeMfaLogIn(code)',
    'completeOidcLogin(code)',
    'completeOidcLogin(state)',
    'confirmTotpEnrollment(code)',
    'deleteMe(password)',
    'disableTotp(code)',
    'linkOidcIdentity(code)',
    'linkOidcIdentity(state)',
    'logIn(input.password)',
    'regenerateRecoveryCodes(code)',
    'resetPassword(input.newPassword)',
    'signUp(input.password)',
  ]);
});

it('refuses U+0000 in every string argument and input field of every root field, naming it, before any work', async () => {
  const verifies = t.app.passwords.stats.verifies;
  const hashes = t.app.passwords.stats.hashes;
  for (const slot of slots) {
    for (const poison of ['a\u0000b', 'x@y.z\u0000', '\u0000']) {
      const { query, variables } = requestFor(slot, poison);
      const res = await t.gql(query, variables);
      try {
        expectRefused(res, slot.path[slot.path.length - 1]!);
      } catch (err) {
        throw new Error(`${name(slot)} with ${JSON.stringify(poison)}: ${(err as Error).message}\n${JSON.stringify(res)}`);
      }
    }
  }
  // Refused before any password was hashed or verified.
  expect(t.app.passwords.stats).toEqual({ verifies, hashes });
});

it('refuses other control characters in every string that is not a password, and lets passwords have them', async () => {
  for (const slot of slots) {
    const { query, variables } = requestFor(slot, 'a long\u0001pass\u001bphrase\u0085');
    const res = await t.gql(query, variables);
    expect(res.status).toBeLessThan(500);
    const guarded = (res.errors ?? []).filter((e) => /control characters/.test(e.message));
    if (slot.secret) expect(guarded).toEqual([]);
    else {
      try {
        expectRefused(res, slot.path[slot.path.length - 1]!);
      } catch (err) {
        throw new Error(`${name(slot)}: ${(err as Error).message}\n${JSON.stringify(res)}`);
      }
    }
  }
});

it('refuses a string over its declared bound in every field that has one, naming it, before any work', async () => {
  const bounded = slots.filter((s) => s.maxLength !== undefined);
  expect(bounded.map((s) => `${name(s)}≤${s.maxLength}`)).toEqual(
    expect.arrayContaining(['logIn(input.usernameOrEmail)≤320', 'logIn(input.password)≤4096', 'signUp(input.email)≤320', 'resetPassword(input.code)≤16']),
  );
  const { verifies, hashes } = t.app.passwords.stats;
  for (const slot of bounded) {
    const { query, variables } = requestFor(slot, 'x'.repeat(slot.maxLength! + 1));
    const res = await t.gql(query, variables);
    try {
      expectRefused(res, slot.path[slot.path.length - 1]!);
      expect(res.errors![0]!.message).toMatch(new RegExp(`at most ${slot.maxLength} characters`));
    } catch (err) {
      throw new Error(`${name(slot)}: ${(err as Error).message}\n${JSON.stringify(res)}`);
    }
    // At the bound, the guard lets it through (whatever the service then says of it).
    const atBound = await t.gql(...Object.values(requestFor(slot, 'x'.repeat(slot.maxLength!))) as [string, Record<string, unknown>]);
    expect((atBound.errors ?? []).filter((e) => /at most \d+ characters/.test(e.message))).toEqual([]);
  }
  expect(t.app.passwords.stats.verifies - verifies).toBeLessThanOrEqual(bounded.length); // only the at-bound logIns and checks
  expect(t.app.passwords.stats.hashes).toBeGreaterThanOrEqual(hashes);
});

describe.each(['x@y.z\u0000', 'a\u0000b'])('with %j', (value) => {
  it.each([
    ['logIn', 'usernameOrEmail', `mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }`, { input: { usernameOrEmail: value, password: 'a long passphrase' } }],
    ['logIn', 'password', `mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }`, { input: { usernameOrEmail: 'ada', password: value } }],
    ['signUp', 'email', `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`, { input: { email: value, username: 'ada_nul', name: 'Ada', password: 'a long passphrase' } }],
    ['signUp', 'password', `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`, { input: { email: 'ada@example.com', username: 'ada_nul', name: 'Ada', password: `${value}-long-enough` } }],
    ['requestPasswordReset', 'email', `mutation ($e: String!) { requestPasswordReset(email: $e) }`, { e: value }],
    ['resendVerificationEmail', 'email', `mutation ($e: String!) { resendVerificationEmail(email: $e) }`, { e: value }],
  ])('%s refuses it in %s with 400 BAD_USER_INPUT, however often it is sent', async (_op, field, query, variables) => {
    // More than any per-account limit: the refusal comes before the limits count, or look anything up.
    for (let i = 0; i < 7; i++) expectRefused(await t.gql(query, variables), field);
  });

  it('is refused in a string literal too', async () => {
    const literal = JSON.stringify(value); // a GraphQL string literal with \u0000 escaped
    expectRefused(await t.gql(`mutation { requestPasswordReset(email: ${literal}) }`), 'email');
    expectRefused(await t.gql(`mutation { logIn(input: { usernameOrEmail: ${literal}, password: "a long passphrase" }) { accessToken } }`), 'usernameOrEmail');
  });
});

it('creates no account from a refused sign-up', async () => {
  const rows = await t.sql<{ n: string }>(`select count(*) as n from users where email like '%x@y.z%' or username = 'ada_nul'`);
  expect(Number(rows[0]!.n)).toBe(0);
});

it('lets tab and newline through where the rules allow them', async () => {
  const res = await t.gql(`mutation ($e: String!) { requestPasswordReset(email: $e) }`, { e: '\tada@example.com\n' });
  expect(res.errors).toBeUndefined();
  expect(res.data).toEqual({ requestPasswordReset: true });
});
