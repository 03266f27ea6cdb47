import 'reflect-metadata';
import fs from 'node:fs';
import { startApp } from './app';
import { ConfigError, loadConfig } from './config';

async function main() {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const app = await startApp(config);
  const port = new URL(app.url).port; // the bound port, also when PORT=0 asked for any free one
  app.logger.info({ port: Number(port) }, `Posture is listening on port ${port}: GraphQL at ${config.publicUrl}/graphql`);

  let stopping = false;
  const shutdown = (signal: string) => {
    // Under npm a Ctrl-C arrives twice (sent to the process group, and forwarded by npm): ignore repeats.
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000).unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  console.error('Posture failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
