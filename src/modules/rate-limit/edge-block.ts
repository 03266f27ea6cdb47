import { setTimeout as sleep } from 'node:timers/promises';
import { Kind, parse, type DocumentNode, type OperationDefinitionNode, type ParseOptions } from 'graphql';
import type { Store } from 'graphql-rate-limit';
import { ErrorCode } from '../../common/errors';
import { collectRootFields, fragmentsOf } from '../../graphql/root-fields';
import { tooManyAttempts, type RateLimitPolicy } from './rate-limit.policies';

/** The identity an `ip` limit counts a client under. */
export const ipIdentity = (ip: string) => `ip:${ip}`;

/**
 * Clients refused by an `ip` limit, each remembered until its window admits another call, so that
 * the HTTP edge refuses their next requests before Apollo parses, validates and refuses each one:
 * a flood of refused calls otherwise starves every other client of CPU. Local to this instance (a
 * refusal elsewhere is made by that instance's limiter); a block never outlasts the limit it
 * copies, so a client under its limits is never refused here.
 */
export class EdgeBlocks {
  /** identity → operation → until (epoch ms). */
  private readonly blocks = new Map<string, Map<string, number>>();
  private writes = 0;

  /**
   * Notes a refusal by `policy`, with the calls `store` holds for it: the block lasts until the
   * oldest call that keeps the count at its maximum leaves the window.
   */
  async refused(identity: string, policy: RateLimitPolicy, store: Store, now = Date.now()): Promise<void> {
    if (policy.scope !== 'ip') return;
    let timestamps: readonly number[];
    try {
      timestamps = await store.getForIdentity({ contextIdentity: identity, fieldIdentity: policy.operation });
    } catch {
      return; // the limiter goes on refusing without help
    }
    const windowMs = policy.windowSeconds * 1000;
    const inWindow = timestamps.filter((t) => t + windowMs > now);
    if (inWindow.length < policy.max) return;
    // graphql-rate-limit admits a call while fewer than `max` earlier ones are in the window.
    const until = inWindow[inWindow.length - policy.max]! + windowMs;
    let operations = this.blocks.get(identity);
    if (!operations) this.blocks.set(identity, (operations = new Map()));
    operations.set(policy.operation, Math.max(until, operations.get(policy.operation) ?? 0));
    if (++this.writes % 1000 === 0) this.sweep(now);
  }

  /** Forgets a block (the counted calls were cleared). */
  clear(identity: string, operation: string): void {
    const operations = this.blocks.get(identity);
    operations?.delete(operation);
    if (operations?.size === 0) this.blocks.delete(identity);
  }

  /** Whether `identity` is blocked for anything: one map lookup, the whole cost for most requests. */
  has(identity: string): boolean {
    return this.blocks.has(identity);
  }

  /** The first of `operations` that `identity` is blocked for, with the seconds left; null if none. */
  blockedFor(identity: string, operations: readonly string[], now = Date.now()): { operation: string; retryAfter: number } | null {
    const blocked = this.blocks.get(identity);
    if (!blocked) return null;
    for (const operation of operations) {
      const until = blocked.get(operation);
      if (until === undefined) continue;
      if (until > now) return { operation, retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) };
      blocked.delete(operation);
    }
    if (blocked.size === 0) this.blocks.delete(identity);
    return null;
  }

  /** How many clients are blocked (for tests). */
  get size(): number {
    return this.blocks.size;
  }

  private sweep(now: number): void {
    for (const [identity, operations] of this.blocks) {
      for (const [operation, until] of operations) if (until <= now) operations.delete(operation);
      if (operations.size === 0) this.blocks.delete(identity);
    }
  }
}

/** What the edge answers a blocked client: the rate-limit plugin's 429, before any GraphQL work. */
export interface EdgeRefusal {
  retryAfter: number;
  body: { errors: Array<{ message: string; extensions: { code: string; retryAfter: number } }> };
}

const CACHED_DOCUMENTS = 500;

/**
 * The HTTP edge's check. A request from a blocked client is parsed (cached by query text) only to
 * find the root fields of the operation it runs; if any is blocked, it is refused here. Anything it
 * cannot read (no query, a syntax error, an ambiguous operation) goes on to Apollo, which answers it.
 *
 * The refusal is sent after a short pause (`pauseMs`, 100 ms by default, never past the block). A
 * refusal costs about a tenth of a millisecond of CPU, so a client that ignores Retry-After and
 * sends again as soon as it is answered could otherwise keep a core busy from a hundred
 * connections; paused, each connection costs at most ten refusals a second. The pause holds no
 * more than a tenth of a second's worth of a client's requests open.
 */
export class EdgeGate {
  /** query text → its operations' names and root field names; null when it does not parse. */
  private readonly documents = new Map<string, OperationFields[] | null>();
  private readonly parseOptions: ParseOptions;
  private readonly pauseMs: number;

  constructor(
    private readonly blocks: EdgeBlocks,
    options: { parse?: ParseOptions; pauseMs?: number } = {},
  ) {
    this.parseOptions = options.parse ?? {};
    this.pauseMs = options.pauseMs ?? 100;
  }

  /** The refusal for a request from a blocked client, after the pause; null (at once) for any other. */
  refuse(ip: string, body: unknown): Promise<EdgeRefusal | null> | null {
    const refusal = this.check(ip, body);
    if (!refusal) return null;
    return sleep(Math.min(this.pauseMs, refusal.retryAfter * 1000)).then(() => refusal);
  }

  /** The refusal for a request from a blocked client; null for any other. */
  check(ip: string, body: unknown): EdgeRefusal | null {
    const identity = ipIdentity(ip);
    if (!this.blocks.has(identity) || typeof body !== 'object' || body === null) return null;
    const { query, operationName } = body as { query?: unknown; operationName?: unknown };
    if (typeof query !== 'string') return null;
    const operations = this.rootFieldsOf(query);
    if (!operations) return null;
    // The operation Apollo would run: the one named, or the only one.
    const chosen =
      typeof operationName === 'string' && operationName !== ''
        ? operations.find((o) => o.name === operationName)
        : operations.length === 1
          ? operations[0]
          : undefined;
    if (!chosen) return null;
    const fields = chosen.fields;
    const blocked = this.blocks.blockedFor(identity, fields);
    if (!blocked) return null;
    return {
      retryAfter: blocked.retryAfter,
      body: {
        errors: [
          {
            message: tooManyAttempts(blocked.operation),
            extensions: { code: ErrorCode.RATE_LIMITED, retryAfter: blocked.retryAfter },
          },
        ],
      },
    };
  }

  private rootFieldsOf(query: string): OperationFields[] | null {
    let operations = this.documents.get(query);
    if (operations !== undefined) return operations;
    let document: DocumentNode | undefined;
    try {
      document = parse(query, { ...this.parseOptions, noLocation: true });
    } catch {
      document = undefined;
    }
    operations = document ? rootFieldNames(document) : null;
    if (this.documents.size >= CACHED_DOCUMENTS) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(query, operations);
    return operations;
  }
}

interface OperationFields {
  name: string | undefined;
  fields: string[];
}

function rootFieldNames(document: DocumentNode): OperationFields[] {
  const fragments = fragmentsOf(document);
  return document.definitions
    .filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => ({
      name: operation.name?.value,
      fields: collectRootFields(operation, fragments)
        .map((field) => field.name.value)
        .filter((name) => !name.startsWith('__')),
    }));
}
