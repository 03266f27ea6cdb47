import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until `check` passes (it throws until then) and returns its result; past `timeout` ms, its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeout = 20_000, interval = 50): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(interval);
    }
  }
}
