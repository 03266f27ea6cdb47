import { randomUUID } from 'node:crypto';
import { captureLead } from '../assessments/support';
import { codes, ok } from '../support/graphql';
import { createSuperuser, startTestApp, type TestApp } from '../support/test-app';
import { convert, DELETE_LEAD, eventsAbout, seedLead, takeAssessment, UPDATE_LEAD } from './support';

// Staff changes to leads: status and notes (audited before and after), and erasure (the lead, its
// sessions, links and own assessments; never what moved to an account), each audited in the same
// transaction, so a change that rolls back leaves no event.

let t: TestApp;
let admin: { id: string; token: string };

beforeAll(async () => {
  t = await startTestApp({ env: { ASSESSMENT_START_INTERVAL: '0', ASSESSMENT_SUBMIT_INTERVAL: '0' } });
  const su = await createSuperuser(t);
  admin = { id: su.id, token: su.tokens.accessToken! };
});
afterAll(() => t.stop());

const update = (id: string, input: Record<string, unknown>) => t.gql(UPDATE_LEAD, { id, input }, { token: admin.token });
const erase = (id: string) => t.gql(DELETE_LEAD, { id }, { token: admin.token });
const row = async (id: string) => (await t.sql(`select status, notes, email, converted_at from leads where id = ?`, [id]))[0];
const count = async (table: string, where: string, params: unknown[]) =>
  (await t.sql<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params))[0]!.n;

describe('updateLead', () => {
  it('sets the status and notes, answers the lead, and audits the change with the values before and after', async () => {
    const id = await seedLead(t, { createdAt: '2025-01-01T00:00:00Z', email: 'upd@example.com' });
    const lead = ok(await update(id, { status: 'CONTACTED', notes: '  Called on Monday.\n\tWants a demo.  ' })).updateLead;
    expect(lead).toMatchObject({ id, email: 'upd@example.com', status: 'CONTACTED', notes: 'Called on Monday.\n\tWants a demo.' });
    expect(await row(id)).toMatchObject({ status: 'CONTACTED', notes: 'Called on Monday.\n\tWants a demo.' });
    // A field left out stays; an empty note clears.
    expect(ok(await update(id, { status: 'QUALIFIED' })).updateLead).toMatchObject({ status: 'QUALIFIED', notes: 'Called on Monday.\n\tWants a demo.' });
    expect(ok(await update(id, { notes: '   ' })).updateLead).toMatchObject({ status: 'QUALIFIED', notes: null });

    const events = await eventsAbout(t, id);
    expect(events.map((e) => [e.action, e.actor_id, e.target_type])).toEqual([
      ['admin.updateLead', admin.id, 'lead'],
      ['admin.updateLead', admin.id, 'lead'],
      ['admin.updateLead', admin.id, 'lead'],
    ]);
    expect(events.map((e) => e.changes)).toEqual([
      { status: { before: 'NEW', after: 'CONTACTED' }, notes: { before: null, after: 'Called on Monday.\n\tWants a demo.' } },
      { status: { before: 'CONTACTED', after: 'QUALIFIED' } },
      { notes: { before: 'Called on Monday.\n\tWants a demo.', after: null } },
    ]);
    expect(events[0]!.ip).toEqual(expect.any(String));
  });

  it('bounds notes at 5000 characters and refuses control characters, bidi overrides and a null status', async () => {
    const id = await seedLead(t, { createdAt: '2025-01-01T00:00:00Z', notes: 'kept' });
    expect(ok(await update(id, { notes: '😀'.repeat(5000) })).updateLead.notes).toHaveLength(10_000);
    for (const [input, field] of [
      [{ notes: 'x'.repeat(5001) }, 'notes'],
      [{ notes: '😀'.repeat(5001) }, 'notes'],
      [{ notes: 'x'.repeat(10_001) }, 'notes'],
      [{ notes: 'a\u0000b' }, 'notes'],
      [{ notes: 'a\u001b[31mred' }, 'notes'],
      [{ notes: 'a\r\nb' }, 'notes'],
      [{ notes: 'invoice\u202etxt.exe' }, 'notes'],
      [{ status: null }, 'status'],
    ] as const) {
      const res = await update(id, input);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions!.field).toBe(field);
    }
    expect(codes(await update(id, { status: 'WON' }))).toEqual(['BAD_USER_INPUT']);
    expect((await row(id))!.notes).toBe('😀'.repeat(5000));
    expect((await eventsAbout(t, id)).length).toBe(1);
  });

  it('refuses undeclared input fields (no mass assignment), inline or as variables, changing nothing', async () => {
    const id = await seedLead(t, { createdAt: '2025-01-01T00:00:00Z', email: 'mass@example.com' });
    const before = await row(id);
    for (const extra of [{ email: 'evil@example.com' }, { convertedAt: '2025-01-02T00:00:00Z' }, { convertedUserId: admin.id }, { marketingConsent: true }, { id: randomUUID() }]) {
      expect(codes(await update(id, { status: 'LOST', ...extra }))).toEqual(['BAD_USER_INPUT']);
    }
    const inline = await t.gql(`mutation { updateLead(id: "${id}", input: { status: LOST, email: "evil@example.com" }) { id } }`, {}, { token: admin.token });
    expect(codes(inline)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(await row(id)).toEqual(before);
    expect(await eventsAbout(t, id)).toEqual([]);
  });

  it('answers NOT_FOUND for an unknown or malformed id, BAD_USER_INPUT for one with NUL', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', '', "' or 1=1 --", `${randomUUID()}x`]) {
      expect(codes(await update(id, { status: 'LOST' }))).toEqual(['NOT_FOUND']);
    }
    expect(codes(await update('a\u0000', { status: 'LOST' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('applies 20 concurrent updates one at a time, each audited once', async () => {
    const id = await seedLead(t, { createdAt: '2025-01-01T00:00:00Z' });
    const notes = Array.from({ length: 20 }, (_, i) => `note ${i}`);
    const results = await Promise.all(notes.map((n) => update(id, { notes: n })));
    expect(results.flatMap(codes)).toEqual([]);
    const events = await eventsAbout(t, id);
    expect(events).toHaveLength(20);
    // Serialized by the row lock: each event's "before" is the value another one left.
    const befores = events.map((e) => e.changes.notes.before).filter((b) => b !== null).sort();
    const afters = events.map((e) => e.changes.notes.after).sort();
    expect(afters).toEqual([...notes].sort());
    expect(befores).toHaveLength(19);
    expect(notes).toContain((await row(id))!.notes);
  });
});

describe('adminDeleteLead', () => {
  it("erases a lead that never converted: the row, its assessments, sessions and login links, and the personal data in its events", async () => {
    const lead = await captureLead(t, { fullName: 'Erase Me', companyName: 'Gone AS' });
    await takeAssessment(t, lead.token);
    await takeAssessment(t, lead.token, false);
    ok(await update(lead.leadId, { notes: 'Erase Me asked to be forgotten' }));
    expect(await count('assessments', 'lead_id = ?', [lead.leadId])).toBe(2);
    expect(await count('lead_sessions', 'lead_id = ?', [lead.leadId])).toBe(1);
    expect(await count('login_links', 'lead_id = ?', [lead.leadId])).toBe(1);

    expect(ok(await erase(lead.leadId)).adminDeleteLead).toBe(true);
    expect(await row(lead.leadId)).toBeUndefined();
    expect(await count('assessments', 'lead_id = ?', [lead.leadId])).toBe(0);
    expect(await count('lead_sessions', 'lead_id = ?', [lead.leadId])).toBe(0);
    expect(await count('login_links', 'lead_id = ?', [lead.leadId])).toBe(0);
    // Its session ends at once.
    expect(codes(await t.gql(`{ myAssessments { totalCount } }`, {}, { token: lead.token }))).toEqual(['UNAUTHENTICATED']);

    const events = await eventsAbout(t, lead.leadId);
    expect(events.map((e) => e.action)).toEqual(['lead.captured', 'admin.updateLead', 'admin.adminDeleteLead']);
    // The earlier events stay, without the person's data; the erasure's own holds counts only.
    for (const e of events.slice(0, 2)) expect([e.ip, e.user_agent, e.changes]).toEqual([null, null, null]);
    expect(events[2]).toMatchObject({ actor_id: admin.id, target_type: 'lead', changes: { converted: false, assessmentsErased: 2 } });
    expect(JSON.stringify(events)).not.toMatch(/Erase Me|Gone AS|@example\.com/);

    expect(codes(await erase(lead.leadId))).toEqual(['NOT_FOUND']);
  });

  it("keeps what moved to an account: the account and the assessments stay, no longer pointing at the lead", async () => {
    const lead = await captureLead(t, { fullName: 'Moved On' });
    const take = await takeAssessment(t, lead.token);
    const account = await convert(t, lead.email);
    const [user] = await t.sql(`select id, email, status from users where id = ?`, [account.userId]);

    expect(ok(await erase(lead.leadId)).adminDeleteLead).toBe(true);
    expect(await row(lead.leadId)).toBeUndefined();
    expect(await t.sql(`select user_id, lead_id, percentage_score from assessments where id = ?`, [take.id])).toEqual([
      { user_id: account.userId, lead_id: null, percentage_score: take.percentageScore },
    ]);
    expect(await t.sql(`select id, email, status from users where id = ?`, [account.userId])).toEqual([user]);
    // The account's session and its assessment work as before.
    const mine = ok(await t.gql(`{ myAssessments { totalCount edges { node { id } } } }`, {}, { token: account.token })).myAssessments;
    expect(mine.edges.map((e: any) => e.node.id)).toEqual([take.id]);
    expect((await eventsAbout(t, lead.leadId)).at(-1)).toMatchObject({ action: 'admin.adminDeleteLead', changes: { converted: true, assessmentsErased: 0 } });
  });

  it('erases only the lead named: another lead with the same address stays', async () => {
    const first = await captureLead(t);
    const second = await captureLead(t, { email: first.email });
    await takeAssessment(t, second.token);
    ok(await erase(first.leadId));
    expect(await row(second.leadId)).toMatchObject({ email: first.email });
    expect(await count('assessments', 'lead_id = ?', [second.leadId])).toBe(1);
    expect(codes(await t.gql(`{ myAssessments { totalCount } }`, {}, { token: second.token }))).toEqual([]);
  });

  it('answers true to one of 20 concurrent erasures and NOT_FOUND to the rest', async () => {
    const id = await seedLead(t, { createdAt: '2025-01-01T00:00:00Z' });
    const results = await Promise.all(Array.from({ length: 20 }, () => erase(id)));
    expect(results.filter((r) => r.data?.adminDeleteLead === true)).toHaveLength(1);
    expect(results.flatMap(codes).sort()).toEqual(Array(19).fill('NOT_FOUND'));
    expect((await eventsAbout(t, id)).map((e) => e.action)).toEqual(['admin.adminDeleteLead']);
  });

  it('answers NOT_FOUND for an unknown or malformed id', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', '']) expect(codes(await erase(id))).toEqual(['NOT_FOUND']);
  });
});

describe('a change that rolls back leaves no event', () => {
  // A trigger makes the database refuse one marked row at commit time, after the service has
  // recorded its event in the same unit of work.
  beforeAll(async () => {
    await t.sql(`create or replace function posture_test_refuse() returns trigger language plpgsql as $$
      begin
        if (tg_op = 'DELETE' and old.source = 'refuse') or (tg_op <> 'DELETE' and (new.notes = 'refuse' or new.source = 'refuse-capture'
            or (new.source = 'refuse-convert' and new.converted_at is not null))) then
          raise exception 'refused by test trigger';
        end if;
        return case when tg_op = 'DELETE' then old else new end;
      end $$`);
    await t.sql(`create trigger posture_test_refuse before insert or update or delete on leads for each row execute function posture_test_refuse()`);
  });
  afterAll(async () => {
    await t.sql(`drop trigger if exists posture_test_refuse on leads`);
  });

  it('updateLead', async () => {
    const id = await seedLead(t, { createdAt: '2025-01-01T00:00:00Z', notes: 'before' });
    expect(codes(await update(id, { notes: 'refuse', status: 'LOST' }))).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await row(id)).toMatchObject({ notes: 'before', status: 'NEW' });
    expect(await eventsAbout(t, id)).toEqual([]);
  });

  it('adminDeleteLead, with its erasures', async () => {
    const id = await seedLead(t, { createdAt: '2025-01-01T00:00:00Z', source: 'refuse' });
    ok(await update(id, { notes: 'remember me' }));
    await t.sql(`insert into lead_sessions (id, created_at, lead_id, expires_at) values (?, now(), ?, now() + interval '1 day')`, [randomUUID(), id]);
    expect(codes(await erase(id))).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await row(id)).toBeDefined();
    expect(await count('lead_sessions', 'lead_id = ?', [id])).toBe(1);
    const events = await eventsAbout(t, id);
    expect(events.map((e) => e.action)).toEqual(['admin.updateLead']);
    expect(events[0]!.changes).toEqual({ notes: { before: null, after: 'remember me' } });
  });

  it('captureLead (lead.captured)', async () => {
    const before = await count('audit_events', `action = 'lead.captured'`, []);
    const res = await t.gql(`mutation ($input: CaptureLeadInput!) { captureLead(input: $input) { leadId } }`, { input: { email: 'rollback@example.com', source: 'refuse-capture' } });
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await count('audit_events', `action = 'lead.captured'`, [])).toBe(before);
    expect(await count('leads', `email = 'rollback@example.com'`, [])).toBe(0);
  });

  it('logInWithLink (lead.converted)', async () => {
    const lead = await captureLead(t, { source: 'refuse-convert' });
    const res = await convert(t, lead.email).catch((err: Error) => err);
    expect(res).toBeInstanceOf(Error);
    expect(String(res)).toMatch(/INTERNAL_SERVER_ERROR/);
    expect((await eventsAbout(t, lead.leadId)).map((e) => e.action)).toEqual(['lead.captured']);
    expect(await count('users', 'email = ?', [lead.email])).toBe(0);
  });
});
