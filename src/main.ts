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
  app.logger.info(`Posture is listening on port ${config.port}: GraphQL at ${config.publicUrl}/graphql`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1); // a second signal: stop now
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
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
