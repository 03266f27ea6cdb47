export type RateLimitScope = 'ip' | 'account' | 'user';
export const RATE_LIMIT_SCOPES: readonly RateLimitScope[] = ['ip', 'account', 'user'];

export interface RateLimitPolicy {
  operation: string;
  scope: RateLimitScope;
  max: number;
  windowSeconds: number;
}

/** An entry of RATE_LIMITS; `max: null` switches a default off. */
export interface RateLimitOverride {
  operation: string;
  scope: RateLimitScope;
  max: number | null;
  windowSeconds: number;
}

const perMinute = (operation: string, scope: RateLimitScope, max: number): RateLimitPolicy => ({
  operation,
  scope,
  max,
  windowSeconds: 60,
});

export const DEFAULT_RATE_LIMITS: readonly RateLimitPolicy[] = [
  perMinute('logIn', 'ip', 10),
  perMinute('logIn', 'account', 5),
  perMinute('signUp', 'ip', 5),
  perMinute('requestPasswordReset', 'ip', 5),
  perMinute('requestPasswordReset', 'account', 5),
  perMinute('resendVerificationEmail', 'ip', 5),
  perMinute('resendVerificationEmail', 'account', 5),
  perMinute('resetPassword', 'ip', 5),
  perMinute('resetPassword', 'account', 5),
  perMinute('changePassword', 'user', 5),
];

/** Operations that take or send a secret: at most one of each per request (no alias fan-out). */
export const SENSITIVE_OPERATIONS: ReadonlySet<string> = new Set([
  'signUp',
  'logIn',
  'verifyEmail',
  'resendVerificationEmail',
  'requestPasswordReset',
  'resetPassword',
  'changePassword',
  'refreshSession',
]);

/** Where each operation names the account it acts on (a dotted path into its arguments). */
export const ACCOUNT_ARGUMENT: Readonly<Record<string, string>> = {
  logIn: 'input.usernameOrEmail',
  signUp: 'input.email',
  requestPasswordReset: 'email',
  resendVerificationEmail: 'email',
  resetPassword: 'input.email',
};

/** Parses `logIn.ip=10/60,logIn.account=off`. Throws with the offending entry named. */
export function parseRateLimits(spec: string): RateLimitOverride[] {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\.([a-z]+)=(?:(\d+)\/(\d+)|(off))$/.exec(entry);
    if (!match) {
      throw new Error(`"${entry}" is not operation.scope=count/seconds (or operation.scope=off)`);
    }
    const [, operation, scope, count, seconds] = match;
    if (!RATE_LIMIT_SCOPES.includes(scope as RateLimitScope)) {
      throw new Error(`"${entry}": scope must be one of ${RATE_LIMIT_SCOPES.join(', ')}`);
    }
    if (scope === 'account' && !ACCOUNT_ARGUMENT[operation]) {
      throw new Error(`"${entry}": ${operation} names no account; use ip or user`);
    }
    if (count !== undefined && (Number(count) < 1 || Number(seconds) < 1)) {
      throw new Error(`"${entry}": count and seconds must be at least 1`);
    }
    return {
      operation,
      scope: scope as RateLimitScope,
      max: count === undefined ? null : Number(count),
      windowSeconds: seconds === undefined ? 60 : Number(seconds),
    };
  });
}

/** The defaults with overrides applied, grouped by operation, ip before account before user. */
export function resolvePolicies(overrides: readonly RateLimitOverride[]): Map<string, RateLimitPolicy[]> {
  const byKey = new Map<string, RateLimitPolicy | null>();
  for (const p of DEFAULT_RATE_LIMITS) byKey.set(`${p.operation}.${p.scope}`, p);
  for (const o of overrides) {
    byKey.set(`${o.operation}.${o.scope}`, o.max === null ? null : { ...o, max: o.max });
  }
  const byOperation = new Map<string, RateLimitPolicy[]>();
  for (const p of byKey.values()) {
    if (!p) continue;
    const list = byOperation.get(p.operation) ?? [];
    list.push(p);
    byOperation.set(p.operation, list);
  }
  for (const list of byOperation.values()) {
    list.sort((a, b) => RATE_LIMIT_SCOPES.indexOf(a.scope) - RATE_LIMIT_SCOPES.indexOf(b.scope));
  }
  return byOperation;
}
