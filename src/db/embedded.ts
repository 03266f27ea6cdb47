import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../logger';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One process per data directory: a second PGlite on the same files would corrupt them. */
function lockDataDir(dir: string): () => void {
  const lock = path.join(dir, 'posture.pid');
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch {
    const owner = Number(fs.readFileSync(lock, 'utf8'));
    if (owner && owner !== process.pid && isRunning(owner)) {
      throw new Error(`${dir} is in use by process ${owner}; stop it or set another DATA_DIR`);
    }
    fs.writeFileSync(lock, String(process.pid));
  }
  return () => fs.rmSync(lock, { force: true });
}

/**
 * PostgreSQL without a server: PGlite keeps its files in `dataDir` (or memory for `memory://`)
 * and pglite-socket serves it on a loopback port, so the ordinary driver connects to it. PGlite is
 * a single session: connect with one connection.
 */
export async function startEmbeddedDatabase(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const inMemory = dataDir === 'memory://';
  let unlock = () => {};
  if (!inMemory) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    unlock = lockDataDir(dataDir);
  }
  try {
    const db = await PGlite.create(inMemory ? undefined : path.join(dataDir, 'pgdata'));
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
    await server.start();
    const url = `postgresql://postgres@${server.getServerConn()}/postgres`;
    logger.info({ dataDir: inMemory ? 'memory' : dataDir }, 'embedded PostgreSQL (PGlite) started');
    return {
      url,
      async stop() {
        await server.stop();
        await db.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}
