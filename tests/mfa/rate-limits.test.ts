import { randomBytes } from 'node:crypto';
import { codes, firstCode, ok } from '../support/graphql';
import { CHEAP_HASHING, relaxedLimits, startTestApp, type TestApp } from '../support/test-app';
import { codeAt, complete, createMfaUser, newChallenge } from './support';

// completeMfaLogIn's default limits: 10 a minute per IP, 5 a minute per account, the account
// being the challenge's, so new challenges buy no new guesses. (logIn's own account limit is
// raised here, to get the challenges.)
describe('completeMfaLogIn limits', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ env: { ...CHEAP_HASHING, RATE_LIMITS: relaxedLimits('logIn.account=100000/60') } });
  });
  afterEach(() => t.stop());

  it('refuses the 6th try within a minute for one account, across different challenges, with the right code too', async () => {
    const user = await createMfaUser(t, 'rl');
    const [c1, c2, c3] = [await newChallenge(t, user), await newChallenge(t, user), await newChallenge(t, user)];
    const tries = [c1, c1, c2, c2, c3];
    for (const challenge of tries) expect(codes(await complete(t, challenge, '000000'))).toEqual(['INVALID_CREDENTIALS']);
    const limited = await complete(t, c3, codeAt(t, user.secret));
    expect(codes(limited)).toEqual(['RATE_LIMITED']);
    expect(limited.status).toBe(429);
    expect(firstCode(await complete(t, await newChallenge(t, user), codeAt(t, user.secret)))).toBe('RATE_LIMITED');
    // Another account from the same address is not held back by this one's count.
    const other = await createMfaUser(t, 'rlo');
    expect(ok(await complete(t, await newChallenge(t, other), codeAt(t, other.secret))).completeMfaLogIn.user.id).toBe(other.id);
  });

  it('counts unknown challenges against the IP: the 11th within a minute is RATE_LIMITED', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 11; i++) answers.push(String(firstCode(await complete(t, randomBytes(32).toString('base64url'), '123456'))));
    expect(answers).toEqual([...Array(10).fill('INVALID_TOKEN'), 'RATE_LIMITED']);
  });
});
