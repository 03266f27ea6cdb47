import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261122105750 } from './Migration20261122105750';

// Explicit list: migrations are compiled into dist, never discovered by globbing at run time.
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261122105750', class: Migration20261122105750 },
];
