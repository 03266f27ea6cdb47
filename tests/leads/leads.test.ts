import { randomBytes } from 'node:crypto';
import { captureLead } from '../assessments/support';
import { codes, ok } from '../support/graphql';
import { statementsDuring } from '../support/statements';
import { bearer, createSuperuser, startTestApp, type TestApp } from '../support/test-app';
import { convert, eventsAbout, LEADS, seedAssessment, seedLead, takeAssessment } from './support';

// The staff list of leads: newest first, filtered, paged with opaque cursors, each lead with the
// account it became and its latest score, in a fixed number of statements per page.

let t: TestApp;
let admin: { token: string };

beforeAll(async () => {
  t = await startTestApp({ env: { ASSESSMENT_START_INTERVAL: '0', ASSESSMENT_SUBMIT_INTERVAL: '0' } });
  admin = bearer(await createSuperuser(t));
});
afterAll(() => t.stop());

const list = async (variables: Record<string, unknown>) => ok(await t.gql(LEADS, variables, admin)).leads;
const ids = (page: any) => page.edges.map((e: any) => e.node.id);

/** Every lead matching `filter`, page by page, `size` at a time. */
async function everyPage(filter: Record<string, unknown>, size: number) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const page: any = await list({ filter, first: size, after });
    seen.push(...ids(page));
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    if (!page.pageInfo.hasNextPage) return seen;
    after = page.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('paging', () => {
  const source = `paging-${randomBytes(3).toString('hex')}`;
  let expected: string[];

  beforeAll(async () => {
    // Seven leads, three sharing one instant: the id breaks the tie.
    const rows: Array<{ id: string; at: string }> = [];
    for (const at of ['2025-05-01T10:00:00Z', '2025-05-03T10:00:00Z', '2025-05-02T10:00:00Z', '2025-05-02T10:00:00Z', '2025-05-02T10:00:00Z', '2025-04-30T00:00:00Z', '2025-05-04T00:00:00Z']) {
      rows.push({ id: await seedLead(t, { createdAt: at, source }), at });
    }
    expected = rows.sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id)).map((r) => r.id);
  });

  it('lists newest first, the id breaking ties, with the total', async () => {
    const page = await list({ filter: { source }, first: 30 });
    expect(ids(page)).toEqual(expected);
    expect(page.totalCount).toBe(7);
    expect(page.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false, startCursor: page.edges[0].cursor, endCursor: page.edges[6].cursor });
  });

  it.each([1, 2, 3, 7])('walks every lead once in pages of %i', async (size) => {
    expect(await everyPage({ source }, size)).toEqual(expected);
  });

  it('keeps the total for the whole filter on every page', async () => {
    const first = await list({ filter: { source }, first: 2 });
    const second = await list({ filter: { source }, first: 2, after: first.pageInfo.endCursor });
    expect([first.totalCount, second.totalCount]).toEqual([7, 7]);
    expect(ids(second)).toEqual(expected.slice(2, 4));
  });

  it('answers an empty page for first: 0, and 20 by default', async () => {
    const none = await list({ filter: { source }, first: 0 });
    expect(none.edges).toEqual([]);
    expect(none.pageInfo).toMatchObject({ hasNextPage: true, startCursor: null, endCursor: null });
    expect(ids(await list({ filter: { source } }))).toEqual(expected);
  });

  it('refuses first outside 0–100 and a cursor it did not make, as BAD_USER_INPUT', async () => {
    for (const [variables, field] of [
      [{ first: 101 }, 'first'],
      [{ first: -1 }, 'first'],
      [{ after: 'garbage' }, 'after'],
      [{ after: Buffer.from('2025-01-01T00:00:00.000Z|not-a-uuid').toString('base64url') }, 'after'],
      [{ after: Buffer.from("x|' or 1=1 --").toString('base64url') }, 'after'],
    ] as const) {
      // Ids only: a page of 101 with every field would meet GRAPHQL_MAX_COST before its bound.
      const res = await t.gql(
        `query ($first: Int, $after: String, $filter: LeadFilter) { leads(first: $first, after: $after, filter: $filter) { edges { node { id } } } }`,
        { ...variables, filter: { source } },
        admin,
      );
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions!.field).toBe(field);
    }
  });
});

describe('filters', () => {
  const mark = randomBytes(3).toString('hex');
  const L = {} as Record<string, string>;

  beforeAll(async () => {
    L.a = await seedLead(t, { createdAt: '2025-06-01T00:00:00Z', email: `ada.${mark}@fjord.no`, fullName: 'Ada Lovelace', companyName: 'Engines Ltd', source: `Spring-${mark}`, industry: 'Retail', marketingConsent: true, status: 'CONTACTED' });
    L.b = await seedLead(t, { createdAt: '2025-06-02T00:00:00Z', email: `bob.${mark}@example.com`, fullName: `Bob ${mark.toUpperCase()}`, companyName: '100%_Pure AS', source: `spring-${mark}-extra`, industry: 'retail' });
    L.c = await seedLead(t, { createdAt: '2025-06-03T00:00:00Z', email: `cy.${mark}@example.com`, companyName: `Fjord ${mark}`, source: `Autumn-${mark}`, industry: 'Finance', marketingConsent: true, convertedAt: '2025-06-04T00:00:00Z' });
    L.d = await seedLead(t, { createdAt: '2025-06-04T00:00:00Z', email: `dee.${mark}@example.com`, companyName: `100 Pure ${mark}`, industry: 'Finance', status: 'LOST' });
  });

  const find = async (filter: Record<string, unknown>) => ids(await list({ first: 30, filter: { search: mark, ...filter } })).sort();
  const expectIds = (...keys: string[]) => keys.map((k) => L[k]).sort();

  it('searches the email, the full name and the company name, in any case', async () => {
    expect(await find({})).toEqual(expectIds('a', 'b', 'c', 'd'));
    expect(await find({ search: `ADA.${mark.toUpperCase()}@FJORD` })).toEqual(expectIds('a'));
    expect(await find({ search: `bob ${mark}` })).toEqual(expectIds('b'));
    expect(await find({ search: `fjord ${mark}` })).toEqual(expectIds('c'));
    expect(ids(await list({ filter: { search: 'lovelace' } }))).toEqual([L.a]);
  });

  it('takes % and _ in a search literally', async () => {
    // As patterns, "100_pure" and "100%pure" would match "100 Pure" (d) and "100%_Pure" (b).
    expect(await find({ search: '100%_pure' })).toEqual(expectIds('b'));
    expect(await find({ search: '100 pure' })).toEqual(expectIds('d'));
    expect(await find({ search: '100_pure' })).toEqual([]);
    expect(await find({ search: '100%pure' })).toEqual([]);
  });

  it('matches the source and the industry whole, in any case', async () => {
    expect(await find({ source: `SPRING-${mark}` })).toEqual(expectIds('a'));
    expect(await find({ source: 'spring' })).toEqual([]);
    expect(await find({ industry: 'RETAIL' })).toEqual(expectIds('a', 'b'));
    expect(await find({ industry: 'Fin' })).toEqual([]);
  });

  it('narrows by status, consent, conversion and capture time', async () => {
    expect(await find({ status: 'LOST' })).toEqual(expectIds('d'));
    expect(await find({ status: 'NEW' })).toEqual(expectIds('b', 'c'));
    expect(await find({ marketingConsent: true })).toEqual(expectIds('a', 'c'));
    expect(await find({ marketingConsent: false })).toEqual(expectIds('b', 'd'));
    expect(await find({ converted: true })).toEqual(expectIds('c'));
    expect(await find({ converted: false })).toEqual(expectIds('a', 'b', 'd'));
    // capturedAfter includes its instant; capturedBefore does not.
    expect(await find({ capturedAfter: '2025-06-02T00:00:00Z', capturedBefore: '2025-06-04T00:00:00Z' })).toEqual(expectIds('b', 'c'));
  });

  it('combines every field given, and ignores null and blank ones', async () => {
    expect(await find({ industry: 'finance', marketingConsent: true, converted: true, capturedAfter: '2025-06-01T00:00:00Z' })).toEqual(expectIds('c'));
    expect(await find({ status: null, source: '  ', industry: null, converted: null })).toEqual(expectIds('a', 'b', 'c', 'd'));
    expect((await list({ first: 30, filter: { search: mark, industry: 'finance' } })).totalCount).toBe(2);
  });

  it('refuses NUL and control characters, an oversized search, an unknown status and an undeclared field', async () => {
    for (const filter of [{ search: 'a\u0000b' }, { search: 'a\u001bb' }, { search: 'x'.repeat(201) }, { source: 'a\u0007' }]) {
      const res = await t.gql(LEADS, { filter }, admin);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.data ?? null).toBeNull();
    }
    expect(codes(await t.gql(LEADS, { filter: { status: 'WON' } }, admin))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(LEADS, { filter: { email: `ada.${mark}@fjord.no` } }, admin))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(`{ leads(filter: { ip: "127.0.0.1" }) { totalCount } }`, {}, admin))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});

describe('conversion and scores', () => {
  it('shows the account a lead became, when, and the latest score over its assessments, moved ones included', async () => {
    const lead = await captureLead(t, { fullName: 'Kari Nordmann', companyName: 'Fjord AS', industry: 'Retail', companySize: '11-50', source: 'ads' });
    const take = await takeAssessment(t, lead.token);
    const before = (await list({ filter: { search: lead.email } })).edges[0].node;
    expect(before).toMatchObject({
      id: lead.leadId,
      email: lead.email,
      fullName: 'Kari Nordmann',
      companySize: '11-50',
      status: 'NEW',
      convertedAt: null,
      convertedUser: null,
      latestScore: { assessmentId: take.id, percentageScore: take.percentageScore, riskLevel: 'LOW' },
    });
    // An assessment still in progress is no score.
    await takeAssessment(t, lead.token, false);

    const account = await convert(t, lead.email);
    const after = (await list({ filter: { search: lead.email, converted: true } })).edges[0].node;
    expect(after.convertedUser).toEqual({ id: account.userId, email: lead.email, username: expect.any(String) });
    expect(Date.parse(after.convertedAt)).toBeGreaterThanOrEqual(Date.parse(after.capturedAt));
    // The assessment now belongs to the account and is still the lead's latest score.
    const [moved] = await t.sql(`select user_id from assessments where id = ?`, [take.id]);
    expect(moved!.user_id).toBe(account.userId);
    expect(after.latestScore).toMatchObject({ assessmentId: take.id, percentageScore: take.percentageScore });

    // Audit: the capture (anonymous, no address) and the conversion (by the account).
    const events = await eventsAbout(t, lead.leadId);
    expect(events.map((e) => e.action)).toEqual(['lead.captured', 'lead.converted']);
    expect(events[0]).toMatchObject({ actor_id: null, target_type: 'lead', changes: null, ip: expect.any(String) });
    expect(events[1]).toMatchObject({ actor_id: account.userId, target_type: 'lead', changes: { newAccount: true } });
    expect(JSON.stringify(events)).not.toContain(lead.email);
  });

  it('takes the latest completed assessment by completion time, and none while there is none', async () => {
    const leadId = await seedLead(t, { createdAt: '2025-07-01T00:00:00Z', source: 'scores' });
    const bare = await seedLead(t, { createdAt: '2025-07-02T00:00:00Z', source: 'scores' });
    await seedAssessment(t, { leadId, startedAt: '2025-07-01T01:00:00Z', completedAt: '2025-07-01T05:00:00Z', percentageScore: 30 });
    const latest = await seedAssessment(t, { leadId, startedAt: '2025-07-01T00:30:00Z', completedAt: '2025-07-01T06:00:00Z', percentageScore: 65.5 });
    await seedAssessment(t, { leadId, startedAt: '2025-07-01T07:00:00Z' });
    await seedAssessment(t, { leadId: bare, startedAt: '2025-07-02T01:00:00Z' });
    const nodes = (await list({ filter: { source: 'scores' } })).edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => n.latestScore)).toEqual([null, { assessmentId: latest, percentageScore: 65.5, riskLevel: 'MEDIUM', completedAt: '2025-07-01T06:00:00.000Z' }]);
  });
});

describe('statements per page', () => {
  async function statementsFor(first: number) {
    const { result: page, statements } = await statementsDuring(() => list({ first, filter: { source: 'sql-count' } }));
    expect(page.edges).toHaveLength(first);
    return statements.filter((s) => /\b(leads|users|assessments)\b/.test(s));
  }

  it('reads a page of 3 and a page of 30, every field included, in the same few statements', async () => {
    const account = await t.sql<{ id: string }>(`select id from users limit 1`);
    for (let i = 0; i < 30; i++) {
      const leadId = await seedLead(t, { createdAt: new Date(Date.UTC(2025, 7, 1, 0, i)), source: 'sql-count', convertedUserId: i % 2 ? account[0]!.id : null, convertedAt: i % 2 ? '2025-08-02T00:00:00Z' : null });
      await seedAssessment(t, { leadId, startedAt: '2025-08-01T01:00:00Z', completedAt: '2025-08-01T02:00:00Z', percentageScore: i });
    }
    const small = await statementsFor(3);
    const large = await statementsFor(30);
    expect(large.length).toBe(small.length);
    // The session check, the page, its count, the accounts, the scores.
    expect(large.length).toBeLessThanOrEqual(5);
  });
});
