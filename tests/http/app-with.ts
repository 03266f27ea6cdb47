import { sharedPerFile, startTestApp, type TestApp } from '../support/test-app';

/**
 * Apps of one file on one database and inbox: each describe block's app, with its env, started
 * before its tests and stopped after them. (The same as tests/graphql/limits.test.ts's helper.)
 */
export function appsOfFile() {
  const shared = sharedPerFile();
  return function appWith(env: () => Promise<Record<string, string>> | Record<string, string>): () => TestApp {
    let t: TestApp | undefined;
    beforeAll(async () => {
      t = await startTestApp({ ...shared, env: await env() });
    });
    afterAll(() => t?.stop());
    return () => t!;
  };
}
