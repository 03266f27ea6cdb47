import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`, 100 nearly everywhere). */
export const CLK_TCK: number = (() => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    // What remains starts with field 3 (state), so field n is at index n - 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Live child processes of `pid`, from every /proc/<pid>/stat whose parent (field 4) is it. */
function childrenOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/**
 * CPU time a process and all its descendants have used so far, in microseconds; NaN where /proc
 * cannot tell (not Linux, process gone). For each process: utime + stime (fields 14 and 15: all
 * its threads, so libuv's pool and worker threads are in) + cutime + cstime (16 and 17: children
 * it has waited for), plus the same for its live children, so a server that hashes in a child
 * process is charged for it. Resolution is one clock tick (10 ms at CLK_TCK=100), so windows
 * should run for seconds.
 */
export function processCpuMicros(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return NaN;
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const child of childrenOf(pid)) {
    const micros = processCpuMicros(child);
    if (!Number.isNaN(micros)) ticks += (micros * CLK_TCK) / 1e6;
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** CPU time of the process alone (all its threads, none of its children), in microseconds; NaN where /proc cannot tell. */
export function ownCpuMicros(pid: number): number {
  const fields = statFields(pid);
  return fields ? ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK : NaN;
}

/** Server CPU over a measured window: call `stop()` after it with the requests it served. */
export function cpuWindow(pid: number): { stop(requests: number): CpuUse } {
  const cpu0 = processCpuMicros(pid);
  const t0 = performance.now();
  return {
    stop(requests: number): CpuUse {
      const micros = processCpuMicros(pid) - cpu0;
      const seconds = (performance.now() - t0) / 1000;
      return { micros, seconds, requests, perRequest: requests > 0 ? micros / requests : NaN, cores: micros / 1e6 / seconds };
    },
  };
}

export interface CpuUse {
  /** CPU microseconds the process used in the window. */
  micros: number;
  /** Wall-clock seconds of the window. */
  seconds: number;
  /** Requests (or operations) it served in the window. */
  requests: number;
  /** micros / requests. */
  perRequest: number;
  /** Average number of cores it kept busy (CPU seconds / wall seconds). */
  cores: number;
}

/** The whole machine's CPU time so far, from the first line of /proc/stat, in ticks; undefined where there is none. */
function machineTicks(): { busy: number; idle: number } | undefined {
  try {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number) as number[];
    return { busy: user! + nice! + system! + irq! + softirq! + steal!, idle: idle! + iowait! };
  } catch {
    return undefined;
  }
}

/** Cores the whole machine kept busy and left idle over a window (everything: servers, load, database, kernel). */
export interface MachineUse {
  busyCores: number;
  idleCores: number;
}

/** Machine-wide CPU over a window: call `stop()` after it. */
export function machineWindow(): { stop(): MachineUse | undefined } {
  const t0 = performance.now();
  const m0 = machineTicks();
  return {
    stop() {
      const m1 = machineTicks();
      if (!m0 || !m1) return undefined;
      const seconds = (performance.now() - t0) / 1000;
      return { busyCores: (m1.busy - m0.busy) / CLK_TCK / seconds, idleCores: (m1.idle - m0.idle) / CLK_TCK / seconds };
    },
  };
}

/** Server CPU and, on a local PostgreSQL, the database backends' CPU over one measured window. */
export interface WindowCpu {
  server: CpuUse;
  /** The server process alone, without its child processes (Posture's hashing process): µs per request. */
  ownPerRequest?: number;
  /** PostgreSQL backends of the bench database; undefined with PGlite or a remote server. */
  db?: CpuUse;
  /** The whole machine (where /proc/stat tells). */
  machine?: MachineUse;
}

export async function startWindow(
  pid: number,
  backendCpu?: () => Promise<Map<number, number> | undefined>,
): Promise<{ stop(requests: number): Promise<WindowCpu> }> {
  const db0 = await backendCpu?.();
  const dbT0 = performance.now();
  const server = cpuWindow(pid);
  const own0 = ownCpuMicros(pid);
  const machineUse = machineWindow();
  return {
    async stop(requests: number): Promise<WindowCpu> {
      const serverUse = server.stop(requests);
      const ownPerRequest = requests > 0 ? (ownCpuMicros(pid) - own0) / requests : NaN;
      const machine = machineUse.stop();
      const db1 = db0 ? await backendCpu?.() : undefined;
      if (!db0 || !db1) return { server: serverUse, ownPerRequest, machine };
      // A backend that opened during the window started from 0; one that closed is lost (rare: pools keep theirs).
      let micros = 0;
      for (const [pid, after] of db1) micros += after - (db0.get(pid) ?? 0);
      const seconds = (performance.now() - dbT0) / 1000;
      return {
        server: serverUse,
        ownPerRequest,
        machine,
        db: { micros, seconds, requests, perRequest: requests > 0 ? micros / requests : NaN, cores: micros / 1e6 / seconds },
      };
    },
  };
}
