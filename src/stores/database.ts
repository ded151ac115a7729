import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexPkg, { type Knex } from 'knex';
import type ClientPgLiteType from 'knex-pglite';
import type * as PGliteModule from '@electric-sql/pglite';

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
  let dataDir: string | undefined;
  if (options.dataDir) {
    dataDir = path.join(options.dataDir, 'pg');
    fs.mkdirSync(dataDir, { recursive: true });
  }
  // Loaded only in embedded mode: PGlite's module alone adds ~70 MB to the resident size of a
  // process that talks to a real Postgres (measured with `npm run bench`).
  const require = createRequire(import.meta.url);
  const ClientPgLite = require('knex-pglite') as typeof ClientPgLiteType;
  const { PGlite } = require('@electric-sql/pglite') as typeof PGliteModule;
  const pglite = new PGlite({ dataDir, startParams: embeddedStartParams(PGlite) });
  return knex({ client: ClientPgLite as unknown as typeof knexPkg.Client, dialect: 'postgres', connection: { pglite } as object });
}

/**
 * PGlite's own start parameters plus a smaller buffer pool. Its default, Postgres' 128 MB of
 * shared_buffers, is zeroed at every open: about 0.4 s of each start (~0.3 s of the 4–5 s a test's
 * in-memory database takes to create) and resident memory (`npm start` at rest: 411 MB before,
 * 253 MB now), for an embedded database that holds a few megabytes. Without the defaults (a PGlite
 * that stops exporting them) PGlite's own are kept.
 */
function embeddedStartParams(PGlite: typeof PGliteModule.PGlite): string[] | undefined {
  const defaults = (PGlite as unknown as { defaultStartParams?: unknown }).defaultStartParams;
  return Array.isArray(defaults) ? [...(defaults as string[]), '-c', 'shared_buffers=16MB'] : undefined;
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

/**
 * Runs pending migrations; returns the names applied now. knex's lock table serialises instances.
 * When every migration is already recorded (every start but the first after an upgrade), two
 * reads answer that without knex's migrator and its lock (~100 ms of a start on PGlite).
 */
export async function migrate(db: Database): Promise<string[]> {
  const source = new MigrationSource();
  if (await allApplied(db, source)) return [];
  const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
  return applied;
}

async function allApplied(db: Database, source: MigrationSource): Promise<boolean> {
  // to_regclass, not knex's hasTable: its information_schema query took ~130 ms of a PGlite start
  const [{ present }] = await queryRows<{ present: boolean }>(db, "select to_regclass('knex_migrations') is not null as present");
  if (!present) return false;
  const done = new Set((await db('knex_migrations').select('name')).map((row: { name: string }) => row.name));
  return (await source.getMigrations()).every((file) => done.has(source.getMigrationName(file)));
}

/**
 * Rows of one statement written as SQL (`?` placeholders), for the lookups every login and token
 * request makes. knex's query builder costs about 170 µs of CPU per query on top of the driver
 * (measured here: ~300 µs per builder lookup, ~140 µs as SQL), which added up to some 2 ms per
 * login. pg and PGlite both answer raw statements with `rows`.
 */
export async function queryRows<T>(db: Database, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<T[]> {
  const result = (await db.raw(sql, bindings as Knex.RawBinding[])) as { rows: T[] };
  return result.rows;
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.raw('select 1');
}
