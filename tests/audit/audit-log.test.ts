import { randomUUID } from 'node:crypto';
import { eraseAuditSubject } from '../../src/modules/audit/audit';
import { codes, type GraphQLResponse, ok } from '../support/graphql';
import { CHEAP_HASHING, createSuperuser, createVerifiedUser, relaxedLimits, startTestApp, type TestApp } from '../support/test-app';
import { captureLead, RELAXED_LEAD_LIMITS } from '../assessments/support';
import { AUDIT_LOG, type AuditEventNode } from './support';

// auditLog: who may read it, how it filters and pages. The events here are seeded rows with known
// times; the flows that write real ones are in events.test.ts.

const T0 = Date.parse('2020-01-01T00:00:00.000Z');
const minute = (i: number) => new Date(T0 + i * 60_000);
const SEEDED = 25;
/** Seeded event i's time: a minute apart, but 10 to 14 share one instant (ties break by id). */
const seededAt = (i: number) => (i >= 10 && i <= 14 ? minute(10) : minute(i));

let t: TestApp;
let admin: Awaited<ReturnType<typeof createSuperuser>>;
let user: Awaited<ReturnType<typeof createVerifiedUser>>;
let other: Awaited<ReturnType<typeof createVerifiedUser>>;
let lead: Awaited<ReturnType<typeof captureLead>>;

beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMITS: relaxedLimits(...RELAXED_LEAD_LIMITS), ...CHEAP_HASHING } });
  [admin, user, other, lead] = await Promise.all([createSuperuser(t), createVerifiedUser(t, 'au'), createVerifiedUser(t, 'ao'), captureLead(t)]);
  for (let i = 0; i < SEEDED; i++) {
    await t.sql(
      `insert into audit_events (id, created_at, action, actor_id, target_type, target_id, ip, user_agent, changes) values (?, ?, ?, ?, 'user', ?, '10.0.0.1', 'seed', ?)`,
      [randomUUID(), seededAt(i), i % 2 === 0 ? 'test.even' : 'test.odd', i % 3 === 0 ? user.id : null, `t-${i % 5}`, JSON.stringify({ i })],
    );
  }
});
afterAll(() => t.stop());

const log = (variables: Record<string, unknown>, token: string | undefined = admin.tokens.accessToken) => t.gql(AUDIT_LOG, variables, { token });
const nodes = (res: GraphQLResponse): AuditEventNode[] => ok(res).auditLog.edges.map((e: { node: AuditEventNode }) => e.node);
const seededIndexes = (res: GraphQLResponse) => nodes(res).map((n) => (n.changes as { i: number }).i);
const totalEvents = async () => (await t.sql<{ n: number }>(`select count(*)::int as n from audit_events`))[0]!.n;

function expectRefused(res: GraphQLResponse, code: string, field?: string) {
  expect(codes(res)).toEqual([code]);
  if (field) expect(res.errors![0]!.extensions?.field).toBe(field);
  expect(res.data?.auditLog ?? null).toBeNull();
}

describe('who may read the audit log', () => {
  const NESTED = `query ($filter: AuditFilter) { auditLog(first: 5, filter: $filter) { totalCount edges { node { id action actorId actor { id email username isSuperuser } } } } }`;

  it.each([
    ['anonymous', () => undefined, 'UNAUTHENTICATED'],
    ['a lead session', () => lead.token, 'FORBIDDEN'],
    ['a user', () => user.tokens.accessToken, 'FORBIDDEN'],
    ['another user', () => other.tokens.accessToken, 'FORBIDDEN'],
  ])('%s is refused, with nothing read or written', async (_who, token, code) => {
    const before = await totalEvents();
    for (const filter of [null, { actorId: user.id }, { targetId: user.id }]) {
      const res = await t.gql(NESTED, { filter }, { token: token() });
      expect(codes(res)).toEqual([code]);
      expect(res.data ?? null).toBeNull();
      expect(JSON.stringify(res)).not.toContain(user.email);
    }
    expect(await totalEvents()).toBe(before);
  });

  it('a superuser: the events, with each actor resolved (null when anonymous)', async () => {
    const res = await t.gql(NESTED, { filter: { actorId: user.id } }, { token: admin.tokens.accessToken });
    const events = ok(res).auditLog.edges.map((e: { node: AuditEventNode & { actor: Record<string, unknown> } }) => e.node);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.actor).toEqual({ id: user.id, email: user.email, username: user.username, isSuperuser: false });
    const anonymous = nodes(await log({ filter: { action: 'test.odd', targetId: 't-1' } }));
    expect(anonymous.length).toBeGreaterThan(0);
    for (const e of anonymous.filter((n) => n.actorId === null)) expect(e.actor).toBeNull();
  });

  it('a superuser demoted: refused on the next request', async () => {
    await t.sql(`update users set is_superuser = false where id = ?`, [admin.id]);
    try {
      expectRefused(await log({}), 'FORBIDDEN');
    } finally {
      await t.sql(`update users set is_superuser = true where id = ?`, [admin.id]);
    }
    ok(await log({}));
  });

  it('a malformed or forged token: UNAUTHENTICATED', async () => {
    expectRefused(await log({}, 'not-a-token'), 'UNAUTHENTICATED');
    const [header, , signature] = admin.tokens.accessToken.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: admin.id, scope: 'full' })).toString('base64url');
    expectRefused(await log({}, `${header}.${forged}.${signature}`), 'UNAUTHENTICATED');
  });
});

describe('filters', () => {
  // 50 a page: the query's cost counts its page size, and 100 of these nodes pass GRAPHQL_MAX_COST.
  const seeded = (filter: Record<string, unknown>) => log({ first: 50, filter });
  const expected = (keep: (i: number) => boolean) => [...Array(SEEDED).keys()].filter(keep);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

  it('by action, exactly or by a family ending in `.*`', async () => {
    expect(sorted(seededIndexes(await seeded({ action: 'test.even' })))).toEqual(expected((i) => i % 2 === 0));
    expect(sorted(seededIndexes(await seeded({ action: 'test.*' })))).toEqual(expected(() => true));
    expect(ok(await seeded({ action: 'test.*' })).auditLog.totalCount).toBe(SEEDED);
    // Pattern characters in a prefix are literal.
    for (const action of ['tes_.*', '%.*', 'test.%', 'test']) expect(nodes(await seeded({ action }))).toEqual([]);
  });

  it('by actor and by target; an actor id that is not a UUID matches nothing', async () => {
    expect(sorted(seededIndexes(await seeded({ actorId: user.id, action: 'test.*' })))).toEqual(expected((i) => i % 3 === 0));
    expect(sorted(seededIndexes(await seeded({ targetId: 't-1' })))).toEqual(expected((i) => i % 5 === 1));
    for (const actorId of ['not-a-uuid', randomUUID(), "' or 1=1 --"]) {
      const res = await seeded({ actorId });
      expect(ok(res).auditLog).toMatchObject({ totalCount: 0, edges: [] });
    }
  });

  it('by time, both ends inclusive', async () => {
    const res = await seeded({ from: minute(5).toISOString(), to: minute(9).toISOString() });
    expect(sorted(seededIndexes(res))).toEqual([5, 6, 7, 8, 9]);
    expect(sorted(seededIndexes(await seeded({ from: minute(10).toISOString(), to: minute(10).toISOString() })))).toEqual([10, 11, 12, 13, 14]);
    expect(nodes(await seeded({ to: new Date(T0 - 1).toISOString() }))).toEqual([]);
    expectRefused(await seeded({ from: minute(9).toISOString(), to: minute(5).toISOString() }), 'BAD_USER_INPUT', 'to');
    expect(codes(await seeded({ from: 'yesterday' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('combined: every field given must match', async () => {
    const res = await seeded({ action: 'test.even', actorId: user.id, to: minute(18).toISOString() });
    expect(sorted(seededIndexes(res))).toEqual([0, 6, 12, 18]);
    expect(ok(res).auditLog.totalCount).toBe(4);
  });

  it('refuses NUL and control characters, over-long values and undeclared fields', async () => {
    expectRefused(await seeded({ action: 'test.even\u0000' }), 'BAD_USER_INPUT', 'action');
    expectRefused(await seeded({ action: 'test.\u001b[31m' }), 'BAD_USER_INPUT', 'action');
    expectRefused(await seeded({ targetId: 'x'.repeat(65) }), 'BAD_USER_INPUT', 'targetId');
    // Mass assignment: a field the input does not declare is refused before anything runs.
    const undeclared = await seeded({ action: 'test.even', ip: '10.0.0.1' });
    expect(codes(undeclared)).toEqual(['BAD_USER_INPUT']);
    expect(undeclared.errors![0]!.message).toMatch(/"ip" is not defined by type "AuditFilter"/);
    expect(undeclared.data ?? null).toBeNull();
    const inline = await t.gql(`{ auditLog(filter: { action: "test.even", sql: "1=1" }) { totalCount } }`, {}, { token: admin.tokens.accessToken });
    expect(codes(inline)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});

describe('pages', () => {
  const page = (first: number, after: string | null = null) => log({ first, after, filter: { action: 'test.*' } });

  it('newest first, ties by id, walked with `after` without a gap or a repeat', async () => {
    const all = nodes(await page(50));
    expect(all).toHaveLength(SEEDED);
    for (let k = 1; k < all.length; k++) {
      const [a, b] = [all[k - 1]!, all[k]!];
      expect(Date.parse(a.at)).toBeGreaterThanOrEqual(Date.parse(b.at));
      if (a.at === b.at) expect(a.id > b.id).toBe(true);
    }
    const walked: string[] = [];
    let after: string | null = null;
    const sizes: number[] = [];
    for (;;) {
      const res: Record<string, any> = ok(await page(7, after)).auditLog;
      expect(res.totalCount).toBe(SEEDED);
      expect(res.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(res.pageInfo.startCursor).toBe(res.edges[0]?.cursor ?? null);
      expect(res.pageInfo.endCursor).toBe(res.edges.at(-1)?.cursor ?? null);
      walked.push(...res.edges.map((e: { node: AuditEventNode }) => e.node.id));
      sizes.push(res.edges.length);
      if (!res.pageInfo.hasNextPage) break;
      after = res.pageInfo.endCursor;
    }
    expect(sizes).toEqual([7, 7, 7, 4]);
    expect(walked).toEqual(all.map((n) => n.id));
  });

  it('`first` between 0 and 100 (20 by default); a cursor from elsewhere is BAD_USER_INPUT', async () => {
    expect(nodes(await log({ filter: { action: 'test.*' } }))).toHaveLength(20);
    const none = ok(await page(0)).auditLog;
    expect(none).toMatchObject({ edges: [], totalCount: SEEDED, pageInfo: { hasNextPage: true, startCursor: null, endCursor: null } });
    // A page past 100 is refused by its bound, however little it asks of each node (a costly
    // selection of that size would meet GRAPHQL_MAX_COST first).
    const ids = `query ($first: Int) { auditLog(first: $first) { edges { node { id } } } }`;
    expect(ok(await t.gql(ids, { first: 100 }, { token: admin.tokens.accessToken })).auditLog.edges.length).toBeGreaterThan(SEEDED - 1);
    expectRefused(await t.gql(ids, { first: 101 }, { token: admin.tokens.accessToken }), 'BAD_USER_INPUT', 'first');
    expectRefused(await page(-1), 'BAD_USER_INPUT', 'first');
    for (const after of ['garbage', Buffer.from('2020-01-01T00:00:00.000Z|not-a-uuid').toString('base64url'), Buffer.from(`nonsense|${randomUUID()}`).toString('base64url')]) {
      expectRefused(await page(5, after), 'BAD_USER_INPUT', 'after');
    }
  });
});

describe('the actor and erasure', () => {
  it('an actor whose account is gone: actorId kept, actor null', async () => {
    const gone = randomUUID();
    await t.sql(`insert into audit_events (id, created_at, action, actor_id) values (?, ?, 'test.gone', ?)`, [randomUUID(), minute(30), gone]);
    const [event] = nodes(await log({ filter: { action: 'test.gone' } }));
    expect(event).toMatchObject({ actorId: gone, actor: null });
  });

  it('eraseAuditSubject (a hard delete) clears the personal data of events about and by a person, and keeps the events', async () => {
    const subject = other.id;
    await t.sql(
      `insert into audit_events (id, created_at, action, actor_id, target_type, target_id, ip, user_agent, changes) values
        (?, ?, 'admin.adminUpdateUser', ?, 'user', ?, '10.0.0.2', 'staff', ?), (?, ?, 'test.by_subject', ?, 'user', ?, '10.0.0.3', 'theirs', null)`,
      [randomUUID(), minute(40), admin.id, subject, JSON.stringify({ email: { before: other.email, after: 'x@example.com' } }), randomUUID(), minute(41), subject, user.id],
    );
    const before = await totalEvents();
    await eraseAuditSubject(t.app.orm.em.fork(), subject);
    expect(await totalEvents()).toBe(before);

    const about = nodes(await log({ filter: { targetId: subject } }));
    expect(about.length).toBeGreaterThan(0);
    for (const e of about) expect(e).toMatchObject({ ip: null, userAgent: null, changes: null, targetId: subject });
    const by = nodes(await log({ filter: { actorId: subject } }));
    expect(by.length).toBeGreaterThan(0);
    for (const e of by) expect(e).toMatchObject({ ip: null, userAgent: null, actorId: subject });
    expect(JSON.stringify(nodes(await log({ first: 50 })))).not.toContain(other.email);
    expect(nodes(await log({ filter: { actorId: admin.id, action: 'admin.*' } }))).toHaveLength(1);
  });
});
