import { codes, type GraphQLResponse } from '../support/graphql';
import { bearer, startTestApp, type TestApp } from '../support/test-app';
import { codeAt, complete, count, createMfaUser, DISABLE, MFA_TEST_ENV, newChallenge, REGENERATE } from './support';

// 20 parallel uses of one code: exactly one wins, the rest get a clean coded refusal.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: MFA_TEST_ENV });
});
afterAll(() => t.stop());

const PARALLEL = 20;

function tally(answers: GraphQLResponse[], field: string) {
  for (const a of answers) expect(a.status).toBeLessThan(500);
  const won = answers.filter((a) => !a.errors?.length && (a.data as Record<string, unknown> | null)?.[field] != null);
  const refused = answers.filter((a) => a.errors?.length).map((a) => codes(a)[0]);
  return { won: won.length, refused: [...new Set(refused)] };
}

/** PARALLEL challenges of one account, one logIn each. */
async function challengesOf(user: { username: string; password: string }): Promise<string[]> {
  const challenges: string[] = [];
  for (let i = 0; i < PARALLEL; i++) challenges.push(await newChallenge(t, user));
  return challenges;
}

describe('completeMfaLogIn under concurrency', () => {
  it('one challenge and one code, 20 times at once: one AuthPayload, the others INVALID_TOKEN', async () => {
    const user = await createMfaUser(t, 'c1');
    const challenge = await newChallenge(t, user);
    const code = codeAt(t, user.secret);
    const before = await count(t, 'sessions', 'user_id = ?', [user.id]);
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => complete(t, challenge, code)));
    expect(tally(answers, 'completeMfaLogIn')).toEqual({ won: 1, refused: ['INVALID_TOKEN'] });
    expect(await count(t, 'sessions', 'user_id = ?', [user.id])).toBe(before + 1);
  });

  it('one TOTP code over 20 challenges at once: one AuthPayload, the others INVALID_CREDENTIALS', async () => {
    const user = await createMfaUser(t, 'c2');
    const challenges = await challengesOf(user);
    const code = codeAt(t, user.secret);
    const before = await count(t, 'sessions', 'user_id = ?', [user.id]);
    const answers = await Promise.all(challenges.map((c) => complete(t, c, code)));
    expect(tally(answers, 'completeMfaLogIn')).toEqual({ won: 1, refused: ['INVALID_CREDENTIALS'] });
    expect(await count(t, 'sessions', 'user_id = ?', [user.id])).toBe(before + 1);
  });

  it('one recovery code over 20 challenges at once: one AuthPayload, and the code is spent', async () => {
    const user = await createMfaUser(t, 'c3');
    const challenges = await challengesOf(user);
    const answers = await Promise.all(challenges.map((c) => complete(t, c, user.codes[0]!)));
    expect(tally(answers, 'completeMfaLogIn')).toEqual({ won: 1, refused: ['INVALID_CREDENTIALS'] });
    expect(await count(t, 'recovery_codes', 'user_id = ? and used_at is not null', [user.id])).toBe(1);
  });

  it('20 wrong codes at once on one challenge: 5 are checked, the rest find it dead', async () => {
    const user = await createMfaUser(t, 'c4');
    const challenge = await newChallenge(t, user);
    const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => complete(t, challenge, String(100000 + i))));
    const answered = answers.map((a) => codes(a)[0]);
    expect(answered.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(5);
    expect(answered.filter((c) => c === 'INVALID_TOKEN')).toHaveLength(PARALLEL - 5);
    expect((await t.sql(`select failed_attempts from mfa_challenges where user_id = ?`, [user.id]))[0]).toEqual({ failed_attempts: 5 });
  });
});

describe('the signed-in code mutations under concurrency', () => {
  it('one recovery code, 20 regenerateRecoveryCodes at once: one set of new codes', async () => {
    const user = await createMfaUser(t, 'c5');
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => t.gql(REGENERATE, { code: user.codes[1] }, bearer(user))));
    expect(tally(answers, 'regenerateRecoveryCodes')).toEqual({ won: 1, refused: ['INVALID_CREDENTIALS'] });
    expect(await count(t, 'recovery_codes', 'user_id = ?', [user.id])).toBe(10);
  });

  it('one TOTP code, 20 disableTotp at once: disabled once, the others refused cleanly', async () => {
    const user = await createMfaUser(t, 'c6');
    const code = codeAt(t, user.secret);
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => t.gql(DISABLE, { code }, bearer(user))));
    const result = tally(answers, 'disableTotp');
    expect(result.won).toBe(1);
    for (const refusal of result.refused) expect(['INVALID_CREDENTIALS', 'CONFLICT']).toContain(refusal);
    expect(await count(t, 'audit_events', `action = 'mfa.disabled' and target_id = ?`, [user.id])).toBe(1);
  });
});
