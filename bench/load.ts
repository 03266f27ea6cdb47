import http from 'node:http';
import autocannon from 'autocannon';
import { percentile } from './stats';

export interface GraphqlRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  /** Responses that were 2xx and passed `verify`. */
  ok: number;
  /** Everything else: non-2xx, failed verification, socket errors, timeouts. */
  failed: number;
  /** Responses received, whatever they said: what the server served, for CPU per request. */
  served: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** The first few failures (status and body, or the error), to say what went wrong. */
  failureSamples?: string[];
}

export const graphqlRequest = (baseUrl: string, query: string, variables?: unknown, token?: string): GraphqlRequest => ({
  url: `${baseUrl}/graphql`,
  body: JSON.stringify(variables === undefined ? { query } : { query, variables }),
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
});

/**
 * Closed loop: `connections` keep-alive connections each send the next request as soon as the
 * last one is answered. Latencies are autocannon's per-response times in ms, kept as floats
 * (its own histogram rounds to whole milliseconds).
 */
export function saturate(
  request: GraphqlRequest,
  opts: { connections: number; seconds: number; verify: (body: string) => boolean },
): Promise<LoadResult> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: request.url,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        connections: opts.connections,
        duration: opts.seconds,
        verifyBody: (body) => typeof body === 'string' && opts.verify(body),
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
        const failed = result.non2xx + result.mismatches + result.errors + result.timeouts;
        const ok = Math.max(0, result.requests.total - result.non2xx - result.mismatches);
        latencies.sort((a, b) => a - b);
        resolve({
          ok,
          failed,
          served: result.requests.total,
          seconds,
          perSecond: ok / seconds,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
}

/**
 * Open loop: requests leave on a fixed schedule whatever the server does, so a stalled server
 * shows up as latency instead of as fewer requests. Latency counts from the actual send, so a
 * late timer in this process is not charged to the server. A failed request (wrong answer,
 * socket error, no answer within `timeoutMs`) counts as an infinite latency in p50 and p99, so
 * failures can only make them worse: with more than 1% failed, p99 is Infinity.
 */
export async function paced(
  request: GraphqlRequest,
  opts: { rate: number; seconds: number; verify: (body: string) => boolean; localAddress?: string; timeoutMs?: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, localAddress: opts.localAddress });
  const target = new URL(request.url);
  const total = Math.round(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let served = 0;
  const failureSamples: string[] = [];
  const sample = (text: string) => {
    if (failureSamples.length < 3) failureSamples.push(text.slice(0, 200));
  };
  const inFlight: Array<Promise<void>> = [];

  const one = () =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      let settled = false;
      const settle = (latency: number) => {
        if (settled) return;
        settled = true;
        if (Number.isFinite(latency)) ok++;
        else failed++;
        latencies.push(latency);
        resolve();
      };
      const req = http.request(
        target,
        { method: 'POST', agent, headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            served++;
            const good = res.statusCode === 200 && opts.verify(body);
            if (!good) sample(`${res.statusCode} after ${Math.round(performance.now() - sent)} ms: ${body}`);
            settle(good ? performance.now() - sent : Infinity);
          });
        },
      );
      req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        if (!settled) sample(`${err.message} after ${Math.round(performance.now() - sent)} ms`);
        settle(Infinity);
      });
      req.end(request.body);
    });

  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(one());
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    ok,
    failed,
    served,
    seconds,
    perSecond: ok / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failureSamples,
  };
}
