import fs from 'node:fs';
import path from 'node:path';
import { buildAppSchema, printAppSchema } from '../../src/graphql/schema';

it('schema.graphql is what the code emits (run `npm run schema` after changing the API)', async () => {
  const committed = fs.readFileSync(path.join(__dirname, '../../schema.graphql'), 'utf8');
  expect(printAppSchema(await buildAppSchema())).toBe(committed);
});
