import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexPkg, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';

const { knex } = knexPkg;

export type Database = Knex;

/** migrations/ sits at the package root, beside src/ (sources) and dist/ (build). */
const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * Postgres when a URL is given; otherwise PGlite (real Postgres compiled to WASM) under
 * `dataDir/pg` — or in memory when `dataDir` is undefined (tests). The same migrations run on both.
 */
export function openDatabase(options: { url?: string; dataDir?: string; poolMax?: number }): Database {
  if (options.url) {
    return knex({ client: 'pg', connection: options.url, pool: { min: 0, max: options.poolMax ?? 10 } });
  }
  let connection: object = {};
  if (options.dataDir) {
    const dir = path.join(options.dataDir, 'pg');
    fs.mkdirSync(dir, { recursive: true });
    connection = { filename: dir };
  }
  return knex({ client: ClientPgLite as unknown as typeof knexPkg.Client, dialect: 'postgres', connection });
}

/**
 * knex records each migration's file name; strip the extension so `.ts` sources (tsx, jest) and
 * built `.js` files are the same migration.
 */
export class MigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(migrationsDir)
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.(ts|js)$/, '');
  }
  async getMigration(file: string): Promise<Knex.Migration> {
    return (await import(path.join(migrationsDir, file))) as Knex.Migration;
  }
}

/** Runs pending migrations; returns the names applied now. knex's lock table serialises instances. */
export async function migrate(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: new MigrationSource() })) as [number, string[]];
  return applied;
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.raw('select 1');
}
