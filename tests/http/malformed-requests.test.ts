import { startTestApp, type TestApp } from '../support/test-app';
import { sendRaw } from './raw-http';

const QUERY = '{"query":"{ me { id } }"}';
const post = (body: string | Buffer, headers = 'Content-Type: application/json\r\n') =>
  Buffer.concat([
    Buffer.from(`POST /graphql HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`, 'latin1'),
    Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  ]);
const get = (target: string, headers = '') => `GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;

/** [what, bytes, half-close after sending] */
const MALFORMED: Array<[string, string | Buffer, boolean?]> = [
  // Odd request targets
  ['five slashes', get('/////')],
  ['an unclosed IPv6 authority', get('//[')],
  ['an encoded bracket after two slashes', get('//%5B')],
  ['two slashes', get('//')],
  ['a scheme-relative target', get('//evil.example/graphql')],
  ['backslashes', get('/\\\\evil.example/graphql')],
  ['an absolute-form URL', get('http://posture.test/healthz')],
  ['an absolute-form URL with a bad host', get('http://[::1/graphql')],
  ['an absolute-form URL with an empty authority', get('http://:/')],
  ['an absolute-form URL with a port out of range', get('https://user:pass@host:99999/graphql')],
  ['a non-http scheme', get('javascript:alert(1)')],
  ['the asterisk form with OPTIONS', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['the asterisk form with GET', get('*')],
  ['a relative path', get('graphql')],
  ['the authority form', 'CONNECT posture.test:443 HTTP/1.1\r\nHost: posture.test:443\r\n\r\n'],
  ['bad percent-encoding in the path', get('/%ZZ%')],
  ['bad percent-encoding in the query', get('/graphql?query=%E0%A4%A&x=%', 'apollo-require-preflight: 1\r\n')],
  ['an encoded NUL in the path', get('/graphql%00')],
  ['an encoded NUL in the query', get('/graphql?query=%00', 'apollo-require-preflight: 1\r\n')],
  ['a query string of separators', get('/graphql?&&==&?#', 'apollo-require-preflight: 1\r\n')],
  ['a fragment in the target', get('/healthz#frag')],
  ['dot segments', get('/../../etc/passwd')],
  ['a raw NUL in the target', get('/\u0000')],
  ['a raw control character in the target', get('/gr\u0001aphql')],
  ['non-ASCII bytes in the target', Buffer.from('GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1')],
  ['a 100 KB target', get(`/graphql?query=${'a'.repeat(100_000)}`)],
  // Request lines and versions
  ['HTTP/0.9', 'GET /healthz\r\n\r\n'],
  ['HTTP/9.9', 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n'],
  ['HTTP/1.0 without Host', 'GET /healthz HTTP/1.0\r\n\r\n'],
  ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\n\r\n'],
  ['an unknown method', 'BREW /graphql HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['a lower-case method', 'get /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['PUT on /graphql', post(QUERY).toString('latin1').replace(/^POST/, 'PUT')],
  ['DELETE on /graphql', 'DELETE /graphql HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['HEAD on /graphql', 'HEAD /graphql HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['TRACE', 'TRACE /graphql HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['lone LF line ends', 'GET /healthz HTTP/1.1\nHost: x\n\n'],
  ['lone CR line ends', 'GET /healthz HTTP/1.1\rHost: x\r\r'],
  ['a request line of spaces', '     \r\n\r\n'],
  ['binary garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a])],
  // Headers
  ['a header without a colon', get('/healthz', 'NoColonHere\r\n')],
  ['a space before the colon', get('/healthz', 'Accept : */*\r\n')],
  ['a folded header', get('/healthz', 'X-Folded: a\r\n  b\r\n')],
  ['a NUL in a header value', get('/healthz', 'X-Nul: a\u0000b\r\n')],
  ['a 20 KB header', get('/healthz', `X-Big: ${'b'.repeat(20_000)}\r\n`)],
  ['3000 headers', get('/healthz', Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join(''))],
  ['an invalid header name', get('/healthz', 'X(Bad): v\r\n')],
  ['an Authorization header of garbage', get('/graphql?query=%7Bme%7Bid%7D%7D', 'apollo-require-preflight: 1\r\nAuthorization: Bearer \u007f\u00ff..\r\n')],
  ['a forged X-Forwarded-For of garbage', get('/graphql?query=%7Bme%7Bid%7D%7D', 'apollo-require-preflight: 1\r\nX-Forwarded-For: ,,, [, %%%\r\n')],
  ['an Accept of garbage', get('/graphql', 'Accept: text/html;q=abc, */*;;;\r\n')],
  ['Expect: 100-continue without a body', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n'],
  ['an unknown Expect', get('/healthz', 'Expect: teapot\r\n')],
  ['an Upgrade to websocket', get('/graphql', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n')],
  ['an Upgrade to h2c', get('/graphql', 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n')],
  // Bodies and their framing
  ['a negative Content-Length', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n'],
  ['a Content-Length that is not a number', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n'],
  ['a Content-Length in exponent form', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1e3\r\n\r\n'],
  ['two different Content-Lengths', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
  ['a huge Content-Length', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}'],
  ['a body shorter than its Content-Length', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":', true],
  ['a body longer than its Content-Length', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}GARBAGE GARBAGE\r\n\r\n'],
  ['chunked with a chunk size of garbage', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n'],
  ['chunked with a chunk longer than announced', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{"query":"{ me { id } }"}\r\n0\r\n\r\n'],
  ['chunked without the last chunk', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n', true],
  ['chunked with Content-Length too', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'],
  ['an unknown Transfer-Encoding', 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}'],
  ['a gzip Content-Encoding on plain JSON', post(QUERY, 'Content-Type: application/json\r\nContent-Encoding: gzip\r\n')],
  ['a body on GET', 'GET /graphql?query=%7Bme%7Bid%7D%7D HTTP/1.1\r\nHost: x\r\napollo-require-preflight: 1\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{{{{{'],
  ['JSON cut short', post('{"query": "{ me { id } }"')],
  ['JSON null', post('null')],
  ['a JSON string', post('"{ me { id } }"')],
  ['a JSON number', post('42')],
  ['an empty JSON body', post('')],
  ['a batch', post(`[${QUERY},${QUERY}]`)],
  ['a query that is a number', post('{"query": 5}')],
  ['variables that are a string', post('{"query":"{ me { id } }","variables":"x"}')],
  ['extensions that are a string', post('{"query":"{ me { id } }","extensions":"x"}')],
  ['an operationName that is an object', post('{"query":"{ me { id } }","operationName":{}}')],
  ['a persistedQuery extension of garbage', post('{"extensions":{"persistedQuery":"x"}}')],
  ['a persistedQuery of an unknown version', post('{"extensions":{"persistedQuery":{"version":99,"sha256Hash":5}}}')],
  ['JSON nested 20 000 deep', post(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)],
  ['variables nested 10 000 deep', post(`{"query":"mutation ($e: String!) { requestPasswordReset(email: $e) }","variables":{"e":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`)],
  ['a __proto__ key in variables', post('{"query":"mutation ($e: String!) { requestPasswordReset(email: $e) }","variables":{"__proto__":{"e":"x@y.z"}}}')],
  ['invalid UTF-8 in the body', post(Buffer.from([0x7b, 0x22, 0x71, 0x75, 0x65, 0x72, 0x79, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x7d]))],
  ['a raw NUL in the JSON body', post('{"query":"{ me { id } }\u0000"}')],
  ['a NUL escape in the query text', post('{"query":"{ me { id } }\\u0000"}')],
  ['a lone surrogate in the query', post('{"query":"{ me { id \\ud800 } }"}')],
  ['a GraphQL document with a NUL in a string literal', post('{"query":"mutation { requestPasswordReset(email: \\"a\\u0000b\\") }"}')],
  // Content types
  ['no content type', post(QUERY, '')],
  ['text/plain', post(QUERY, 'Content-Type: text/plain\r\n')],
  ['form-urlencoded', post('query=%7Bme%7Bid%7D%7D', 'Content-Type: application/x-www-form-urlencoded\r\n')],
  ['multipart', post('--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n--x--', 'Content-Type: multipart/form-data; boundary=x\r\n')],
  ['application/graphql', post('{ me { id } }', 'Content-Type: application/graphql\r\n')],
  ['a content type of garbage', post(QUERY, 'Content-Type: ;;;/;\r\n')],
  ['an odd charset', post(QUERY, 'Content-Type: application/json; charset=utf-7\r\n')],
  ['two content types', post(QUERY, 'Content-Type: application/json\r\nContent-Type: text/plain\r\n')],
];

describe('malformed requests', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { NODE_ENV: 'development' } });
  });
  afterAll(() => t?.stop());

  it('lists at least 30 of them', () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(30);
  });

  const cases = MALFORMED.map(([what, request, endAfterWrite = false]) => ({ what, request, endAfterWrite }));
  it.each(cases)('answer $what below 500, and the server goes on', async ({ request, endAfterWrite }) => {
    const res = await sendRaw(t.url, request, { endAfterWrite });
    // Every request gets an HTTP answer: ours, or node's parser refusing it (400, 413, 431, …).
    expect(res.status).toBeDefined();
    expect(res.status).toBeLessThan(500);
    expect(res.body).not.toMatch(/INTERNAL_SERVER_ERROR|stacktrace|\.ts:\d/);

    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('still answers GraphQL afterwards', async () => {
    const res = await t.gql('{ me { id } }');
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ me: null });
  });

  it('answers the absolute form by its path', async () => {
    const res = await sendRaw(t.url, get('http://posture.test/healthz'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('answers an origin-form path that matches no route with 404, however many slashes it has', async () => {
    for (const target of ['/////', '//[', '//%5B', '//evil.example/graphql']) {
      const res = await sendRaw(t.url, get(target));
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('NOT_FOUND');
    }
  });

  it('answers a target that is neither a path nor an http URL with 400 BAD_REQUEST', async () => {
    for (const target of ['*', 'http://[::1/graphql', 'http://:/', 'https://user:pass@host:99999/graphql', 'ftp://posture.test/graphql']) {
      const res = await sendRaw(t.url, get(target));
      expect({ target, status: res.status, body: res.body }).toEqual({ target, status: 400, body: expect.stringContaining('"BAD_REQUEST"') });
    }
  });
});
