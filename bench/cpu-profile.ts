/**
 * Preloaded into each Posture child process when BENCH_PROFILE_DIR is set (NODE_OPTIONS=--require
 * this file; node refuses --cpu-prof there): profiles the process with the inspector from start to
 * exit and writes a .cpuprofile (Chrome DevTools, speedscope) into that directory as it exits.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
delete process.env.BENCH_CPU_PROFILE_DIR;
delete process.env.NODE_OPTIONS; // not the processes Posture starts
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  session.post('Profiler.start');
  // A session on this thread answers synchronously, so this works in an exit handler.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `posture-${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
