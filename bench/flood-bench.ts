import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildServer } from './child-server';
import type { BenchContext } from './context';
import { startFlood, waitForHashQueue } from './flood';
import type { FloodCounts } from './flood-worker';
import { graphqlRequest, paced, type LoadResult } from './load';
import { isMe, LOG_IN_MUTATION, logIn, ME_QUERY } from './posture';
import { fixed, medianOf, runRows, table, times } from './report';

export interface FloodFigure {
  p99Ratio: number;
}

/** 3. `me` latency while a login flood runs (B) against `me` alone (A), on one running Posture. */
export async function benchFlood(ctx: BenchContext, posture: ChildServer): Promise<FloodFigure> {
  const { options: o, log } = ctx;
  const admitted = o.hashConcurrency + o.hashQueueLimit;
  log(`3. \`me\` latency under a login flood: \`me\` paced at ${o.meRate} req/s (open loop) for ${o.seconds} s per run`);
  log('   A = `me` alone');
  log(`   B = \`me\` while ${o.floodConnections} connections send logIns back to back (from a worker thread); the hashing queue`);
  log(`       admits ${admitted} (HASH_CONCURRENCY=${o.hashConcurrency} + HASH_QUEUE_LIMIT=${o.hashQueueLimit}) and refuses the rest with RATE_LIMITED`);

  const token = await logIn(posture.url, ctx.credentials);
  const me = graphqlRequest(posture.url, ME_QUERY, undefined, token);
  const loginRequest = graphqlRequest(posture.url, LOG_IN_MUTATION, { input: ctx.credentials });
  const probe = () => paced(me, { rate: o.meRate, seconds: o.seconds, verify: isMe });
  await paced(me, { rate: o.meRate, seconds: Math.max(1, o.warmupSeconds), verify: isMe });

  const rounds: Array<{ a: LoadResult; b: LoadResult; flood: FloodCounts }> = [];
  for (let i = 0; i < o.rounds; i++) {
    const a = await probe();
    const flood = startFlood(loginRequest, o.floodConnections);
    await sleep(1000); // let the queue fill before measuring
    const b = await probe();
    const counts = await flood.stop();
    await waitForHashQueue(posture.url, ctx.credentials);
    rounds.push({ a, b, flood: counts });
  }

  const failures = rounds.reduce((n, r) => n + r.a.failed + r.b.failed, 0);
  log(failures ? `   FAILED \`me\` requests: ${failures}` : '   Every `me` request succeeded.');
  log(
    table(
      ['run', 'A p50 ms', 'A p99 ms', 'B p50 ms', 'B p99 ms', 'B me/s', 'logIns ok/s', 'refused busy', 'refused/s', 'other errors'],
      runRows(
        rounds,
        [
          (r) => r.a.p50,
          (r) => r.a.p99,
          (r) => r.b.p50,
          (r) => r.b.p99,
          (r) => r.b.perSecond,
          (r) => r.flood.loggedIn / r.flood.seconds,
          (r) => r.flood.refusedBusy,
          (r) => r.flood.refusedBusy / r.flood.seconds,
          (r) => r.flood.otherFailures,
        ],
        [2, 2, 2, 2, 1, 1, 0, 0, 0],
      ),
    ),
  );
  const p99Ratio = medianOf(rounds, (r) => r.b.p99) / medianOf(rounds, (r) => r.a.p99);
  const p50Ratio = medianOf(rounds, (r) => r.b.p50) / medianOf(rounds, (r) => r.a.p50);
  const refused = rounds.reduce((n, r) => n + r.flood.refusedBusy, 0);
  log(`   => \`me\` p99 during flood / alone: ${times(p99Ratio)} (p50 ${times(p50Ratio)}); ${fixed(refused, 0)} logIns refused as busy in all`);
  log();
  if (failures) throw new Error(`${failures} \`me\` requests failed in benchmark 3`);
  return { p99Ratio };
}
