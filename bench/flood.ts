import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { FloodCounts } from './flood-worker';
import type { GraphqlRequest } from './load';
import { graphql, isBusy, LOG_IN_MUTATION, type Credentials } from './posture';

export interface Flood {
  stop(): Promise<FloodCounts>;
}

export function startFlood(request: GraphqlRequest, connections: number): Flood {
  const worker = new Worker(path.join(__dirname, 'flood-worker.js'), { workerData: { request, connections } });
  const done = new Promise<FloodCounts>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the flood worker exited with code ${code} before reporting`)));
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const counts = await done;
      await worker.terminate();
      return counts;
    },
  };
}

/**
 * Waits until the logIns the flood left queued in Posture have run: the hashing queue is FIFO, so
 * once a logIn sent now is answered, everything queued before it has been.
 */
export async function waitForHashQueue(baseUrl: string, credentials: Credentials, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await graphql(baseUrl, LOG_IN_MUTATION, { input: credentials });
      return;
    } catch (err) {
      if (!isBusy((err as Error).message) || Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}
