import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAIN = path.join(__dirname, '../../src/main.ts');

/**
 * The child's program: src/main.ts, compiled file by file as it is required, by @swc/core with the
 * test runner's own options (jest.config.js). Nothing is built into dist/, which `npm start` and
 * its test use.
 */
function childProgram(): string {
  const { transform } = require('../../jest.config.js') as { transform: Record<string, [string, object]> };
  const [, swcOptions] = Object.values(transform)[0]!;
  return `
const swc = require(${JSON.stringify(require.resolve('@swc/core'))});
const options = ${JSON.stringify(swcOptions)};
require.extensions['.ts'] = (module, filename) => module._compile(swc.transformFileSync(filename, options).code, filename);
require(${JSON.stringify(MAIN)});
`;
}

/** A Posture server running in a process of its own, as `npm start` runs it. */
export interface Instance {
  url: string;
  /** What it has logged so far (at level info), for a failing test to show. */
  output(): string;
  /** SIGKILL, as when its host dies: no shutdown, nothing released or finished. */
  kill(): Promise<void>;
  /** SIGTERM, as an orchestrator stops it; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts src/main.ts in a child process with exactly `env` (and PATH), in a directory of its own
 * (its working directory and DATA_DIR), on a free port, logging at level info; resolves once
 * /readyz answers 200.
 */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posture-instance-'));
  const child = spawn(process.execPath, ['-e', childProgram()], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => fs.rmSync(dir, { recursive: true, force: true }));

  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    return exited;
  };
  const instance: Instance = {
    url: '',
    output: () => output,
    async kill() {
      await signal('SIGKILL');
    },
    stop: () => signal('SIGTERM'),
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the instance exited with ${child.exitCode}:\n${output}`);
    const port = /"port":(\d+),"msg":"Posture is listening/.exec(output)?.[1];
    if (port) {
      instance.url = `http://127.0.0.1:${port}`;
      if (await fetch(`${instance.url}/readyz`).then((r) => r.ok, () => false)) return instance;
    }
    if (Date.now() > deadline) {
      await instance.kill();
      throw new Error(`the instance did not become ready within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
