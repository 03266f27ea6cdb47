import type { GraphQLSchema } from 'graphql';
import { buildAppSchema } from '../../src/graphql/schema';
import {
  parseRateLimits,
  policyOf,
  resolvePolicies,
  rootFields,
  sensitiveOperations,
} from '../../src/modules/rate-limit/rate-limit.policies';

const summary = (policies: Map<string, { scope: string; max: number; windowSeconds: number }[]>) =>
  Object.fromEntries([...policies].map(([op, list]) => [op, list.map((p) => `${p.scope}=${p.max}/${p.windowSeconds}`)]));

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildAppSchema();
});

describe('declared rate limits', () => {
  it('limit logIn to 10/min per IP and 5/min per account, sign-up to 5/min per IP, reset, capture and login-link emails to 3/hour per address, and the other email flows to 5/min per IP and per email', () => {
    expect(summary(resolvePolicies(schema, []))).toEqual({
      logIn: ['ip=10/60', 'account=5/60'],
      signUp: ['ip=5/60'],
      requestPasswordReset: ['ip=5/60', 'account=3/3600'],
      resendVerificationEmail: ['ip=5/60', 'account=5/60'],
      resetPassword: ['ip=5/60', 'account=5/60'],
      changePassword: ['user=5/60'],
      captureLead: ['ip=5/60', 'account=3/3600'],
      requestLoginLink: ['ip=5/60', 'account=3/3600'],
      logInWithLink: ['ip=10/60'],
      user: ['ip=120/60'],
      updateMe: ['user=10/60'],
      confirmEmailChange: ['ip=10/60'],
      deleteMe: ['user=5/60'],
      exportMyData: ['user=5/60'],
      revokeSession: ['user=30/60'],
      adminCreateUser: ['user=20/60'],
      adminUpdateUser: ['user=60/60'],
      adminDeleteUser: ['user=30/60'],
      adminRestoreUser: ['user=30/60'],
      adminRevokeSessions: ['user=30/60'],
      beginTotpEnrollment: ['user=10/60'],
      confirmTotpEnrollment: ['ip=20/60', 'user=5/60'],
      disableTotp: ['ip=20/60', 'user=5/60'],
      regenerateRecoveryCodes: ['ip=20/60', 'user=5/60'],
      completeMfaLogIn: ['ip=10/60', 'account=5/60'],
      adminDisableTotp: ['user=30/60'],
      startOidcLogin: ['ip=30/60'],
      completeOidcLogin: ['ip=10/60'],
      linkOidcIdentity: ['user=10/60'],
      unlinkIdentity: ['user=10/60'],
    });
  });

  it('cover every operation that takes or mails a secret with the once-per-request rule', () => {
    // The others are limited per alias by the gate, which counts every occurrence of a field.
    const secretive = ['logIn', 'signUp', 'requestPasswordReset', 'resendVerificationEmail', 'resetPassword', 'changePassword', 'captureLead',
      'requestLoginLink', 'logInWithLink', 'updateMe', 'confirmEmailChange', 'deleteMe', 'adminCreateUser',
      'beginTotpEnrollment', 'confirmTotpEnrollment', 'disableTotp', 'regenerateRecoveryCodes', 'completeMfaLogIn',
      'completeOidcLogin', 'linkOidcIdentity'];
    expect(secretive.filter((operation) => !sensitiveOperations(schema).has(operation))).toEqual([]);
  });

  it('name the account argument of every operation with an account limit', () => {
    for (const [name, field] of rootFields(schema)) {
      const policy = policyOf(field);
      if (policy?.rateLimits?.some((r) => r.scope === 'account')) expect([name, policy.account]).toEqual([name, expect.any(String)]);
    }
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
      schema,
      parseRateLimits('logIn.ip=2/30,signUp.ip=off,refreshSession.user=7/60,refreshSession.ip=20/60'),
    );
    expect(summary(policies)).toMatchObject({
      logIn: ['ip=2/30', 'account=5/60'],
      refreshSession: ['ip=20/60', 'user=7/60'],
    });
    expect(policies.has('signUp')).toBe(false);
  });

  it('drops an operation whose every limit is off', () => {
    const policies = resolvePolicies(schema, parseRateLimits('logIn.ip=off,logIn.account=off'));
    expect(policies.has('logIn')).toBe(false);
    expect(policies.get('signUp')).toHaveLength(1);
  });

  it('refuses an override for an operation the API does not have, or an account limit where none is named', () => {
    expect(() => resolvePolicies(schema, parseRateLimits('logon.ip=5/60'))).toThrow(/does not have: logon/);
    expect(() => resolvePolicies(schema, parseRateLimits('me.account=5/60'))).toThrow(/me names no account/);
  });
});
