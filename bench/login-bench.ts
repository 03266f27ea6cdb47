import argon2 from 'argon2';
import type { ChildServer } from './child-server';
import type { BenchContext } from './context';
import { graphqlRequest, saturate, type LoadResult } from './load';
import { isLoggedIn, LOG_IN_MUTATION } from './posture';
import { medianOf, runRows, table, times } from './report';

export interface LoginFigure {
  throughputRatio: number;
}

/** `concurrency` loops of argon2.verify on the stored hash, in this process, for `seconds`. */
async function rawVerify(hash: string, password: string, concurrency: number, seconds: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        if (!(await argon2.verify(hash, password))) throw new Error('argon2.verify rejected the bench password');
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

/** 2. logIn throughput: Posture (A) against raw argon2.verify at the same parameters and concurrency (B). */
export async function benchLogin(ctx: BenchContext, posture: ChildServer): Promise<LoginFigure> {
  const { options: o, log } = ctx;
  log(`2. logIn throughput: ${o.seconds} s per run; HASH_CONCURRENCY=${o.hashConcurrency} (set explicitly), rate limits off`);
  log(`   A = Posture's logIn over HTTP, ${o.loginConnections} connections (keeps its hashing queue busy without overflowing it)`);
  log(`   B = raw argon2.verify of the same stored hash (${ctx.passwordHash.split('$').slice(1, 4).join(' ')}) in ${o.hashConcurrency} concurrent loop(s)`);

  const request = graphqlRequest(posture.url, LOG_IN_MUTATION, { input: ctx.credentials });
  const run = { connections: o.loginConnections, verify: isLoggedIn };
  if (o.warmupSeconds > 0) {
    await saturate(request, { ...run, seconds: o.warmupSeconds });
    await rawVerify(ctx.passwordHash, ctx.credentials.password, o.hashConcurrency, 1);
  }

  const rounds: Array<{ a: LoadResult; b: number }> = [];
  for (let i = 0; i < o.rounds; i++) {
    const a = await saturate(request, { ...run, seconds: o.seconds });
    const b = await rawVerify(ctx.passwordHash, ctx.credentials.password, o.hashConcurrency, o.seconds);
    rounds.push({ a, b });
  }

  const failures = rounds.reduce((n, r) => n + r.a.failed, 0);
  log(failures ? `   FAILED logIns: ${failures}` : '   Every logIn succeeded.');
  log(
    table(
      ['run', 'A logIns/s', 'A p50 ms', 'A p99 ms', 'B verifies/s'],
      runRows(rounds, [(r) => r.a.perSecond, (r) => r.a.p50, (r) => r.a.p99, (r) => r.b], [1, 1, 1, 1]),
    ),
  );
  const throughputRatio = medianOf(rounds, (r) => r.a.perSecond) / medianOf(rounds, (r) => r.b);
  log(`   => Posture logIns/s / raw verifies/s: ${times(throughputRatio)}`);
  log();
  if (failures) throw new Error(`${failures} logIns failed in benchmark 2`);
  return { throughputRatio };
}
