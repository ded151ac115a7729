/**
 * For operators who use knex's own CLI (`npx knex migrate:status`). Sleutel itself migrates at
 * start and with `sleutel migrate`; both use the same migration source, which records names
 * without their extension so `.ts` sources and built `.js` files agree.
 */
import { MigrationSource } from './src/stores/database.js';

export default {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { migrationSource: new MigrationSource() },
};
