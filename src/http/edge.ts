// The HTTP edge's pieces: reading bodies and targets, the client address, security and CORS headers.
import type http from 'node:http';
import type { Config } from '../config';

/** A request the edge refuses itself, with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return reject(new HttpError(413, `The request body exceeds ${limit} bytes.`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return; // refused: the rest is read and dropped so the 413 can be sent
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        reject(new HttpError(413, `The request body exceeds ${limit} bytes.`));
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (size <= limit) resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'));
    });
    // The client went away mid-body (node's parser answers it, when it still can): not our fault.
    req.on('error', () => reject(new HttpError(400, 'The request body ended early.')));
  });
}

/** The client's address: the socket's, or the one the configured number of trusted proxies saw. */
export function clientIp(req: http.IncomingMessage, trustedHops: number): string {
  let ip = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  if (trustedHops > 0 && typeof forwarded === 'string') {
    const chain = forwarded.split(',').map((s) => s.trim()).filter(Boolean);
    // Each trusted proxy appends the address it saw; anything further left is the client's to forge.
    ip = chain[chain.length - trustedHops] ?? chain[0] ?? ip;
  }
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export const requestError = (message: string, code = 'BAD_REQUEST') => ({ errors: [{ message, extensions: { code } }] });

/** The path and query of a request target; null when it is neither a path nor an absolute http(s) URL. */
export function parseTarget(target: string): { pathname: string; search: string } | null {
  if (target.startsWith('/')) {
    // The origin form, read as it is: `new URL` would take `//x` for a host, and throws on some.
    const end = target.search(/[?#]/);
    const pathname = end < 0 ? target : target.slice(0, end);
    const search = end >= 0 && target[end] === '?' ? target.slice(end).split('#', 1)[0]! : '';
    return { pathname, search };
  }
  try {
    const url = new URL(target); // the absolute form, as proxies send it
    return url.protocol === 'http:' || url.protocol === 'https:' ? { pathname: url.pathname, search: url.search } : null;
  } catch {
    return null;
  }
}

/**
 * Headers every response carries: helmet's defaults, narrowed for an API. JSON needs no sources and
 * no framing; the Sandbox page, the one HTML answer, drops the frame and content policies.
 */
export function securityHeaders(config: Config): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    ...(new URL(config.publicUrl).protocol === 'https:' ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

export const PAGE_ONLY_HEADERS = ['x-frame-options', 'content-security-policy'];

export const CORS_PREFLIGHT = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  // Apollo Client sends its client-awareness headers on every request.
  'access-control-allow-headers':
    'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, apollographql-client-name, apollographql-client-version',
  'access-control-max-age': '600',
};

export function appendVary(res: http.ServerResponse, value: string) {
  const previous = res.getHeader('vary');
  res.setHeader('vary', previous ? `${String(previous)}, ${value}` : value);
}

/** Lets the request's Origin read the answer when CORS_ORIGINS allows it; true when it does. */
export function applyCors(req: http.IncomingMessage, res: http.ServerResponse, origins: '*' | string[]): boolean {
  let allowed: string | undefined;
  if (origins === '*') allowed = '*';
  else if (origins.length > 0) {
    appendVary(res, 'Origin'); // the answer depends on it, for caches in between
    const origin = req.headers.origin;
    if (origin !== undefined && origins.includes(origin)) allowed = origin;
  }
  if (!allowed) return false;
  res.setHeader('access-control-allow-origin', allowed);
  res.setHeader('access-control-expose-headers', 'retry-after, x-request-id');
  return true;
}
