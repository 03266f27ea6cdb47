import type { EmbeddedDatabase } from '../../src/db/embedded';

export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as Record<string, unknown>).__postureEmbedded as EmbeddedDatabase | undefined;
  if (embedded) await embedded.stop();
}
