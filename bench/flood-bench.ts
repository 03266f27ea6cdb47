import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildServer } from './child-server';
import type { BenchContext } from './context';
import { startWindow, type WindowCpu } from './cpu';
import { attackerAddresses, floodDelta, startFlood } from './flood';
import type { FloodCounts, FloodSpec } from './flood-worker';
import { graphqlRequest, paced, type LoadResult } from './load';
import { isMe, logIn, ME_QUERY } from './posture';
import { fixed, medianOf, runRows, table, times } from './report';

/** Seconds the flood runs before the probe starts, so the probe meets it at full strength. */
const FLOOD_LEAD_SECONDS = 1;

export interface FloodWindow {
  me: LoadResult;
  cpu: WindowCpu;
  /** The flood's counts within the probe's window (absent for `me` alone). */
  flood?: FloodCounts;
  /** The flood's counts from start to drained. */
  floodTotal?: FloodCounts;
  /** Seconds from stopping the flood until its last answer. */
  drainSeconds?: number;
  addresses?: string[];
}

export interface FloodRound {
  alone: FloodWindow;
  closed: FloodWindow;
  open: FloodWindow;
}

export interface FloodFigure {
  /** Headline: `me` p99 under the closed-loop flood / alone. */
  p99Ratio: number;
  p50Ratio: number;
  /** `me` p99 under the open-loop flood / alone. */
  openP99Ratio: number;
  openP50Ratio: number;
  /** Medians of server CPU µs per request (all requests served in the window: `me` and flood). */
  cpuMicros: { alone: number; closed: number; open: number };
  meFailures: number;
  floodOther: number;
  rounds: FloodRound[];
}

/**
 * 3. `me` latency from 127.0.0.1 alone (A), under a closed-loop login flood (B) and under an
 * open-loop one (C), from other loopback addresses, on one Posture at its defaults, rate limits
 * included. A B C alternate in every round.
 */
export async function benchFlood(ctx: BenchContext, posture: ChildServer): Promise<FloodFigure> {
  const { options: o, log } = ctx;
  const hashing =
    o.hashConcurrency === undefined && o.hashQueueLimit === undefined
      ? 'Posture at its defaults: rate limits as shipped (logIn.ip 10/min, logIn.account 5/min), HASH_CONCURRENCY and HASH_QUEUE_LIMIT unset'
      : `Posture with default rate limits, but HASH_CONCURRENCY=${o.hashConcurrency ?? '(default)'} HASH_QUEUE_LIMIT=${o.hashQueueLimit ?? '(default)'} (set by BENCH_HASH_*)`;
  log(`3. \`me\` latency under a login flood: ${hashing}.`);
  log(`   The \`me\` probe sends from 127.0.0.1 at ${o.meRate} req/s (open loop) for ${o.floodSeconds} s per run; A B C alternate, the order rotating every round.`);
  log('   A = `me` alone');
  log(`   B = \`me\` while a closed-loop flood runs: ${o.floodConnections} connections send logIns back to back from ${o.floodAddresses} other loopback addresses`);
  log(`   C = \`me\` while an open-loop flood runs: ${o.floodRate} logIns/s on a fixed schedule (at most ${o.floodMaxInFlight} in flight), from ${o.floodAddresses} other addresses`);
  log('   Each flood run uses addresses not used before (127.0.0.2 and up), so every run starts from fresh per-IP counters: the attacker');
  log('   gets its default allowance, then is refused. Each logIn names a new, unknown account (so the per-IP limit, not the per-account');
  log(`   one, is what binds); admitted ones cost the same argon2 work as a real account. The probe starts ${FLOOD_LEAD_SECONDS} s after the flood, and`);
  log('   after each flood run the bench waits for every flood request to be answered, so the next run starts with an empty hashing queue.');
  log('   Headline: closed loop (B), as in earlier versions of this bench: its connections are fixed, so its p99 repeats from run to');
  log('   run. The open loop (C) does not back off when the server stalls: requests pile up, each on a new connection up to the cap');
  log("   (see 'conns'), so a short stall grows and its p99 swings more between runs. Both are printed and kept in results.json.");

  const token = await logIn(posture.url, ctx.credentials);
  const me = graphqlRequest(posture.url, ME_QUERY, undefined, token);
  const loginUrl = `${posture.url}/graphql`;
  const probe = () => paced(me, { rate: o.meRate, seconds: o.floodSeconds, verify: isMe, localAddress: '127.0.0.1' });
  const addresses = attackerAddresses();
  let tag = 0;
  const spec = (mode: FloodSpec['mode']): FloodSpec => ({
    url: loginUrl,
    mode,
    addresses: addresses(o.floodAddresses),
    connections: o.floodConnections,
    rate: o.floodRate,
    maxInFlight: o.floodMaxInFlight,
    tag: `${process.pid}-${tag++}`,
  });

  const alone = async (): Promise<FloodWindow> => {
    const window = await startWindow(posture.pid, ctx.db.backendCpu);
    const result = await probe();
    return { me: result, cpu: await window.stop(result.served) };
  };
  const flooded = async (mode: FloodSpec['mode']): Promise<FloodWindow> => {
    const s = spec(mode);
    const flood = startFlood(s);
    try {
      await sleep(FLOOD_LEAD_SECONDS * 1000);
      const before = await flood.snapshot();
      const window = await startWindow(posture.pid, ctx.db.backendCpu);
      const result = await probe();
      const after = await flood.snapshot();
      const counts = floodDelta(before, after);
      const cpu = await window.stop(result.served + counts.answered);
      const stopAt = performance.now();
      const total = await flood.stop();
      return { me: result, cpu, flood: counts, floodTotal: total, drainSeconds: (performance.now() - stopAt) / 1000, addresses: s.addresses };
    } catch (err) {
      await flood.stop().catch(() => undefined);
      throw err;
    }
  };

  // Warm-up: the `me` path, and the logIn and refusal paths (from addresses no run uses).
  await paced(me, { rate: o.meRate, seconds: Math.max(1, o.warmupSeconds), verify: isMe, localAddress: '127.0.0.1' });
  if (o.warmupSeconds > 0) {
    const warm = startFlood(spec('closed'));
    await sleep(o.warmupSeconds * 1000);
    await warm.stop();
  }

  const rounds: FloodRound[] = [];
  // A B C, then B C A, then C A B …: each run takes each place in turn, so a drift in the
  // machine's load over the run does not favour one.
  for (let i = 0; i < o.rounds; i++) {
    const windows: Partial<Record<'A' | 'B' | 'C', FloodWindow>> = {};
    const steps: Array<['A' | 'B' | 'C', () => Promise<FloodWindow>]> = [
      ['A', alone],
      ['B', () => flooded('closed')],
      ['C', () => flooded('open')],
    ];
    const order = steps.map((_, k) => steps[(k + i) % steps.length]!);
    for (const [name, step] of order) windows[name] = await step();
    const [a, b, c] = [windows.A!, windows.B!, windows.C!];
    rounds.push({ alone: a, closed: b, open: c });
    log(
      `   round ${i + 1}/${o.rounds} (${order.map(([name]) => name).join(' ')}): \`me\` p99 A ${fixed(a.me.p99, 2)} ms, B ${fixed(b.me.p99, 2)} ms, C ${fixed(c.me.p99, 2)} ms; ` +
        `flood answered B ${fixed(b.flood!.answered / b.me.seconds, 0)}/s, C ${fixed(c.flood!.answered / c.me.seconds, 0)}/s`,
    );
  }

  const meFailures = rounds.reduce((n, r) => n + r.alone.me.failed + r.closed.me.failed + r.open.me.failed, 0);
  const floodOther = rounds.reduce((n, r) => n + r.closed.floodTotal!.other + r.open.floodTotal!.other, 0);
  if (meFailures) {
    const samples = rounds.flatMap((r) => [r.alone, r.closed, r.open].flatMap((w) => w.me.failureSamples ?? [])).slice(0, 3);
    log(`   FAILED \`me\` requests: ${meFailures} (counted as infinite latency), e.g.: ${samples.join(' | ')}`);
  } else log('   Every `me` request succeeded.');
  if (floodOther) {
    const samples = rounds.flatMap((r) => [...r.closed.floodTotal!.otherSamples, ...r.open.floodTotal!.otherSamples]).slice(0, 3);
    log(`   ${floodOther} flood requests got neither INVALID_CREDENTIALS nor 429, e.g.: ${samples.join(' | ')}`);
  }

  const latencyColumns = (name: string, pick: (r: FloodRound) => FloodWindow): Array<[string, (r: FloodRound) => number, number]> => [
    ...(meFailures ? ([[`${name} ok %`, (r) => (100 * pick(r).me.ok) / (pick(r).me.ok + pick(r).me.failed), 1]] as Array<[string, (r: FloodRound) => number, number]>) : []),
    [`${name} p50 ms`, (r) => pick(r).me.p50, 2],
    [`${name} p99 ms`, (r) => pick(r).me.p99, 2],
    [`${name} CPU µs/req`, (r) => pick(r).cpu.server.perRequest, 0],
    [`${name} cores`, (r) => pick(r).cpu.server.cores, 2],
  ];
  const A = (r: FloodRound) => r.alone;
  const B = (r: FloodRound) => r.closed;
  const C = (r: FloodRound) => r.open;
  const latency = [...latencyColumns('A', A), ...latencyColumns('B', B), ...latencyColumns('C', C)];
  log(table(['run', ...latency.map((c) => c[0])], runRows(rounds, latency.map((c) => c[1]), latency.map((c) => c[2]))));
  const floodColumns = (name: string, pick: (r: FloodRound) => FloodWindow): Array<[string, (r: FloodRound) => number, number]> => {
    const per = (r: FloodRound, n: (c: FloodCounts) => number) => n(pick(r).flood!) / pick(r).me.seconds;
    return [
      [`${name} sent/s`, (r) => per(r, (c) => c.sent), 0],
      [`${name} refused/s`, (r) => per(r, (c) => c.refused), 0],
      [`${name} admitted`, (r) => pick(r).floodTotal!.admitted, 0],
      [`${name} busy`, (r) => pick(r).floodTotal!.refusedBusy, 0],
      [`${name} other`, (r) => pick(r).floodTotal!.other, 0],
      [`${name} conns`, (r) => pick(r).floodTotal!.connects, 0],
      [`${name} drain s`, (r) => pick(r).drainSeconds!, 1],
    ];
  };
  const floodCols = [
    ...floodColumns('B', B),
    ...floodColumns('C', C),
    ['C not sent', (r: FloodRound) => r.open.floodTotal!.notSent, 0] as [string, (r: FloodRound) => number, number],
  ];
  log("   The floods (per second: within the probe's window; admitted (hashed), busy (refused by a full hashing queue), other,");
  log('   conns (connections opened): whole run):');
  log(table(['run', ...floodCols.map((c) => c[0])], runRows(rounds, floodCols.map((c) => c[1]), floodCols.map((c) => c[2]))));

  const ratio = (flood: (r: FloodRound) => FloodWindow, pick: (l: LoadResult) => number) =>
    medianOf(rounds, (r) => pick(flood(r).me)) / medianOf(rounds, (r) => pick(r.alone.me));
  const figure: FloodFigure = {
    p99Ratio: ratio(B, (l) => l.p99),
    p50Ratio: ratio(B, (l) => l.p50),
    openP99Ratio: ratio(C, (l) => l.p99),
    openP50Ratio: ratio(C, (l) => l.p50),
    cpuMicros: {
      alone: medianOf(rounds, (r) => r.alone.cpu.server.perRequest),
      closed: medianOf(rounds, (r) => r.closed.cpu.server.perRequest),
      open: medianOf(rounds, (r) => r.open.cpu.server.perRequest),
    },
    meFailures,
    floodOther,
    rounds,
  };
  log(
    `   => \`me\` p99 during flood / alone: closed loop (headline) ${times(figure.p99Ratio)} (p50 ${times(figure.p50Ratio)}); ` +
      `open loop at ${o.floodRate}/s ${times(figure.openP99Ratio)} (p50 ${times(figure.openP50Ratio)})`,
  );
  log();
  return figure;
}
