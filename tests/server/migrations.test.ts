import { startTestApp, type TestApp } from '../support/test-app';

// Every module's entities are what its migrations create: a module that adds an entity without
// its migration (or changes one without a new migration) fails here, not in production.
describe('migrations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('leave nothing for the entities to change', async () => {
    const sql = await t.app.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, safe: true });
    expect(sql.trim()).toBe('');
  });
});
