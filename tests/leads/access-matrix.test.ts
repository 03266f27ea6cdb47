import { getNamedType, isObjectType, type GraphQLNamedType } from 'graphql';
import { accessOf } from '../../src/graphql/access';
import { buildAppSchema } from '../../src/graphql/schema';
import { rootFields } from '../../src/modules/rate-limit/rate-limit.policies';
import { captureLead } from '../assessments/support';
import { codes, type GraphQLResponse, ok } from '../support/graphql';
import { createSuperuser, createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';
import { convert, DELETE_LEAD, LEAD_FIELDS, LEADS, METRICS, takeAssessment, UPDATE_LEAD } from './support';

// Who may use the staff view of leads: every operation, nested fields included, called by
// anonymous, a lead session, an account (the very account a lead became), another account and a
// superuser. Only the superuser gets an answer; nobody else changes anything or reads a lead.

const CALLERS = ['anon', 'lead', 'user', 'other', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
const REFUSED: Record<Exclude<Caller, 'admin'>, string> = { anon: 'UNAUTHENTICATED', lead: 'FORBIDDEN', user: 'FORBIDDEN', other: 'FORBIDDEN' };

let t: TestApp;
const tokens = {} as Record<Caller, string | undefined>;
// The lead of the lead session, and the converted lead whose account is the "user" caller.
let open: { leadId: string; email: string };
let converted: { leadId: string; email: string; userId: string };
const NOTES = 'private staff notes 7f3a';

beforeAll(async () => {
  t = await startTestApp({ env: { ASSESSMENT_START_INTERVAL: '0', ASSESSMENT_SUBMIT_INTERVAL: '0' } });
  const admin = await createSuperuser(t);
  const other = await createVerifiedUser(t, 'oth');
  const lead = await captureLead(t, { fullName: 'Open Lead', companyName: 'Open AS', phone: '+47 11 22 33 44' });
  await takeAssessment(t, lead.token);
  open = lead;
  const becomes = await captureLead(t, { fullName: 'Converted Lead', companyName: 'Converted AS' });
  await takeAssessment(t, becomes.token);
  const account = await convert(t, becomes.email);
  converted = { ...becomes, userId: account.userId };
  Object.assign(tokens, { anon: undefined, lead: lead.token, user: account.token, other: other.tokens.accessToken, admin: admin.tokens.accessToken });
  await t.sql(`update leads set notes = ? where id in (?, ?)`, [NOTES, open.leadId, converted.leadId]);
});
afterAll(() => t.stop());

const as = (caller: Caller, query: string, variables: Record<string, unknown> = {}) =>
  t.gql(query, variables, tokens[caller] ? { token: tokens[caller] } : {});

/** A refusal: the caller's code alone, no data, and nothing of any lead in the body. */
function expectRefused(caller: Exclude<Caller, 'admin'>, res: GraphQLResponse) {
  expect(codes(res)).toEqual([REFUSED[caller]]);
  expect(res.data ?? null).toBeNull();
  const body = JSON.stringify(res);
  for (const secret of [NOTES, open.email, converted.email, 'Open AS', '+47 11 22 33 44']) expect(body).not.toContain(secret);
}

const leadRows = () => t.sql(`select id, status, notes, email, converted_user_id from leads where id in (?, ?) order by id`, [open.leadId, converted.leadId]);
const adminEvents = () => t.sql(`select action from audit_events where action like 'admin.%Lead%'`);

describe('the staff view of leads, caller by caller', () => {
  const NESTED = `query ($first: Int) { leads(first: $first) { totalCount edges { node { ${LEAD_FIELDS} } } } }`;

  it.each(CALLERS.filter((c) => c !== 'admin'))('%s: every query and mutation refused, nested fields too, nothing changed', async (caller) => {
    const c = caller as Exclude<Caller, 'admin'>;
    const before = await leadRows();
    expectRefused(c, await as(c, NESTED, { first: 30 }));
    expectRefused(c, await as(c, LEADS, { filter: { search: open.email } }));
    expectRefused(c, await as(c, METRICS));
    expectRefused(c, await as(c, `{ leadMetrics { averageScoreByIndustry { key averageScore count } capturedPerDay { date count } } }`));
    for (const id of [open.leadId, converted.leadId]) {
      expectRefused(c, await as(c, UPDATE_LEAD, { id, input: { status: 'LOST', notes: 'taken over' } }));
      expectRefused(c, await as(c, DELETE_LEAD, { id }));
    }
    // Refused before any lookup: an unknown or malformed id answers the same.
    expectRefused(c, await as(c, DELETE_LEAD, { id: 'not-a-uuid' }));
    expectRefused(c, await as(c, UPDATE_LEAD, { id: '00000000-0000-4000-8000-00000000dead', input: { status: 'LOST' } }));
    expect(await leadRows()).toEqual(before);
    expect(await adminEvents()).toEqual([]);
    // The refused callers' own sessions still work (the lead's too): nothing was revoked.
    if (c === 'lead') expect(codes(await as(c, `{ myAssessments { totalCount } }`))).toEqual([]);
  });

  it('admin: reads every field, updates, and erases', async () => {
    const page = ok(await as('admin', NESTED, { first: 30 })).leads;
    const byId = new Map(page.edges.map((e: any) => [e.node.id, e.node]));
    expect(byId.get(open.leadId)).toMatchObject({ email: open.email, notes: NOTES, phone: '+47 11 22 33 44', convertedUser: null, latestScore: { percentageScore: 100 } });
    expect(byId.get(converted.leadId)).toMatchObject({ email: converted.email, convertedUser: { id: converted.userId, email: converted.email } });
    expect(ok(await as('admin', METRICS)).leadMetrics.captured).toBe(2);
    expect(ok(await as('admin', UPDATE_LEAD, { id: open.leadId, input: { status: 'QUALIFIED' } })).updateLead).toMatchObject({ status: 'QUALIFIED', notes: NOTES });
    expect(ok(await as('admin', DELETE_LEAD, { id: open.leadId })).adminDeleteLead).toBe(true);
    expect((await adminEvents()).map((e) => e.action).sort()).toEqual(['admin.adminDeleteLead', 'admin.updateLead']);
    // The erased lead's own session ends with it.
    expect(codes(await as('lead', `{ myAssessments { totalCount } }`))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('what reaches a lead', () => {
  it('no field open to non-staff leads to a Lead, LeadScore or LeadMetrics, at any depth', async () => {
    const schema = await buildAppSchema();
    const staffOnly = new Set(['Lead', 'LeadScore', 'LeadMetrics', 'LeadConnection', 'LeadEdge', 'LeadScoreGroup', 'LeadDayCount']);
    const reached = new Map<string, string>();
    for (const [name, field] of rootFields(schema)) {
      const access = accessOf(field);
      if (access !== 'public' && access?.roles?.includes('SUPERUSER')) continue;
      const stack: Array<[GraphQLNamedType, string]> = [[getNamedType(field.type), name]];
      const seen = new Set<string>();
      for (let next = stack.pop(); next; next = stack.pop()) {
        const [type, path] = next;
        if (seen.has(type.name)) continue;
        seen.add(type.name);
        if (staffOnly.has(type.name)) reached.set(type.name, path);
        if (isObjectType(type)) for (const f of Object.values(type.getFields())) stack.push([getNamedType(f.type), `${path}.${f.name}`]);
      }
    }
    expect(Object.fromEntries(reached)).toEqual({});
  });

  it("captureLead's answer has no lead in it to select", async () => {
    const res = await t.gql(`mutation { captureLead(input: { email: "probe@example.com" }) { leadId lead { notes status } } }`);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(await t.sql(`select id from leads where email = 'probe@example.com'`)).toEqual([]);
  });
});
