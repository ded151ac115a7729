/**
 * For operators who use knex's own CLI (`npx knex migrate:status`). Sleutel itself migrates at
 * start and with `sleutel migrate`, through src/stores/database.ts, which this mirrors.
 */
import path from 'node:path';

export default {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: path.resolve('migrations'), loadExtensions: ['.ts', '.js'] },
};
