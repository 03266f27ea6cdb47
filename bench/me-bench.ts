import { withServer, type BenchContext } from './context';
import { graphqlRequest } from './load';
import { graphqlBody, isMe, logIn, ME_QUERY } from './posture';
import { alternate, compareRuns, measureLoad, type LoadRun, type SideBySideFigure } from './side-by-side';

export type MeRun = LoadRun;

export type MeFigure = SideBySideFigure;

/** 1. `me` over HTTP: Posture (A) against the hand-written baseline (B), each restarted for every run. */
export async function benchMe(ctx: BenchContext): Promise<MeFigure> {
  const { options: o, log } = ctx;
  log(`1. \`me\` over HTTP: ${o.meConnections} keep-alive connections from 127.0.0.1, closed loop (autocannon), ${o.seconds} s per run after ${o.warmupSeconds} s warm-up; each server freshly started per run, at its defaults; order A B, B A, A B …`);
  log('   A = Posture: node dist/src/main.js (Apollo Server, type-graphql, MikroORM)');
  log('   B = baseline: node dist/bench/baseline-server.js. node:http + graphql-js + pg; verifies the same EdDSA JWT with jose');
  log('       against the same public key (same claims checks), checks the session is live and loads the user in one SQL');
  log('       query, caches parsed+validated documents as Apollo does and verified tokens as Posture does, executes with');
  log('       graphql-js. Same DB, same pool size.');
  log('   CPU = the server process and its child processes, utime+stime from /proc/<pid>/stat, over the measured window / responses in it.');

  const load = (server: { url: string; pid: number }, token: string): Promise<MeRun> =>
    measureLoad(
      server.pid,
      graphqlRequest(server.url, ME_QUERY, undefined, token),
      { connections: o.meConnections, verify: isMe, seconds: o.seconds, warmupSeconds: o.warmupSeconds },
      ctx.db.backendCpu,
    );

  // One token for every run: Posture's first start logs in, and the session stays valid across
  // restarts of either server (same signing key, same database).
  const { token, postureAnswer } = await withServer(
    () => ctx.startPosture(),
    async (server) => {
      const t = await logIn(server.url, ctx.credentials);
      return { token: t, postureAnswer: await graphqlBody(server.url, ME_QUERY, undefined, t) };
    },
  );
  if (!isMe(postureAnswer)) throw new Error(`Posture does not answer \`me\`: ${postureAnswer}`);
  let checked = false;
  const runPosture = () => withServer(() => ctx.startPosture(), (server) => load(server, token));
  const runBaseline = () =>
    withServer(ctx.startBaseline, async (server) => {
      if (!checked) {
        const baselineAnswer = await graphqlBody(server.url, ME_QUERY, undefined, token);
        if (baselineAnswer.trim() !== postureAnswer.trim()) {
          throw new Error(`Posture and the baseline answer \`me\` differently:\n  Posture:  ${postureAnswer}\n  baseline: ${baselineAnswer}`);
        }
        checked = true;
      }
      return load(server, token);
    });

  const runs = await alternate(o.rounds, runPosture, runBaseline, log, 'req');
  const failures = runs.reduce((n, r) => n + r.posture.load.failed + r.baseline.load.failed, 0);
  log('   Both servers gave the identical response body.' + (failures ? ` FAILED REQUESTS: ${failures}` : ' No failed requests.'));
  return compareRuns(runs, 'request', log);
}
