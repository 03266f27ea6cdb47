/**
 * The login flood, in a worker thread so that its client work does not delay the `me` probe on
 * the bench's main thread. It sends from other loopback addresses than the probe (its sockets
 * are bound with `localAddress`), so Posture sees other clients, as it would see an attacker. Each logIn names an account nobody has (a new one every request, so the
 * per-account limit never binds and the per-IP limit is what stops it); Posture answers
 * INVALID_CREDENTIALS after the same argon2 work as for a real account, or refuses it (429).
 *
 * closed: `connections` connections, each sending its next logIn as soon as the last is answered.
 * open: `rate` logIns a second on a fixed schedule, whatever the server does, round-robin over
 *       the addresses; at most `maxInFlight` at once, and one due beyond that is counted as not sent.
 *
 * Messages in: 'snapshot' (answers FloodCounts so far), 'stop' (stops sending, waits for every
 * answer still due, answers the final FloodCounts).
 */
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { isInvalidCredentials, LOG_IN_MUTATION } from './posture';

export interface FloodSpec {
  url: string;
  mode: 'closed' | 'open';
  addresses: string[];
  connections: number;
  rate: number;
  maxInFlight: number;
  /** Distinguishes the names of one run's accounts from another's. */
  tag: string;
}

export interface FloodCounts {
  /** Requests sent. */
  sent: number;
  /** Answers of any kind. */
  answered: number;
  /** INVALID_CREDENTIALS: admitted, hashed, turned down. */
  admitted: number;
  /** HTTP 429 (rate limit or full hashing queue). */
  refused: number;
  /** Of `refused`, those whose message says the server is busy (a full hashing queue). */
  refusedBusy: number;
  /** Anything else: other statuses or bodies, socket errors, timeouts. */
  other: number;
  /** Open loop: requests due while `maxInFlight` were outstanding, not sent. */
  notSent: number;
  /** Connections opened (the server may close them, after a 429 for instance). */
  connects: number;
  /** A few of the `other` answers, for the report. */
  otherSamples: string[];
  /** ms since the flood started. */
  at: number;
}

const spec = workerData as FloodSpec;
const target = new URL(spec.url);
const port = Number(target.port || 80);
const started = performance.now();
const counts: FloodCounts = {
  sent: 0,
  answered: 0,
  admitted: 0,
  refused: 0,
  refusedBusy: 0,
  other: 0,
  notSent: 0,
  connects: 0,
  otherSamples: [],
  at: 0,
};
let stopping = false;
let inFlight = 0;
let serial = 0;
let idle: (() => void) | undefined;

function other(sample: string) {
  counts.other++;
  if (counts.otherSamples.length < 5) counts.otherSamples.push(sample.slice(0, 300));
}

function classify(status: number, body: string) {
  counts.answered++;
  if (status === 429) {
    counts.refused++;
    if (/busy/i.test(body)) counts.refusedBusy++;
  } else if (status === 200 && isInvalidCredentials(body)) counts.admitted++;
  else other(`${status} ${body}`);
}

/**
 * A minimal HTTP/1.1 keep-alive client connection bound to one local address. Much cheaper per
 * request than node:http, which matters when the attacker shares two cores with the server: the
 * flood should cost the server, not the bench. One request at a time; understands Content-Length
 * and chunked bodies, and `Connection: close`.
 */
class Connection {
  private readonly socket: net.Socket;
  private text = '';
  private pending: (() => void) | undefined;
  dead = false;

  constructor(localAddress: string) {
    counts.connects++;
    this.socket = net.connect({ host: target.hostname, port, localAddress });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(10_000, () => this.fail('no answer within 10 s'));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    this.socket.on('close', () => this.fail('connection closed before the answer'));
  }

  /** Sends one request; resolves once it is answered or has failed (counted either way). */
  send(body: string): Promise<void> {
    if (this.dead) {
      other('connection already closed');
      return Promise.resolve();
    }
    counts.sent++;
    inFlight++;
    return new Promise<void>((resolve) => {
      this.pending = () => {
        this.pending = undefined;
        inFlight--;
        if (inFlight === 0 && idle) idle();
        resolve();
      };
      this.socket.write(
        `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  }

  close() {
    this.dead = true;
    open.delete(this);
    this.socket.destroy();
  }

  private fail(reason: string) {
    this.dead = true;
    open.delete(this);
    this.socket.destroy();
    if (this.pending) {
      other(reason);
      this.pending();
    }
  }

  private onData(chunk: Buffer) {
    this.text += chunk.toString('latin1');
    const headEnd = this.text.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.text.slice(0, headEnd);
    const status = Number(head.slice(9, 12));
    let body: string;
    let rest: string;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (length) {
      const end = headEnd + 4 + Number(length[1]);
      if (this.text.length < end) return;
      body = this.text.slice(headEnd + 4, end);
      rest = this.text.slice(end);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts: string[] = [];
      let at = headEnd + 4;
      for (;;) {
        const lineEnd = this.text.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(this.text.slice(at, lineEnd), 16);
        if (size === 0) {
          if (this.text.length < lineEnd + 4) return;
          rest = this.text.slice(lineEnd + 4);
          break;
        }
        if (this.text.length < lineEnd + 2 + size + 2) return;
        parts.push(this.text.slice(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = parts.join('');
    } else {
      // No length: the body ends with the connection. Not expected from Posture.
      return;
    }
    this.text = rest;
    const pending = this.pending;
    if (!pending) return;
    classify(status, body);
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    pending();
  }
}

function nextBody(): string {
  const n = serial++;
  return JSON.stringify({
    query: LOG_IN_MUTATION,
    variables: { input: { usernameOrEmail: `flood-${spec.tag}-${n}@attacker.test`, password: `guess-${n % 1000}-Xq7` } },
  });
}

/** Live connections, to close at the end. */
const open = new Set<Connection>();
function connect(localAddress: string): Connection {
  const conn = new Connection(localAddress);
  open.add(conn);
  return conn;
}

/** One connection's worth of back-to-back logIns; a connection the server closes is replaced. */
async function closedLoop(localAddress: string) {
  let conn = connect(localAddress);
  while (!stopping) {
    if (conn.dead) conn = connect(localAddress);
    await conn.send(nextBody());
  }
}

/** Idle keep-alive connections per address, reused before a new one is opened. */
function openLoop() {
  const pools = spec.addresses.map(() => [] as Connection[]);
  const interval = 1000 / spec.rate;
  let due = 0;
  let next = 0;
  const fire = (i: number) => {
    const pool = pools[i]!;
    let conn = pool.pop();
    while (conn?.dead) conn = pool.pop();
    conn ??= connect(spec.addresses[i]!);
    const c = conn;
    void c.send(nextBody()).then(() => {
      if (!c.dead && !stopping) pool.push(c);
    });
  };
  const tick = () => {
    if (stopping) return;
    const shouldHaveSent = Math.floor((performance.now() - started) / interval) + 1;
    for (; due < shouldHaveSent; due++) {
      if (inFlight >= spec.maxInFlight) counts.notSent++;
      else fire(next++ % spec.addresses.length);
    }
    setTimeout(tick, Math.max(1, Math.min(5, interval)));
  };
  tick();
}

if (spec.mode === 'closed') {
  for (let i = 0; i < spec.connections; i++) void closedLoop(spec.addresses[i % spec.addresses.length]!);
} else openLoop();

const snapshot = (): FloodCounts => ({ ...counts, otherSamples: [...counts.otherSamples], at: performance.now() - started });

parentPort!.on('message', (message: string) => {
  if (message === 'snapshot') {
    parentPort!.postMessage({ type: 'snapshot', counts: snapshot() });
    return;
  }
  if (message === 'stop') {
    stopping = true;
    const finish = () => {
      idle = undefined;
      for (const conn of open) conn.close();
      parentPort!.postMessage({ type: 'stopped', counts: snapshot() });
    };
    if (inFlight === 0) finish();
    else idle = finish;
  }
});
