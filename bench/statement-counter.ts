/**
 * Preloaded into a Posture child process for figure 5 (NODE_OPTIONS=--require this file): counts
 * every statement Posture sends to PostgreSQL, and answers the count on a port of its own.
 *
 * Every statement Posture runs goes through `pg.Client.prototype.query`: MikroORM's (knex's)
 * connections and the prepared-statement pool alike, each call one statement on the wire (a
 * named or unnamed extended-protocol query, or a simple query; Posture sends no multi-statement
 * strings on these paths). Both copies of pg in node_modules are patched (MikroORM carries its own).
 * The patch only counts and remembers the statement's text, then calls the original. Statements
 * whose text starts `/* background *\/` run on a timer, not for a request, and are not counted.
 *
 * GET /statements?from=N → {"count": total so far, "statements": [texts of statement N and later]}.
 */
import http from 'node:http';
import path from 'node:path';

interface Counted {
  prototype: { query: (...args: unknown[]) => unknown; __benchCounted?: boolean };
}

let count = 0;
const KEEP = 2000;
const recent: string[] = [];

function textOf(config: unknown): string {
  if (typeof config === 'string') return config;
  if (config && typeof config === 'object') {
    const { name, text } = config as { name?: string; text?: string };
    return `${name ? `[${name}] ` : ''}${text ?? '(a submittable)'}`;
  }
  return String(config);
}

function patch(file: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require(file) as { Client: Counted };
  const proto = Client.prototype;
  if (proto.__benchCounted) return;
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    // Timers' statements (the tier-limits poll, marked in its text) are nobody's request: not counted.
    const config = args[0] as { text?: unknown } | string | null;
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text === 'string' && text.startsWith('/* background */')) return original.apply(this, args);
    count++;
    recent.push(textOf(args[0]).replace(/\s+/g, ' ').slice(0, 160));
    if (recent.length > KEEP) recent.splice(0, recent.length - KEEP);
    return original.apply(this, args);
  };
  proto.__benchCounted = true;
}

const copies = new Set<string>();
for (const from of [__dirname, '@mikro-orm/postgresql/package.json', 'knex/package.json']) {
  try {
    const base = from === __dirname ? from : path.dirname(require.resolve(from));
    copies.add(require.resolve('pg', { paths: [base] }));
  } catch {
    // not installed there
  }
}
for (const file of copies) patch(file);

// Only this process counts aloud: a process Posture starts (its hashing child) gets neither variable.
const port = Number(process.env.BENCH_STATEMENT_COUNTER_PORT);
delete process.env.BENCH_STATEMENT_COUNTER_PORT;
delete process.env.NODE_OPTIONS;
if (port) {
  const server = http.createServer((req, res) => {
    const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('from') ?? count);
    const firstKept = count - recent.length;
    const statements = recent.slice(Math.max(0, from - firstKept));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ count, statements, copies: [...copies] }));
  });
  server.on('error', (err) => console.error(`statement counter: ${err.message}`));
  server.listen(port, '127.0.0.1');
  server.unref();
}
