import net from 'node:net';

export interface RawResponse {
  /** The status of the first response, or undefined when the connection ended without one. */
  status?: number;
  head: string;
  body: string;
  /** The server closed the connection (rather than the client, once the response was complete). */
  closedByServer: boolean;
}

/** Where a response that starts at 0 ends in `data`, or -1 while it is incomplete. */
function responseEnd(data: Buffer, isHead: boolean): number {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return -1;
  const head = data.subarray(0, headEnd).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
  const bodyStart = headEnd + 4;
  // 1xx answers (100 Continue) are followed by the real one.
  if (status >= 100 && status < 200) {
    const rest = responseEnd(data.subarray(bodyStart), isHead);
    return rest < 0 ? -1 : bodyStart + rest;
  }
  if (isHead || status === 204 || status === 304) return bodyStart;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length) return data.length >= bodyStart + Number(length[1]) ? bodyStart + Number(length[1]) : -1;
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const end = data.indexOf('\r\n0\r\n\r\n', headEnd);
    return end < 0 ? -1 : end + 7;
  }
  return -1; // delimited by the close
}

/** The payload of a chunked body. */
function dechunk(raw: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = lineEnd < 0 ? 0 : parseInt(raw.slice(at, lineEnd), 16);
    if (!size) return out;
    out += raw.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * Sends bytes on a fresh connection and reads the first response. `endAfterWrite` half-closes the
 * connection after the bytes (for requests that promise more body than they send).
 */
export function sendRaw(url: string, request: string | Buffer, options: { endAfterWrite?: boolean; timeoutMs?: number } = {}) {
  const { hostname, port } = new URL(url);
  const isHead = /^HEAD /.test(request.toString('latin1'));
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      const head = headEnd < 0 ? text : text.slice(0, headEnd);
      const statuses = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1])).filter((s) => s >= 200);
      const raw = headEnd < 0 ? '' : text.slice(headEnd + 4);
      const body = /\r\ntransfer-encoding: *chunked/i.test(head) ? dechunk(raw) : raw;
      resolve({ status: statuses[0], head, body: Buffer.from(body, 'latin1').toString('utf8'), closedByServer });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      reject(new Error(`no complete response within ${options.timeoutMs ?? 5000} ms; got: ${JSON.stringify(data.toString('latin1').slice(0, 300))}`));
    }, options.timeoutMs ?? 5000);
    socket.on('connect', () => {
      socket.write(request);
      if (options.endAfterWrite) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (responseEnd(data, isHead) >= 0) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/** A header's value in a raw response head, lower-cased name. */
export const headerOf = (head: string, name: string) =>
  new RegExp(`\\r\\n${name}: *([^\\r\\n]*)`, 'i').exec(head)?.[1];
