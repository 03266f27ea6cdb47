import {
  DEFAULT_RATE_LIMITS,
  parseRateLimits,
  resolvePolicies,
  SENSITIVE_OPERATIONS,
} from '../../src/modules/rate-limit/rate-limit.policies';

const summary = (policies: Map<string, { scope: string; max: number; windowSeconds: number }[]>) =>
  Object.fromEntries([...policies].map(([op, list]) => [op, list.map((p) => `${p.scope}=${p.max}/${p.windowSeconds}`)]));

describe('default rate limits', () => {
  it('limit logIn to 10/min per IP and 5/min per account, sign-up to 5/min per IP, and the email flows to 5/min per IP and per email', () => {
    expect(summary(resolvePolicies([]))).toEqual({
      logIn: ['ip=10/60', 'account=5/60'],
      signUp: ['ip=5/60'],
      requestPasswordReset: ['ip=5/60', 'account=5/60'],
      resendVerificationEmail: ['ip=5/60', 'account=5/60'],
      resetPassword: ['ip=5/60', 'account=5/60'],
      changePassword: ['user=5/60'],
    });
  });

  it('cover every default with the once-per-request rule', () => {
    for (const policy of DEFAULT_RATE_LIMITS) expect(SENSITIVE_OPERATIONS.has(policy.operation)).toBe(true);
  });
});

describe('parseRateLimits', () => {
  it('reads nothing from an empty or blank value', () => {
    expect(parseRateLimits('')).toEqual([]);
    expect(parseRateLimits('  ,  ')).toEqual([]);
  });

  it('reads comma-separated operation.scope=count/seconds entries and off', () => {
    expect(parseRateLimits(' logIn.ip=2/60 , logIn.account=off,changePassword.user=3/600')).toEqual([
      { operation: 'logIn', scope: 'ip', max: 2, windowSeconds: 60 },
      { operation: 'logIn', scope: 'account', max: null, windowSeconds: 60 },
      { operation: 'changePassword', scope: 'user', max: 3, windowSeconds: 600 },
    ]);
  });

  it.each([
    ['logIn.ip=10', /logIn\.ip=10.*operation\.scope=count\/seconds/],
    ['logIn=10/60', /logIn=10\/60.*operation\.scope=count\/seconds/],
    ['logIn.ip=ten/60', /logIn\.ip=ten\/60/],
    ['logIn.ip=10/1m', /logIn\.ip=10\/1m/],
    ['logIn.ip=-1/60', /logIn\.ip=-1\/60/],
    ['logIn.ip=0/60', /logIn\.ip=0\/60.*at least 1/],
    ['logIn.ip=5/0', /logIn\.ip=5\/0.*at least 1/],
    ['logIn.country=5/60', /logIn\.country=5\/60.*scope must be one of ip, account, user/],
    ['me.account=5/60', /me\.account=5\/60.*names no account/],
  ])('rejects %s with a message naming the entry', (spec, message) => {
    expect(() => parseRateLimits(spec)).toThrow(message);
  });

  it('names the bad entry among good ones', () => {
    expect(() => parseRateLimits('logIn.ip=2/60,signUp.ip=lots')).toThrow(/"signUp\.ip=lots"/);
  });
});

describe('resolvePolicies', () => {
  it('replaces a default, switches one off and adds new ones, ordered ip, account, user', () => {
    const policies = resolvePolicies(
      parseRateLimits('logIn.ip=2/30,signUp.ip=off,refreshSession.user=7/60,refreshSession.ip=20/60'),
    );
    expect(summary(policies)).toMatchObject({
      logIn: ['ip=2/30', 'account=5/60'],
      refreshSession: ['ip=20/60', 'user=7/60'],
    });
    expect(policies.has('signUp')).toBe(false);
  });

  it('drops an operation whose every limit is off', () => {
    const policies = resolvePolicies(parseRateLimits('logIn.ip=off,logIn.account=off'));
    expect(policies.has('logIn')).toBe(false);
    expect(policies.get('signUp')).toHaveLength(1);
  });
});
