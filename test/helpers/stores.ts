import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/stores/database.js';
import { MemoryStore, RedisStore, type KeyValueStore } from '../../src/stores/kv/index.js';

/**
 * Every integration test runs against the embedded stores (PGlite in memory, in-process KV), and
 * also against real Postgres and Redis when DATABASE_URL and REDIS_URL are set (as .ci/run does).
 */
export type StoreMode = 'embedded' | 'postgres+redis';

export const realServers = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
export const storeModes: StoreMode[] = realServers ? ['embedded', 'postgres+redis'] : ['embedded'];

export interface TestStores {
  db: Database;
  kv: KeyValueStore;
  /** the database's own URL (postgres mode only), for a second process */
  databaseUrl?: string;
  dispose(): Promise<void>;
}

/** A fresh, empty Postgres database on the DATABASE_URL server; dropped by the returned function. */
export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new URL(process.env.DATABASE_URL!);
  const name = `sleutel_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.href });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin.href);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin.href });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A Redis store whose keys carry a prefix of their own, removed afterwards. */
export function createRedisStore(prefix = `test:${randomBytes(6).toString('hex')}:`): RedisStore & { cleanup(): Promise<void> } {
  const store = new RedisStore(process.env.REDIS_URL!, { keyPrefix: prefix }) as RedisStore & { cleanup(): Promise<void> };
  store.cleanup = async () => {
    const raw = new RedisStore(process.env.REDIS_URL!);
    let cursor = '0';
    do {
      const [next, found] = await raw.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (found.length) await raw.redis.del(...found);
      cursor = next;
    } while (cursor !== '0');
    await raw.close();
  };
  return store;
}

export async function openTestStores(mode: StoreMode): Promise<TestStores> {
  if (mode === 'embedded') {
    const db = openDatabase({});
    const kv = new MemoryStore();
    return { db, kv, dispose: async () => { await kv.close(); await db.destroy(); } };
  }
  const database = await createDatabase();
  const db = openDatabase({ url: database.url, poolMax: 5 });
  const kv = createRedisStore();
  return {
    db,
    kv,
    databaseUrl: database.url,
    dispose: async () => {
      await db.destroy();
      await kv.cleanup();
      await kv.close();
      await database.drop();
    },
  };
}
