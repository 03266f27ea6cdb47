import http from 'node:http';

/** The median of some numbers. */
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Posts GraphQL operations to `baseUrl()` over one kept-alive connection, timing each to the last
 * byte in ms: what the timing tests compare between existing and unknown addresses.
 */
export function timedPoster(baseUrl: () => string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  function call(query: string, variables: Record<string, unknown>): Promise<{ ms: number; body: string }> {
    const payload = JSON.stringify({ query, variables });
    return new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = http.request(
        `${baseUrl()}/graphql`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, body }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
  return { call, close: () => agent.destroy() };
}
