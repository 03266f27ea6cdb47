import { createVerifiedUser, LOG_IN, startTestApp, type TestApp } from '../support/test-app';
import { type GraphQLResponse, ok, valuesOf } from '../support/graphql';
import { ASSESSMENT_TEST_ENV, bestAnswers, captureLead, LEAD_ONLY_LIMITS, leadEmail, START, SUBMIT, TEMPLATE, worstAnswers } from './support';

// Who may do what with assessments, leads and profiles: every operation of the feature, called by
// every kind of caller, against the assessments of an account and of a lead.
const ADMIN = { ADMIN_EMAIL: 'matrix-admin@example.com', ADMIN_PASSWORD: 'matrix admin passphrase 71', ADMIN_USERNAME: 'matrix_admin' };
const SLUG = 'smb-baseline';

// Owner last: its successful delete must come after everyone else has tried.
const CALLERS = ['anon', 'lead', 'otherLead', 'other', 'admin', 'owner'] as const;
type Caller = (typeof CALLERS)[number];
const OK = 'ok', SKIP = 'skip', UN = 'UNAUTHENTICATED', NF = 'NOT_FOUND', ENV = 'EMAIL_NOT_VERIFIED', CONFLICT = 'CONFLICT', BAD_TOKEN = 'INVALID_TOKEN';
type Expected = Record<Caller, string>;
const every = (outcome: string) => Object.fromEntries(CALLERS.map((c) => [c, outcome])) as Expected;
/** Someone else's assessment: NOT_FOUND for any session, UNAUTHENTICATED without one. */
const NOT_YOURS: Expected = { ...every(NF), anon: UN };
/** Account-only operations refuse lead sessions before looking anything up. */
const ACCOUNT_ONLY: Expected = { ...NOT_YOURS, lead: ENV, otherLead: ENV };
const BAD_ID = 'not-a-uuid';

const OPTION_FIELDS = 'options { id label points }';
const READ = `query ($id: ID!) { assessment(id: $id) { id status template { categories { questions { id ${OPTION_FIELDS} } } } answers { selectedOptions { id points } } } }`;
const MINE = `{ myAssessments(first: 100) { totalCount edges { node { id answers { selectedOptions { points } } } } } }`;
const DASHBOARD = `{ dashboard { assessmentsRemaining latest { id answers { selectedOptions { points } } } topRecommendations { title detail } } }`;
const SHARED = `query ($t: String!) { sharedAssessment(token: $t) { templateName completedAt percentageScore riskLevel
  categoryScores { score category { name questions { id text ${OPTION_FIELDS} } } } recommendations { title detail category { name } } } }`;
const TEMPLATES = `{ assessmentTemplates { id slug categories { questions { id text helpText references ${OPTION_FIELDS} } } } }`;
const ME_PROFILE = `{ me { id email profile { fullName companyName jobTitle assessmentLimit assessmentsRemaining } } }`;
const CAPTURE = `mutation ($input: CaptureLeadInput!) { captureLead(input: $input) { leadId canTakeAssessment session { accessToken } } }`;
const REQUEST_LINK = `mutation ($email: String!) { requestLoginLink(email: $email) }`;
const LINK_LOGIN = `mutation ($t: String!) { logInWithLink(token: $t) { accessToken } }`;
const SAVE = `mutation ($id: ID!, $answers: [AnswerInput!]!) { saveAnswers(assessmentId: $id, answers: $answers) { id status answers { selectedOptions { id points } } } }`;
const SHARE = `mutation ($id: ID!) { shareAssessment(id: $id) { url token } }`;
const REVOKE = `mutation ($id: ID!) { revokeAssessmentShare(id: $id) }`;
const DELETE = `mutation ($id: ID!) { deleteAssessment(id: $id) }`;
const UPDATE_PROFILE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { jobTitle companyName assessmentLimit } }`;

/** Option points in the answer: numbers for staff, null (but present) for everyone else. */
function pointsShownTo(caller: Caller, data: unknown) {
  const points = valuesOf(data, 'points');
  expect(points.length).toBeGreaterThan(0);
  if (caller === 'admin') expect(points.every((p) => typeof p === 'number')).toBe(true);
  else expect(points.every((p) => p === null)).toBe(true);
}

describe('the assessment access matrix', () => {
  let t: TestApp;
  const tokens = {} as Record<Caller, string | undefined>;
  const f = {} as Record<'ownerOpen' | 'ownerDone' | 'leadOpen' | 'leadDone', string> & { shareToken: string; recommendations: string[] };
  let owner: Awaited<ReturnType<typeof createVerifiedUser>>;
  let firstAnswer: Array<{ questionId: string; optionIds: string[] }>;
  const COMPANY = 'Matrix Holdings AS';

  /** Completes one assessment with `answers`, then starts another left in progress. */
  async function takeTwo(token: string, answers: unknown[]) {
    const start = async () => ok(await t.gql(START, { slug: SLUG }, { token })).startAssessment.assessment.id as string;
    const done = await start();
    const result = ok(await t.gql(SUBMIT, { id: done, answers }, { token })).submitAssessment;
    return { done, open: await start(), result };
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, RATE_LIMITS: LEAD_ONLY_LIMITS, ...ADMIN } });
    const template = ok(await t.gql(TEMPLATE, { slug: SLUG })).assessmentTemplate;
    const q = template.categories[0].questions[0];
    firstAnswer = [{ questionId: q.id, optionIds: [q.options[0].id] }];
    owner = await createVerifiedUser(t, 'own');
    tokens.owner = owner.tokens.accessToken;
    tokens.other = (await createVerifiedUser(t, 'oth')).tokens.accessToken;
    tokens.admin = ok(await t.gql(LOG_IN, { input: { usernameOrEmail: ADMIN.ADMIN_EMAIL, password: ADMIN.ADMIN_PASSWORD } })).logIn.accessToken;
    tokens.lead = (await captureLead(t, { fullName: 'Lena Lead', companyName: 'Lead Co' })).token;
    tokens.otherLead = (await captureLead(t)).token;
    ok(await t.gql(UPDATE_PROFILE, { input: { companyName: COMPANY } }, { token: tokens.owner }));

    const mine = await takeTwo(tokens.owner, worstAnswers(template));
    Object.assign(f, { ownerDone: mine.done, ownerOpen: mine.open, recommendations: mine.result.recommendations.map((r: any) => r.detail) });
    expect(f.recommendations.length).toBeGreaterThan(0);
    const leads = await takeTwo(tokens.lead!, bestAnswers(template));
    Object.assign(f, { leadDone: leads.done, leadOpen: leads.open });
    expect(leads.result).toMatchObject({ status: 'COMPLETED', percentageScore: 100 });
    f.shareToken = ok(await t.gql(SHARE, { id: f.ownerDone }, { token: tokens.owner })).shareAssessment.token;
  });
  afterAll(() => t?.stop());

  const ownedBy = (caller: Caller): string[] => (caller === 'owner' ? [f.ownerOpen, f.ownerDone] : caller === 'lead' ? [f.leadOpen, f.leadDone] : []);
  const fixtureIds = () => [f.ownerOpen, f.ownerDone, f.leadOpen, f.leadDone];
  /** Template queries: no answer key, and none of the recommendation texts (they belong to results). */
  const noKey = (_: Caller, data: unknown) => {
    expect(valuesOf(data, 'recommendation')).toEqual([]);
    const json = JSON.stringify(data);
    expect(f.recommendations.filter((text) => json.includes(text))).toEqual([]);
  };
  const sameId = (field: string, id: () => string) => (caller: Caller, data: any) => {
    expect(data[field].id).toBe(id());
    if (field === 'assessment') pointsShownTo(caller, data);
  };

  type Row = [name: string, doc: string, vars: (caller: Caller) => Record<string, unknown>, expected: Expected, check?: (caller: Caller, data: any) => void];
  const on = (id: () => string) => () => ({ id: id() });
  const rows: Row[] = [
    // ── queries ──
    ['assessmentTemplates', TEMPLATES, () => ({}), every(OK), (c, d) => (pointsShownTo(c, d), noKey(c, d))],
    ['assessmentTemplate', TEMPLATE, () => ({ slug: SLUG }), every(OK), (c, d) => (pointsShownTo(c, d), noKey(c, d))],
    ['assessment: owner in progress', READ, on(() => f.ownerOpen), { ...every(NF), owner: OK, admin: OK }, sameId('assessment', () => f.ownerOpen)],
    ['assessment: owner completed', READ, on(() => f.ownerDone), { ...every(NF), owner: OK, admin: OK }, sameId('assessment', () => f.ownerDone)],
    ['assessment: lead in progress', READ, on(() => f.leadOpen), { ...every(NF), lead: OK, admin: OK }, sameId('assessment', () => f.leadOpen)],
    ['assessment: lead completed', READ, on(() => f.leadDone), { ...every(NF), lead: OK, admin: OK }, sameId('assessment', () => f.leadDone)],
    ['assessment: malformed id', READ, () => ({ id: BAD_ID }), every(NF)],
    ['myAssessments', MINE, () => ({}), { ...every(OK), anon: UN }, (c, d) => {
      const ids: string[] = d.myAssessments.edges.map((e: any) => e.node.id);
      expect(ids.filter((id) => fixtureIds().includes(id)).sort()).toEqual(ownedBy(c).sort());
    }],
    ['dashboard', DASHBOARD, () => ({}), { ...ACCOUNT_ONLY, owner: OK, other: OK, admin: OK }, (c, d) => {
      if (c === 'owner') expect(d.dashboard.latest.id).toBe(f.ownerDone);
      else expect(d.dashboard.latest).toBeNull();
    }],
    ['sharedAssessment', SHARED, () => ({ t: f.shareToken }), every(OK), (c, d) => {
      expect(d.sharedAssessment).toMatchObject({ templateName: expect.any(String), riskLevel: expect.any(String) });
      pointsShownTo(c, d);
      const json = JSON.stringify(d);
      for (const secret of [owner.email, owner.name, owner.username, owner.id, COMPANY]) expect(json).not.toContain(secret);
      expect([...valuesOf(d, 'answers'), ...valuesOf(d, 'selectedOptions')]).toEqual([]);
    }],
    ['sharedAssessment: unknown token', SHARED, () => ({ t: 'x'.repeat(43) }), every(OK), (_, d) => expect(d.sharedAssessment).toBeNull()],
    ['me { profile }', ME_PROFILE, () => ({}), every(OK), (c, d) => {
      if (c === 'anon' || c === 'lead' || c === 'otherLead') return expect(d.me).toBeNull();
      expect(d.me.profile).toMatchObject({ assessmentLimit: expect.any(Number), assessmentsRemaining: expect.any(Number) });
      if (c === 'owner') expect(d.me).toMatchObject({ id: owner.id, profile: { companyName: COMPANY, assessmentsRemaining: 1 } });
      if (c === 'admin') expect(d.me.email).toBe(ADMIN.ADMIN_EMAIL);
    }],
    // ── lead capture and login links ──
    ['captureLead', CAPTURE, (c) => ({ input: { email: leadEmail(c.toLowerCase()) } }), every(OK), (_, d) => {
      expect(d.captureLead).toMatchObject({ canTakeAssessment: true, session: { accessToken: expect.any(String) } });
    }],
    ['requestLoginLink', REQUEST_LINK, (c) => ({ email: leadEmail(c.toLowerCase()) }), every(OK), (_, d) => expect(d.requestLoginLink).toBe(true)],
    ['logInWithLink: bad token', LINK_LOGIN, () => ({ t: 'no-such-link-token-0123456789' }), every(BAD_TOKEN)],
    // ── taking assessments ──
    ['startAssessment', START, () => ({ slug: SLUG }), { ...every(OK), anon: UN }, (c, d) => {
      const id = d.startAssessment.assessment.id;
      // The owner and the lead resume their own assessment in progress; the others start anew.
      if (c === 'owner') expect(id).toBe(f.ownerOpen);
      else if (c === 'lead') expect(id).toBe(f.leadOpen);
      else expect(fixtureIds()).not.toContain(id);
    }],
    ['saveAnswers: owner in progress', SAVE, () => ({ id: f.ownerOpen, answers: firstAnswer }), { ...NOT_YOURS, owner: OK }, sameId('saveAnswers', () => f.ownerOpen)],
    ['saveAnswers: owner completed', SAVE, () => ({ id: f.ownerDone, answers: firstAnswer }), { ...NOT_YOURS, owner: CONFLICT }],
    ['saveAnswers: lead in progress', SAVE, () => ({ id: f.leadOpen, answers: firstAnswer }), { ...NOT_YOURS, lead: OK }, sameId('saveAnswers', () => f.leadOpen)],
    ['saveAnswers: malformed id', SAVE, () => ({ id: BAD_ID, answers: firstAnswer }), NOT_YOURS],
    // Submitting one's own in-progress assessment would complete a fixture: the owners skip it here.
    ['submitAssessment: owner in progress', SUBMIT, on(() => f.ownerOpen), { ...NOT_YOURS, owner: SKIP }],
    ['submitAssessment: lead in progress', SUBMIT, on(() => f.leadOpen), { ...NOT_YOURS, lead: SKIP }],
    ['submitAssessment: owner completed (idempotent)', SUBMIT, on(() => f.ownerDone), { ...NOT_YOURS, owner: OK }, sameId('submitAssessment', () => f.ownerDone)],
    ['submitAssessment: lead completed (idempotent)', SUBMIT, on(() => f.leadDone), { ...NOT_YOURS, lead: OK }, sameId('submitAssessment', () => f.leadDone)],
    ['submitAssessment: malformed id', SUBMIT, () => ({ id: BAD_ID }), NOT_YOURS],
    // ── account-only: sharing, deleting, the profile ──
    ['shareAssessment: owner completed', SHARE, on(() => f.ownerDone), { ...ACCOUNT_ONLY, owner: OK }, (_, d) => {
      expect(d.shareAssessment.url).toBe(`http://posture.test/shared/${d.shareAssessment.token}`);
    }],
    ['shareAssessment: owner in progress', SHARE, on(() => f.ownerOpen), { ...ACCOUNT_ONLY, owner: CONFLICT }],
    ['shareAssessment: lead completed', SHARE, on(() => f.leadDone), ACCOUNT_ONLY],
    ['shareAssessment: malformed id', SHARE, () => ({ id: BAD_ID }), ACCOUNT_ONLY],
    ['revokeAssessmentShare: owner completed', REVOKE, on(() => f.ownerDone), { ...ACCOUNT_ONLY, owner: OK }, (_, d) => expect(d.revokeAssessmentShare).toBe(true)],
    ['revokeAssessmentShare: lead completed', REVOKE, on(() => f.leadDone), ACCOUNT_ONLY],
    ['revokeAssessmentShare: malformed id', REVOKE, () => ({ id: BAD_ID }), ACCOUNT_ONLY],
    ['deleteAssessment: owner completed', DELETE, on(() => f.ownerDone), { ...ACCOUNT_ONLY, owner: CONFLICT }],
    ['deleteAssessment: lead in progress', DELETE, on(() => f.leadOpen), ACCOUNT_ONLY],
    ['deleteAssessment: malformed id', DELETE, () => ({ id: BAD_ID }), ACCOUNT_ONLY],
    ['deleteAssessment: owner in progress', DELETE, on(() => f.ownerOpen), { ...ACCOUNT_ONLY, owner: OK }, (_, d) => expect(d.deleteAssessment).toBe(true)],
    ['updateProfile', UPDATE_PROFILE, () => ({ input: { jobTitle: 'CISO' } }), { ...ACCOUNT_ONLY, owner: OK, other: OK, admin: OK }, (c, d) => {
      expect(d.updateProfile.jobTitle).toBe('CISO');
      expect(d.updateProfile.companyName).toBe(c === 'owner' ? COMPANY : null);
    }],
  ];

  const outcomeOf = (res: GraphQLResponse) => (res.errors?.length ? String(res.errors[0]!.extensions?.code) : OK);

  // Objects, not arrays: jest would take a missing `check` for a `done` callback.
  const table = rows.map(([name, doc, vars, expected, check]) => ({ name, doc, vars, expected, check }));
  it.each(table)('$name', async ({ doc, vars, expected, check }) => {
    const actual = {} as Expected;
    const passed: Array<[Caller, unknown]> = [];
    for (const caller of CALLERS) {
      if (expected[caller] === SKIP) {
        actual[caller] = SKIP;
        continue;
      }
      const res = await t.gql(doc, vars(caller), { token: tokens[caller] });
      actual[caller] = outcomeOf(res);
      // No answer key reaches anyone but staff, whatever the operation or its outcome.
      if (caller !== 'admin') expect({ caller, points: valuesOf(res.data, 'points').filter((p) => p !== null) }).toEqual({ caller, points: [] });
      if (actual[caller] === OK) passed.push([caller, res.data]);
    }
    expect(actual).toEqual(expected);
    for (const [caller, data] of passed) check?.(caller, data);
  });

  it('any id that names no assessment of the caller is NOT_FOUND, never an internal error', async () => {
    const odd = ['', ' ', '00000000-0000-0000-0000-000000000000', `${f.ownerDone}\n`, ` ${f.ownerDone}`, `${f.ownerDone}x`, "' or 1=1 --", 'a'.repeat(4000)];
    for (const doc of [READ, SAVE, SUBMIT, SHARE, REVOKE, DELETE]) {
      for (const id of odd) {
        const outcome = outcomeOf(await t.gql(doc, { id, answers: firstAnswer }, { token: tokens.owner }));
        expect({ doc: doc.slice(0, 40), id: id.slice(0, 40), outcome }).toEqual({ doc: doc.slice(0, 40), id: id.slice(0, 40), outcome: NF });
      }
    }
  });

  it('leaves the table’s effects visible: the deleted assessment and the revoked link are gone', async () => {
    for (const caller of ['owner', 'admin'] as const) {
      expect(outcomeOf(await t.gql(READ, { id: f.ownerOpen }, { token: tokens[caller] }))).toBe(NF);
    }
    const ids = ok(await t.gql(MINE, {}, { token: tokens.owner })).myAssessments.edges.map((e: any) => e.node.id);
    expect(ids).toEqual([f.ownerDone]);
    expect(ok(await t.gql(SHARED, { t: f.shareToken })).sharedAssessment).toBeNull();
    // The lead's assessments survived every refused attempt.
    const lead = ok(await t.gql(MINE, {}, { token: tokens.lead })).myAssessments.edges.map((e: any) => e.node.id);
    expect(lead.sort()).toEqual([f.leadOpen, f.leadDone].sort());
  });
});
