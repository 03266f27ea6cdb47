import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/test-app';

// The log is append-only in the database itself, whatever code runs against it: an event can be
// added, and its personal data (IP, user agent, before and after values) erased, but it cannot be
// deleted or rewritten.
describe('audit events in the database', () => {
  let t: TestApp;
  const id = randomUUID();
  beforeAll(async () => {
    t = await startTestApp();
    await t.sql(
      `insert into audit_events (id, created_at, action, actor_id, target_type, target_id, ip, user_agent, changes)
       values (?, now(), 'user.logged_in', ?, 'user', ?, '10.1.2.3', 'agent', '{"sessionId":"x"}')`,
      [id, randomUUID(), randomUUID()],
    );
  });
  afterAll(() => t?.stop());

  const row = async () => (await t.sql(`select action, ip, user_agent, changes from audit_events where id = ?`, [id]))[0];

  it('cannot be deleted', async () => {
    await expect(t.sql(`delete from audit_events where id = ?`, [id])).rejects.toThrow(/append-only/);
    expect(await row()).toBeDefined();
  });

  it('cannot be rewritten: not its action, actor, target or time, nor personal data replaced with other values', async () => {
    for (const set of [`action = 'user.verified'`, `actor_id = null`, `target_id = 'other'`, `created_at = now() - interval '1 day'`, `ip = '9.9.9.9'`, `changes = '{}'`]) {
      await expect(t.sql(`update audit_events set ${set} where id = ?`, [id])).rejects.toThrow(/append-only/);
    }
    expect(await row()).toMatchObject({ action: 'user.logged_in', ip: '10.1.2.3' });
  });

  it('lets personal data be erased (a hard delete)', async () => {
    await t.sql(`update audit_events set ip = null, user_agent = null, changes = null where id = ?`, [id]);
    expect(await row()).toEqual({ action: 'user.logged_in', ip: null, user_agent: null, changes: null });
  });
});
