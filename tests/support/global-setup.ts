import { startEmbeddedDatabase } from '../../src/db/embedded';
import { createLogger } from '../../src/logger';

/**
 * Without DATABASE_URL, one in-memory PGlite for the run, which the test files take turns on.
 * (MikroORM is not loaded here: it keeps metadata on globalThis, which must not leak into the
 * test realm. The first app started on a database migrates it, as in production.)
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const db = await startEmbeddedDatabase('memory://', createLogger('warn'));
  process.env.POSTURE_TEST_EMBEDDED_URL = db.url;
  (globalThis as Record<string, unknown>).__postureEmbedded = db;
}
