import { AsyncLocalStorage } from 'node:async_hooks';
import { startTestApp } from '../support/test-app';

// On Node 20 the first AsyncLocalStorage.run switches on promise tracking (async hooks) for the
// whole process, for good: about 60 µs more on every `me` after it. MikroORM runs one in every
// flush and em.transactional, so start-up (migrations, seeding, the first administrator) must write
// without them; a server pays it only once it has served a write.
it('starts without running an AsyncLocalStorage', async () => {
  const runs: string[] = [];
  const run = AsyncLocalStorage.prototype.run;
  AsyncLocalStorage.prototype.run = function (this: AsyncLocalStorage<unknown>, ...args: Parameters<typeof run>) {
    runs.push(new Error().stack!.split('\n').slice(2, 5).join(' | '));
    return run.apply(this, args);
  } as typeof run;
  try {
    const t = await startTestApp();
    await t.stop();
  } finally {
    AsyncLocalStorage.prototype.run = run;
  }
  expect(runs).toEqual([]);
});
