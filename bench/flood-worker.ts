/**
 * The login flood, in a worker thread: its client work must not delay the `me` probe, which runs
 * on the bench's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { GraphqlRequest } from './load';
import { isBusy, isLoggedIn } from './posture';

export interface FloodCounts {
  loggedIn: number;
  refusedBusy: number;
  otherFailures: number;
  seconds: number;
}

const { request, connections } = workerData as { request: GraphqlRequest; connections: number };
const counts = { loggedIn: 0, refusedBusy: 0, other: 0 };

const instance = autocannon(
  {
    url: request.url,
    connections,
    duration: 3600, // until the main thread says stop
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        onResponse: (status, body) => {
          if (status === 200 && isLoggedIn(body)) counts.loggedIn++;
          else if (isBusy(body)) counts.refusedBusy++;
          else counts.other++;
        },
      },
    ],
  },
  (err, result) => {
    if (err) throw err;
    const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
    const message: FloodCounts = {
      loggedIn: counts.loggedIn,
      refusedBusy: counts.refusedBusy,
      otherFailures: counts.other + result.errors + result.timeouts,
      seconds,
    };
    parentPort!.postMessage(message);
  },
);

parentPort!.once('message', () => instance.stop());
