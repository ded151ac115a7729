import { Redis } from 'ioredis';
import type { KeyValueStore, MarkOutcome } from './key-value-store.js';

// Adds a member and only ever lengthens the set's TTL (a short-lived member must not shorten it).
const ADD_TO_SET = `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// INCR that sets the TTL only when it creates the counter.
const INCREMENT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

// SET NX of the mark with the entry's remaining lifetime (at least 1 s), in one step.
const MARK_ONCE = `local ttl = redis.call('TTL', KEYS[1])
if ttl == -2 then return 'missing' end
if ttl < 1 then ttl = 1 end
if redis.call('SET', KEYS[2], ARGV[1], 'EX', ttl, 'NX') then return 'marked' end
return 'already'`;

/**
 * Redis (ioredis; a redis:// URL, Sentinel and Cluster work through ioredis' own URL options).
 * `keyPrefix` separates deployments (and test runs) sharing one Redis. Commands fail fast while
 * Redis is down instead of queueing forever, so callers can answer 503 (fail closed).
 */
export class RedisStore implements KeyValueStore {
  readonly redis: Redis;

  constructor(url: string, options: { keyPrefix?: string } = {}) {
    this.redis = new Redis(url, {
      keyPrefix: options.keyPrefix,
      // while Redis is down a command fails at the first failed reconnect (~0.1 s), not after many
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      // Commands issued in the same turn of the event loop — by one request or by many at once —
      // go to Redis in one write. On loopback every write is a system call and a wake-up of
      // Redis; this roughly halves Sleutel's Redis cost per login (`npm run bench`).
      enableAutoPipelining: true,
    });
    // Errors surface on the commands; an 'error' listener stops ioredis from printing each retry.
    this.redis.on('error', () => {});
    this.redis.defineCommand('sleutelAddToSet', { numberOfKeys: 1, lua: ADD_TO_SET });
    this.redis.defineCommand('sleutelIncrement', { numberOfKeys: 1, lua: INCREMENT });
    this.redis.defineCommand('sleutelMarkOnce', { numberOfKeys: 2, lua: MARK_ONCE });
  }

  private get scripts() {
    return this.redis as unknown as {
      sleutelAddToSet(key: string, member: string, ttl: number): Promise<number>;
      sleutelIncrement(key: string, ttl: number): Promise<number>;
      sleutelMarkOnce(key: string, mark: string, value: string): Promise<MarkOutcome>;
    };
  }

  async get(key: string) {
    return this.redis.get(key);
  }

  async getMany(keys: string[]) {
    return keys.length ? this.redis.mget(keys) : [];
  }

  async set(key: string, value: string, ttlSeconds: number) {
    await this.redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
  }

  async markOnce(key: string, mark: string, value: string) {
    return this.scripts.sleutelMarkOnce(key, mark, value);
  }

  async take(key: string) {
    return this.redis.getdel(key);
  }

  async delete(...keys: string[]) {
    return keys.length ? this.redis.del(...keys) : 0;
  }

  async ttl(key: string) {
    return this.redis.ttl(key);
  }

  async increment(key: string, ttlSeconds: number) {
    return Number(await this.scripts.sleutelIncrement(key, Math.max(1, Math.ceil(ttlSeconds))));
  }

  async addToSet(key: string, member: string, ttlSeconds: number) {
    await this.scripts.sleutelAddToSet(key, member, Math.max(1, Math.ceil(ttlSeconds)));
  }

  async removeFromSet(key: string, member: string) {
    await this.redis.srem(key, member);
  }

  async members(key: string) {
    return this.redis.smembers(key);
  }

  async ping() {
    await this.redis.ping();
  }

  async close() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
