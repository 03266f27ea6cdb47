import { syntheticTemplate } from '../../src/modules/assessments/synthetic-template';
import { insertTemplateVersion } from '../../src/modules/assessments/template.seeder';
import { ok } from '../support/graphql';
import { statementsDuring } from '../support/statements';
import { LOG_IN, startTestApp, type TestApp } from '../support/test-app';
import { ASSESSMENT_TEST_ENV } from './support';

// A whole template tree (categories → questions → options) is read with a fixed number of SQL
// statements, however big the template is: one per level through the request's DataLoaders for a
// draft, and none at all (bar the "latest version" lookup) for a published version read before.
//
// The statements are counted while one request is served (see statementsDuring).

const SIZES = [5, 10, 20, 40] as const;
const QUESTIONS = 10;
const OPTIONS = 4;
const ADMIN = { ADMIN_EMAIL: 'sql-admin@example.com', ADMIN_PASSWORD: 'counting statements passphrase', ADMIN_USERNAME: 'sql_admin' };

const FULL_TREE = `query ($slug: String!, $version: Int) { assessmentTemplate(slug: $slug, version: $version) {
  id slug version categories { id name order weight questions { id text order kind options { id label order points } } } } }`;

/** The template tables: a statement naming one of them is part of reading a tree. */
const TEMPLATE_TABLES = /\b(assessment_templates|template_categories|template_questions|question_options)\b/;

const templateStatements = (statements: string[]) => statements.filter((s) => TEMPLATE_TABLES.test(s));

/** Checks the tree read back: every category, question and option, in order, with staff-only points when asked. */
function expectCompleteTree(tree: any, categories: number, { points }: { points: boolean }) {
  expect(tree.categories).toHaveLength(categories);
  tree.categories.forEach((c: any, ci: number) => {
    expect(c).toMatchObject({ order: ci + 1, name: `Category ${ci + 1}`, weight: 1 + (ci % 3) * 0.5 });
    expect(c.questions).toHaveLength(QUESTIONS);
    c.questions.forEach((q: any, qi: number) => {
      expect(q).toMatchObject({ order: qi + 1, text: `Question ${ci + 1}.${qi + 1}: is the control in place?`, kind: qi % 4 === 3 ? 'MULTIPLE' : 'SINGLE' });
      expect(q.options.map((o: any) => o.order)).toEqual([1, 2, 3, 4]);
      expect(q.options.map((o: any) => o.label)).toEqual(['Option 1', 'Option 2', 'Option 3', 'Option 4']);
      if (points) {
        const expected = q.kind === 'MULTIPLE' ? [2 / 3, 2 / 3, 2 / 3, 2 / 3] : [0, 2 / 3, 4 / 3, 2];
        q.options.forEach((o: any, oi: number) => expect(o.points).toBeCloseTo(expected[oi]!, 6));
      } else {
        expect(q.options.every((o: any) => o.points === null)).toBe(true);
      }
    });
  });
  // Every id is distinct: no row was read twice or into the wrong parent.
  const ids = tree.categories.flatMap((c: any) => [c.id, ...c.questions.flatMap((q: any) => [q.id, ...q.options.map((o: any) => o.id)])]);
  expect(new Set(ids).size).toBe(categories * (1 + QUESTIONS * (1 + OPTIONS)));
}

describe('SQL statements for a whole template tree', () => {
  let t: TestApp;
  let staff: string;

  beforeAll(async () => {
    // The mail worker polls on a timer; an hour keeps its statements out of the counts.
    t = await startTestApp({ env: { ...ASSESSMENT_TEST_ENV, ...ADMIN, MAIL_POLL_INTERVAL: '1h' } });
    for (const size of SIZES) {
      const file = (slug: string) => syntheticTemplate(slug, { categories: size, questionsPerCategory: QUESTIONS, optionsPerQuestion: OPTIONS });
      await t.app.orm.em.fork().transactional(async (tx) => {
        await insertTemplateVersion(tx, file(`sql-draft-${size}`), t.clock.now(), 'DRAFT');
        await insertTemplateVersion(tx, file(`sql-published-${size}`), t.clock.now(), 'PUBLISHED');
        await insertTemplateVersion(tx, file(`sql-versioned-${size}`), t.clock.now(), 'PUBLISHED');
      });
    }
    const login = ok(await t.gql(LOG_IN, { input: { usernameOrEmail: ADMIN.ADMIN_USERNAME, password: ADMIN.ADMIN_PASSWORD } })).logIn;
    expect(login.user.isSuperuser).toBe(true);
    staff = login.accessToken;
    // Warm up: connections opened, the session check's statements prepared.
    ok(await t.gql(FULL_TREE, { slug: 'smb-baseline' }, { token: staff }));
    ok(await t.gql(FULL_TREE, { slug: 'smb-baseline' }));
  });
  afterAll(() => t?.stop());

  it('hides a draft from everyone but staff', async () => {
    expect(ok(await t.gql(FULL_TREE, { slug: 'sql-draft-5', version: 1 })).assessmentTemplate).toBeNull();
    expect(ok(await t.gql(FULL_TREE, { slug: 'sql-draft-5', version: 1 }, { token: staff })).assessmentTemplate).not.toBeNull();
  });

  it('reads a draft of any size with the same statements: the version lookup and one per level', async () => {
    const counts: Record<number, number> = {};
    for (const size of SIZES) {
      // Read twice: a draft is never cached, so the second read costs as much as the first.
      for (let read = 0; read < 2; read++) {
        const { result, statements } = await statementsDuring(() => t.gql(FULL_TREE, { slug: `sql-draft-${size}`, version: 1 }, { token: staff }));
        const tree = ok(result).assessmentTemplate;
        expectCompleteTree(tree, size, { points: true });
        expect(templateStatements(statements)).toHaveLength(5);
        if (read === 0) counts[size] = statements.length;
        else expect({ size, statements: statements.length }).toEqual({ size, statements: counts[size] });
      }
    }
    // The same number of statements in all, whatever the size.
    expect(new Set(Object.values(counts)).size).toBe(1);
  });

  it('reads a published version once, then from memory: only the "latest version" lookup remains', async () => {
    const first: Record<number, number> = {};
    for (const size of SIZES) {
      const slug = `sql-published-${size}`;
      const cold = await statementsDuring(() => t.gql(FULL_TREE, { slug }));
      expectCompleteTree(ok(cold.result).assessmentTemplate, size, { points: false });
      // The latest-version lookup, then one statement per level.
      expect(templateStatements(cold.statements)).toHaveLength(5);
      first[size] = cold.statements.length;

      const warm = await statementsDuring(() => t.gql(FULL_TREE, { slug }));
      expectCompleteTree(ok(warm.result).assessmentTemplate, size, { points: false });
      expect(warm.statements.length).toBeLessThanOrEqual(1);
      expect(templateStatements(warm.statements)).toHaveLength(warm.statements.length);
    }
    expect(new Set(Object.values(first)).size).toBe(1);
  });

  it('reads a published version asked for by number from memory with no statement at all', async () => {
    for (const size of SIZES) {
      const slug = `sql-versioned-${size}`;
      const cold = await statementsDuring(() => t.gql(FULL_TREE, { slug, version: 1 }));
      expectCompleteTree(ok(cold.result).assessmentTemplate, size, { points: false });
      expect(templateStatements(cold.statements)).toHaveLength(5);

      const warm = await statementsDuring(() => t.gql(FULL_TREE, { slug, version: 1 }));
      expectCompleteTree(ok(warm.result).assessmentTemplate, size, { points: false });
      expect(warm.statements).toEqual([]);
    }
  });

  it('shows staff the answer key of a published version read from memory', async () => {
    const { result } = await statementsDuring(() => t.gql(FULL_TREE, { slug: 'sql-published-10' }, { token: staff }));
    expectCompleteTree(ok(result).assessmentTemplate, 10, { points: true });
  });
});
