import { freePort } from './child-server';
import type { BenchContext } from './context';

/** What the counter in a Posture process answers (statement-counter.ts). */
export interface StatementCount {
  count: number;
  statements: string[];
  /** The copies of pg it hooked. */
  copies: string[];
}

export interface StatementCounter {
  /** Variables that make a Posture child count its statements (pass to ctx.startPosture). */
  env: Record<string, string>;
  /** The count so far, with the texts of statements `from` onwards (none when `from` is left out). */
  read(from?: number): Promise<StatementCount>;
  /** Runs `fn` and returns the statements Posture sent meanwhile, with its result. */
  around<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
}

/** A counter for one Posture child: bench/statement-counter.js preloaded, answering on a port of its own. */
export async function statementCounter(ctx: Pick<BenchContext, 'benchScript'>): Promise<StatementCounter> {
  const port = await freePort();
  const read = async (from?: number): Promise<StatementCount> => {
    const res = await fetch(`http://127.0.0.1:${port}/statements${from === undefined ? '' : `?from=${from}`}`);
    return (await res.json()) as StatementCount;
  };
  return {
    env: { NODE_OPTIONS: `--require ${ctx.benchScript('statement-counter')}`, BENCH_STATEMENT_COUNTER_PORT: String(port) },
    read,
    async around(fn) {
      const before = (await read()).count;
      const result = await fn();
      const after = await read(before);
      return { result, statements: after.statements.slice(0, after.count - before) };
    },
  };
}
