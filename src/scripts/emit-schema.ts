// `npm run schema` writes schema.graphql from the code; `--check` fails when it is stale.
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { buildAppSchema, printAppSchema } from '../graphql/schema';

async function main() {
  const file = path.resolve(__dirname, '../../../schema.graphql');
  const sdl = printAppSchema(await buildAppSchema());
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== sdl) {
      console.error('schema.graphql is stale: run `npm run schema` and commit it');
      process.exit(1);
    }
    console.log('schema.graphql is up to date');
    return;
  }
  fs.writeFileSync(file, sdl);
  console.log(`wrote ${file}`);
}
void main();
