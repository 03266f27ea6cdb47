import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FloodCounts, FloodSpec } from './flood-worker';

export interface Flood {
  /** Counts so far. */
  snapshot(): Promise<FloodCounts>;
  /** Stops sending and resolves once every logIn sent has been answered (so Posture's hashing queue is empty). */
  stop(): Promise<FloodCounts>;
}

export function startFlood(spec: FloodSpec): Flood {
  const worker = new Worker(path.join(__dirname, 'flood-worker.js'), { workerData: spec });
  let failed: Error | undefined;
  const waiting: Array<{ type: string; resolve: (c: FloodCounts) => void; reject: (e: Error) => void }> = [];
  const fail = (err: Error) => {
    failed = err;
    for (const w of waiting.splice(0)) w.reject(err);
  };
  worker.on('message', (message: { type: string; counts: FloodCounts }) => {
    const i = waiting.findIndex((w) => w.type === message.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(message.counts);
  });
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`the flood worker exited with code ${code}`)));
  const ask = (type: 'snapshot' | 'stopped', message: string) =>
    new Promise<FloodCounts>((resolve, reject) => {
      if (failed) return reject(failed);
      waiting.push({ type, resolve, reject });
      worker.postMessage(message);
    });
  return {
    snapshot: () => ask('snapshot', 'snapshot'),
    async stop() {
      const counts = await ask('stopped', 'stop');
      await worker.terminate();
      return counts;
    },
  };
}

/** Counts of the flood between two snapshots. */
export function floodDelta(before: FloodCounts, after: FloodCounts): FloodCounts {
  return {
    sent: after.sent - before.sent,
    answered: after.answered - before.answered,
    admitted: after.admitted - before.admitted,
    refused: after.refused - before.refused,
    refusedBusy: after.refusedBusy - before.refusedBusy,
    other: after.other - before.other,
    notSent: after.notSent - before.notSent,
    connects: after.connects - before.connects,
    otherSamples: after.otherSamples.slice(before.otherSamples.length),
    at: after.at - before.at,
  };
}

/**
 * Loopback client addresses for the attacker: 127.0.0.2 and up (Linux routes all of 127/8 to
 * lo, so they need no setup). Every call hands out addresses never used before in this run, so
 * every flood run starts from fresh per-IP counters and meets the same default limits.
 */
export function attackerAddresses(): (count: number) => string[] {
  let next = 2; // 127.0.0.1 is the `me` probe's
  return (count) =>
    Array.from({ length: count }, () => {
      let n = next++;
      // Skip .0 and .255 in the last two octets.
      while (n % 256 === 0 || n % 256 === 255) n = next++;
      return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    });
}
