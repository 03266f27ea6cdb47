import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';

/**
 * Which cores the servers and the load generator (this process) get. With 4 or more cores and
 * taskset, the servers (Posture, the baseline, the raw argon2 loop) get the first half and this
 * process the second, so a load generator never steals the CPU it is measuring. With fewer, or
 * without taskset, nothing is pinned and CPU per request is the figure to trust.
 */
export interface Pinning {
  enabled: boolean;
  /** taskset core list of the servers, e.g. "0-1"; undefined when not pinned. */
  serverCores?: string;
  /** taskset core list of the bench process (load generator, flood worker, `me` probe). */
  loadCores?: string;
  /** One line for the report. */
  summary: string;
}

const hasTaskset = () => spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/**
 * Decides, and pins this process (all its threads; workers started later inherit it). `on`
 * pins whatever the core count (on 2 cores: servers on core 0, load generator on core 1).
 */
export function setUpPinning(mode: 'auto' | 'on' | 'off'): Pinning {
  const cores = os.availableParallelism();
  if (mode === 'off') return { enabled: false, summary: `not pinned (BENCH_PIN=off); ${cores} cores shared, rely on CPU per request` };
  if (cores < 2) return { enabled: false, summary: 'not pinned: 1 core' };
  if (cores < 4 && mode === 'auto') {
    return {
      enabled: false,
      summary: `not pinned: ${cores} cores (pinning needs 4 or more), so the servers, the load generator and the database share them; rely on CPU per request`,
    };
  }
  if (!hasTaskset()) return { enabled: false, summary: `not pinned: taskset is not installed; ${cores} cores shared, rely on CPU per request` };
  const half = Math.ceil(cores / 2);
  const serverCores = half === 1 ? '0' : `0-${half - 1}`;
  const loadCores = half === cores - 1 ? String(half) : `${half}-${cores - 1}`;
  execFileSync('taskset', ['-a', '-p', '-c', loadCores, String(process.pid)], { stdio: 'ignore' });
  return {
    enabled: true,
    serverCores,
    loadCores,
    summary:
      `pinned with taskset: servers on cores ${serverCores}, load generator on cores ${loadCores} (the database server is not pinned)` +
      (cores < 4 ? `; forced by BENCH_PIN=on on ${cores} cores` : ''),
  };
}

/** The command that runs `node args…`, under taskset when the servers are pinned. */
export function serverCommand(pinning: Pinning, nodeArgs: string[]): { command: string; args: string[] } {
  return pinning.enabled
    ? { command: 'taskset', args: ['-c', pinning.serverCores!, process.execPath, ...nodeArgs] }
    : { command: process.execPath, args: nodeArgs };
}
