import type { GraphQLField, GraphQLSchema } from 'graphql';
import { Extensions } from 'type-graphql';
import type { Context } from '../../graphql/context';

export type RateLimitScope = 'ip' | 'account' | 'user';
export const RATE_LIMIT_SCOPES: readonly RateLimitScope[] = ['ip', 'account', 'user'];

/** One limit as an operation declares it: at most `max` calls per `per` seconds for each caller of `scope`. */
export interface RateLimitRule {
  scope: RateLimitScope;
  max: number;
  per: number;
}

/**
 * What a root field declares about itself, next to its resolver, for the plugins that guard every
 * operation (rate limits, the once-per-request rule, hashing admission) to read from the schema.
 */
export interface OperationPolicy {
  /** Default limits; `RATE_LIMITS` can override each one. */
  rateLimits?: readonly RateLimitRule[];
  /** Where the arguments name the account acted on (a dotted path), for `account` limits. */
  account?: string;
  /**
   * How `account` limits key the name: `account` (default) counts an email and a username of one
   * account together, which takes a lookup; `address` counts the normalized email address as
   * written, with no lookup, for operations that must not touch accounts at all (lead capture).
   */
  accountKey?: 'account' | 'address';
  /**
   * For an argument that designates an account without naming it (a challenge token): resolves
   * the value at `account` to that account's id, so `account` limits count per account across
   * every such value. An unknown value (null) counts against the other scopes only.
   */
  accountOf?: (value: string, ctx: Context) => Promise<string | null>;
  /** Takes or sends a secret: at most one per request, so aliases cannot fan it out. */
  sensitive?: boolean;
  /** Runs argon2: refused before execution while the hashing queue is full. */
  hashing?: boolean;
  /** Scopes whose count a successful call clears (a log-in that succeeds forgives the account's failures). */
  clearOnSuccess?: readonly RateLimitScope[];
}

/** A limit of `max` calls a minute for each caller of `scope`. */
export const perMinute = (scope: RateLimitScope, max: number): RateLimitRule => ({ scope, max, per: 60 });

/** Declares an operation's policy on its resolver; read back with `policyOf`. */
export const Policy = (policy: OperationPolicy) => Extensions({ policy });

export function policyOf(field: Pick<GraphQLField<unknown, unknown>, 'extensions'> | undefined): OperationPolicy | undefined {
  return (field?.extensions as { policy?: OperationPolicy } | undefined)?.policy;
}

/** Every root field (query and mutation) of a schema, by name. */
export function rootFields(schema: GraphQLSchema): Map<string, GraphQLField<unknown, unknown>> {
  const fields = new Map<string, GraphQLField<unknown, unknown>>();
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const [name, field] of Object.entries(type?.getFields() ?? {})) fields.set(name, field);
  }
  return fields;
}

const sensitiveBySchema = new WeakMap<GraphQLSchema, ReadonlySet<string>>();

/** The names of the root fields that declare themselves sensitive (worked out once per schema). */
export function sensitiveOperations(schema: GraphQLSchema): ReadonlySet<string> {
  let names = sensitiveBySchema.get(schema);
  if (!names) {
    names = new Set([...rootFields(schema)].filter(([, field]) => policyOf(field)?.sensitive).map(([name]) => name));
    sensitiveBySchema.set(schema, names);
  }
  return names;
}

/** A limit in force for one operation. */
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

/** Who is calling, for limits that depend on it; worked out only if a source asks. */
export interface RateLimitCaller {
  /** The signed-in caller's tier id; null when anonymous or a lead session. */
  tier(): Promise<string | null>;
}

/**
 * Where the limits in force come from: TieredRateLimits, the declarations with `RATE_LIMITS`
 * applied (resolvePolicies) and each signed-in caller's tier limits between the two.
 */
export interface RateLimitSource {
  limitsFor(operation: string, caller: RateLimitCaller): readonly RateLimitPolicy[] | Promise<readonly RateLimitPolicy[]>;
}

/** What a client over a limit is told, wherever it is refused (the operation gate or the HTTP edge). */
export const tooManyAttempts = (operation: string) => `Too many ${operation} attempts; try again later.`;

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

/**
 * The declared limits of a schema's root fields with `RATE_LIMITS` applied, grouped by operation,
 * ip before account before user. Throws for an override that names an operation the schema lacks,
 * or an `account` limit on an operation that names no account.
 */
export function resolvePolicies(schema: GraphQLSchema, overrides: readonly RateLimitOverride[]): Map<string, RateLimitPolicy[]> {
  const fields = rootFields(schema);
  const problems: string[] = [];
  for (const o of overrides) {
    const field = fields.get(o.operation);
    if (!field) problems.push(`RATE_LIMITS names an operation the API does not have: ${o.operation}`);
    else if (o.scope === 'account' && !policyOf(field)?.account) {
      problems.push(`RATE_LIMITS: ${o.operation} names no account; use ip or user`);
    }
  }
  if (problems.length) throw new Error(problems.join('; '));

  const byKey = new Map<string, RateLimitPolicy | null>();
  for (const [operation, field] of fields) {
    for (const rule of policyOf(field)?.rateLimits ?? []) {
      byKey.set(`${operation}.${rule.scope}`, { operation, scope: rule.scope, max: rule.max, windowSeconds: rule.per });
    }
  }
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
