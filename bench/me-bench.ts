import { withServer, type BenchContext } from './context';
import { graphqlRequest, saturate, type LoadResult } from './load';
import { isMe, logIn, ME_QUERY, meBody } from './posture';
import { medianOf, runRows, table, times } from './report';

export interface MeFigure {
  throughputRatio: number;
}

/** 1. `me` over HTTP: Posture (A) against the hand-written baseline (B), restarted for every run. */
export async function benchMe(ctx: BenchContext): Promise<MeFigure> {
  const { options: o, log } = ctx;
  log(`1. \`me\` over HTTP: ${o.meConnections} keep-alive connections, closed loop, ${o.seconds} s per run after ${o.warmupSeconds} s warm-up; each server freshly started per run`);
  log('   A = Posture: node dist/src/main.js (Apollo Server, type-graphql, MikroORM)');
  log('   B = baseline: node dist/bench/baseline-server.js. node:http + graphql-js + pg; verifies the same EdDSA JWT with jose');
  log('       against the same public key (same claims checks), checks the session is live and loads the user in one SQL');
  log('       query, caches parsed+validated documents as Apollo does and verified tokens as Posture does, executes with');
  log('       graphql-js. Same DB, same pool size.');

  const load = async (url: string, token: string) => {
    const request = graphqlRequest(url, ME_QUERY, undefined, token);
    const run = { connections: o.meConnections, verify: isMe };
    if (o.warmupSeconds > 0) await saturate(request, { ...run, seconds: o.warmupSeconds });
    return saturate(request, { ...run, seconds: o.seconds });
  };

  const rounds: Array<{ a: LoadResult; b: LoadResult }> = [];
  let checked = false;
  for (let i = 0; i < o.rounds; i++) {
    let token = '';
    let postureAnswer = '';
    const a = await withServer(ctx.startPosture, async (posture) => {
      token = await logIn(posture.url, ctx.credentials);
      postureAnswer = await meBody(posture.url, token);
      return load(posture.url, token);
    });
    const b = await withServer(ctx.startBaseline, async (baseline) => {
      if (!checked) {
        const baselineAnswer = await meBody(baseline.url, token);
        if (!isMe(postureAnswer) || baselineAnswer.trim() !== postureAnswer.trim()) {
          throw new Error(`Posture and the baseline answer \`me\` differently:\n  Posture:  ${postureAnswer}\n  baseline: ${baselineAnswer}`);
        }
        checked = true;
      }
      return load(baseline.url, token);
    });
    rounds.push({ a, b });
  }

  const failures = rounds.reduce((n, r) => n + r.a.failed + r.b.failed, 0);
  log('   Both servers gave the identical response body.' + (failures ? ` FAILED REQUESTS: ${failures}` : ' No failed requests.'));
  log(
    table(
      ['run', 'A req/s', 'A p50 ms', 'A p99 ms', 'B req/s', 'B p50 ms', 'B p99 ms'],
      runRows(rounds, [(r) => r.a.perSecond, (r) => r.a.p50, (r) => r.a.p99, (r) => r.b.perSecond, (r) => r.b.p50, (r) => r.b.p99], [0, 2, 2, 0, 2, 2]),
    ),
  );
  const ratio = (pick: (r: LoadResult) => number) => medianOf(rounds, (r) => pick(r.a)) / medianOf(rounds, (r) => pick(r.b));
  const throughputRatio = ratio((r) => r.perSecond);
  log(`   => Posture / baseline: throughput ${times(throughputRatio)}, p50 latency ${times(ratio((r) => r.p50))}, p99 latency ${times(ratio((r) => r.p99))}`);
  log();
  if (failures) throw new Error(`${failures} \`me\` requests failed in benchmark 1`);
  return { throughputRatio };
}
