import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { accessOf } from '../../src/graphql/access';
import { buildAppSchema } from '../../src/graphql/schema';
import { captureLead } from '../assessments/support';
import { codes } from '../support/graphql';
import { createSuperuser, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';

// Walks the schema: every root field that declares a role or a session is called by every caller
// that lacks it, with well-typed arguments, and must be refused with the right code before it does
// anything. A new staff operation is covered the moment it exists, whatever its own tests forget.

/** A value of `type` that passes GraphQL's coercion (required input fields filled in). */
function sample(type: GraphQLInputType, depth = 0): unknown {
  const inner = getNullableType(type) as GraphQLInputType;
  if (isListType(inner)) return [sample(inner.ofType, depth + 1)];
  if (isEnumType(inner)) return inner.getValues()[0]!.value;
  if (isInputObjectType(inner)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(inner.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined && depth < 5) value[field.name] = sample(field.type, depth + 1);
    }
    return value;
  }
  if (isScalarType(inner)) {
    switch (inner.name) {
      case 'Int':
        return 1;
      case 'Float':
        return 1.5;
      case 'Boolean':
        return false;
      case 'ID':
        return '00000000-0000-4000-8000-00000000abcd';
      case 'DateTime':
        return '2026-01-01T00:00:00.000Z';
      case 'JSON':
        return {};
      default:
        return 'sample-value';
    }
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** A document calling `field` once with every argument as a variable, selecting only __typename. */
function callOf(kind: 'query' | 'mutation', name: string, field: GraphQLField<unknown, unknown>) {
  const args = field.args.filter((a) => isNonNullType(a.type) || a.name === 'hard');
  const variables = Object.fromEntries(args.map((a) => [a.name, sample(a.type)]));
  const declared = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const passed = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const named = getNamedType(field.type);
  const selection = 'getFields' in named ? ' { __typename }' : '';
  const document = `${kind}${declared ? ` (${declared})` : ''} { ${name}${passed ? `(${passed})` : ''}${selection} }`;
  return { document, variables };
}

describe('every guarded root field, walked from the schema', () => {
  let t: TestApp;
  const tokens: Record<string, string | undefined> = {};
  const staffFields: Array<{ kind: 'query' | 'mutation'; name: string; field: GraphQLField<unknown, unknown> }> = [];
  const accountFields: typeof staffFields = [];

  beforeAll(async () => {
    const schema = await buildAppSchema();
    for (const [kind, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
      for (const [name, field] of Object.entries(type?.getFields() ?? {})) {
        const access = accessOf(field);
        if (!access || access === 'public') continue;
        if (access.roles?.includes('SUPERUSER')) staffFields.push({ kind, name, field });
        else if (!(access.scopes ?? ['full']).includes('lead')) accountFields.push({ kind, name, field });
      }
    }
    t = await startTestApp();
    tokens.user = (await createVerifiedUser(t, 'walk')).tokens.accessToken;
    tokens.lead = (await captureLead(t)).token;
    tokens.admin = (await createSuperuser(t, 'walkadm')).tokens.accessToken;
  });
  afterAll(() => t?.stop());

  it('finds the staff operations', () => {
    // Issue 9's administration; the list grows as staff operations are added.
    expect(staffFields.length).toBeGreaterThan(0);
  });

  it('refuses every staff field to anonymous callers (UNAUTHENTICATED), and to accounts and lead sessions (FORBIDDEN)', async () => {
    const before = await t.sql<{ n: string }>(`select (select count(*) from audit_events) + (select count(*) from users) + (select count(*) from tiers) as n`);
    const wrong: string[] = [];
    for (const { kind, name, field } of staffFields) {
      const { document, variables } = callOf(kind, name, field);
      for (const [caller, expected] of [['anonymous', 'UNAUTHENTICATED'], ['user', 'FORBIDDEN'], ['lead', 'FORBIDDEN']] as const) {
        const res = await t.gql(document, variables, { token: caller === 'anonymous' ? undefined : tokens[caller] });
        const data = res.data as Record<string, unknown> | null | undefined;
        if (codes(res)[0] !== expected || (data && data[name] !== null && data[name] !== undefined)) {
          wrong.push(`${name} as ${caller}: ${JSON.stringify(res.errors?.map((e) => e.extensions?.code) ?? res.data)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    const after = await t.sql<{ n: string }>(`select (select count(*) from audit_events) + (select count(*) from users) + (select count(*) from tiers) as n`);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('refuses every account-only field to anonymous callers (UNAUTHENTICATED) and lead sessions (EMAIL_NOT_VERIFIED)', async () => {
    const wrong: string[] = [];
    for (const { kind, name, field } of accountFields) {
      const { document, variables } = callOf(kind, name, field);
      for (const [caller, expected] of [['anonymous', 'UNAUTHENTICATED'], ['lead', 'EMAIL_NOT_VERIFIED']] as const) {
        const res = await t.gql(document, variables, { token: caller === 'anonymous' ? undefined : tokens[caller] });
        if (codes(res)[0] !== expected) wrong.push(`${name} as ${caller}: ${JSON.stringify(res.errors?.map((e) => e.extensions?.code) ?? res.data)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lets a superuser past the guard on every staff field (whatever the sample arguments then meet)', async () => {
    const refused: string[] = [];
    for (const { kind, name, field } of staffFields) {
      const { document, variables } = callOf(kind, name, field);
      const res = await t.gql(document, variables, { token: tokens.admin });
      const code = codes(res)[0];
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'INTERNAL_SERVER_ERROR') refused.push(`${name}: ${code}`);
    }
    expect(refused).toEqual([]);
  });
});
