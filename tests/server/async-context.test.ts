import { TransactionContext } from '@mikro-orm/core';
import { ASSESSMENT_TEST_ENV, bestAnswers, captureLead, LOG_IN_WITH_LINK, loginLinkToken, ok, RELAXED_LEAD_LIMITS, START, SUBMIT, TEMPLATE } from '../assessments/support';
import { createVerifiedUser, startTestApp, type TestApp } from '../support/test-app';

// On Node 20 the first AsyncLocalStorage.run turns on promise tracking (async hooks) for the whole
// process, for good: every request after it cost about a sixth more CPU. MikroORM's
// em.transactional runs one; the app's own `transaction` helper does not. This walks the paths
// that write in transactions (start-up seeding, sign-up, verification, capture, conversion,
// assessments, mail delivery) and checks the storage was never switched on.
const storage = (TransactionContext as unknown as { storage: { enabled?: boolean } }).storage;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: RELAXED_LEAD_LIMITS.join(',') } });
});
afterAll(() => t.stop());

it('serves sign-up, capture, conversion and assessments without ever switching on an AsyncLocalStorage', async () => {
  expect(storage.enabled).toBe(false);
  await createVerifiedUser(t, 'als');
  const lead = await captureLead(t);
  const template = ok(await t.gql(TEMPLATE, { slug: 'smb-baseline' })).assessmentTemplate;
  const id = ok(await t.gql(START, { slug: 'smb-baseline' }, { token: lead.token })).startAssessment.assessment.id;
  ok(await t.gql(SUBMIT, { id, answers: bestAnswers(template) }, { token: lead.token }));
  ok(await t.gql(LOG_IN_WITH_LINK, { t: await loginLinkToken(t, lead.email) }));
  expect(storage.enabled).toBe(false);

  // The probe sees it: one em.transactional, and the storage is on.
  await t.app.orm.em.fork().transactional(async () => undefined);
  expect(storage.enabled).toBe(true);
});
