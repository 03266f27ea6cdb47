// For the MikroORM CLI and `npm run migration:create`; the server builds its options in src/db/orm.ts.
import { ormOptions } from './src/db/orm';

export default ormOptions(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/posture');
