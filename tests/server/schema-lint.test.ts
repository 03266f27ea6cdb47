import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Apollo Sandbox shows the schema's descriptions and nothing else, so schema.graphql is linted with
// graphql-schema-linter's default rules (all of its built-in ones, configured in .graphql-schema-linterrc).
const root = path.join(__dirname, '../..');
const linter = path.dirname(require.resolve('graphql-schema-linter/package.json'));

it('the linter runs every built-in rule', () => {
  const builtIn = fs.readdirSync(path.join(linter, 'lib/rules')).map((file) => path.basename(file, '.js').replaceAll('_', '-'));
  const { rules } = JSON.parse(fs.readFileSync(path.join(root, '.graphql-schema-linterrc'), 'utf8')) as { rules: string[] };
  expect([...rules].sort()).toEqual(builtIn.sort());
});

it('schema.graphql passes graphql-schema-linter (`npm run lint:schema`)', () => {
  const run = spawnSync(process.execPath, [path.join(linter, 'lib/cli.js'), '--format', 'compact'], {
    cwd: root,
    encoding: 'utf8',
  });
  // On failure the diff lists each problem as file:line:column, message and rule.
  expect({ status: run.status, problems: `${run.stdout}${run.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
});
