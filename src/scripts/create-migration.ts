// Writes a migration for the difference between the entities and a database whose schema is
// at the latest migration: `DATABASE_URL=… npm run migration:create`. Move it to the module it
// belongs to and list it in that module's `migrations` (or, for the foundation, in migrations/index.ts).
import { MikroORM } from '@mikro-orm/postgresql';
import config from '../../mikro-orm.config';

async function main() {
  const orm = await MikroORM.init(config);
  try {
    await orm.getMigrator().up();
    const result = await orm.getMigrator().createMigration(process.cwd() + '/src/db/migrations', false, false);
    console.log(result.fileName ? `wrote ${result.fileName}` : 'no changes');
  } finally {
    await orm.close();
  }
}
void main();
