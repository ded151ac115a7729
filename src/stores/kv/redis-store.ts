import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTopology } from '../../config/environment.js';
import type { Logger } from '../../log.js';
import { redisProblem } from './redis-errors.js';
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

/** The part of a key Redis Cluster hashes to pick its slot: the first non-empty `{…}`, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

export interface RedisStoreOptions {
  /** separates deployments (and test runs) sharing one Redis; applied to every key, scripts' KEYS too */
  keyPrefix?: string;
  /** where a store outage is reported, once per kind until Redis answers again */
  log?: Logger;
}

/** An outage of one kind is logged at most this often (not once per request). */
const REPORT_EVERY_MS = 5 * 60_000;

const COMMON: RedisOptions = {
  // while Redis is down a command fails at the first failed reconnect (~0.1 s), not after many
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
};

/**
 * Redis through ioredis, on one of the three topologies (docs/architecture.md § Contracts): one
 * server (a redis:// URL), a Redis Cluster (seed nodes; ioredis follows MOVED/ASK and refreshes
 * the slot map), or a Sentinel set (ioredis asks the sentinels for the master, and leaves a master
 * that was demoted).
 * Commands fail fast while Redis is down instead of queueing forever, so callers answer 503.
 *
 * On a Cluster every multi-key command must stay in one slot: the scripts' keys share a hash tag
 * (the caller's duty, see KeyValueStore.markOnce), and getMany/delete send one MGET/DEL per hash tag.
 */
export class RedisStore implements KeyValueStore {
  readonly redis: Redis | Cluster;
  private readonly clustered: boolean;
  private readonly keyPrefix: string;
  private readonly log?: Logger;
  /** per kind of outage: when it was last logged, and how often it happened since */
  private readonly reported = new Map<string, { at: number; since: number }>();

  constructor(target: string | RedisTopology, options: RedisStoreOptions = {}) {
    const topology: RedisTopology = typeof target === 'string' ? { kind: 'server', url: target } : target;
    this.keyPrefix = options.keyPrefix ?? '';
    this.log = options.log;
    this.clustered = topology.kind === 'cluster';
    // Commands issued in the same turn of the event loop — by one request or by many at once —
    // go to Redis in one write. On loopback every write is a system call and a wake-up of Redis;
    // this roughly halves Sleutel's Redis cost per login (`npm run bench`). Not on a Cluster:
    // there ioredis' pipelines fail across a slot migration (a pipeline's slots no longer sit on
    // one node, or one command's MOVED is not retried next to a write), which the reshard test saw
    // as 503s; single commands follow MOVED/ASK/TRYAGAIN by themselves.
    const shared = { keyPrefix: options.keyPrefix, enableAutoPipelining: topology.kind !== 'cluster' };
    const tls = 'tls' in topology && topology.tls ? {} : undefined;
    if (topology.kind === 'cluster') {
      this.redis = new Cluster(topology.nodes, {
        ...shared,
        redisOptions: { ...COMMON, password: topology.password, tls },
        // a node that is gone: the client retries other nodes and refreshes the slot map meanwhile
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 300,
        retryDelayOnTryAgain: 100,
        maxRedirections: 16,
      });
    } else if (topology.kind === 'sentinel') {
      this.redis = new Redis({
        ...COMMON,
        ...shared,
        sentinels: topology.sentinels,
        name: topology.masterName,
        role: 'master',
        password: topology.password,
        sentinelPassword: topology.sentinelPassword,
        tls,
        enableTLSForSentinelMode: Boolean(tls),
        sentinelTLS: tls,
        // subscribe to the sentinels' +switch-master: reconnect to the new master at once
        failoverDetector: true,
        // a master demoted by a failover answers READONLY: reconnect (the sentinels name the new
        // master) and send the refused command again — a replica refused it, so it did not run
        reconnectOnError: (error) => (/^READONLY/.test(error.message) ? 2 : false),
        enableOfflineQueue: true,
        retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
        sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      });
    } else {
      this.redis = new Redis(topology.url, {
        ...COMMON,
        ...shared,
        enableOfflineQueue: true,
        retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      });
    }
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

  /** Runs a command; an outage-like reply is logged once per kind and REPORT_EVERY_MS, with what to check. */
  private async run<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (error) {
      const problem = redisProblem(error);
      if (problem) this.report(problem.kind, problem.hint, error);
      throw error;
    }
  }

  private report(kind: string, hint: string, error: unknown) {
    const seen = this.reported.get(kind);
    const now = Date.now();
    if (seen && now - seen.at < REPORT_EVERY_MS) {
      seen.since += 1;
      return;
    }
    this.reported.set(kind, { at: now, since: 0 });
    const reply = String((error as Error).message).slice(0, 200);
    this.log?.error({ redis_error: kind, reply, check: hint, ...(seen ? { times_since_last_report: seen.since } : {}) }, 'Redis cannot serve this request; answering 503');
  }

  /** Keys grouped by hash tag: on a Cluster, one command per group keeps every command in one slot. */
  private bySlot(keys: string[]): number[][] {
    if (!this.clustered) return [keys.map((_, i) => i)];
    const groups = new Map<string, number[]>();
    keys.forEach((key, i) => {
      const tag = hashTagOf(this.keyPrefix + key);
      groups.set(tag, [...(groups.get(tag) ?? []), i]);
    });
    return [...groups.values()];
  }

  async get(key: string) {
    return this.run(this.redis.get(key));
  }

  async getMany(keys: string[]) {
    if (!keys.length) return [];
    const values: (string | null)[] = new Array(keys.length).fill(null);
    await Promise.all(
      this.bySlot(keys).map(async (group) => {
        const found = await this.run(this.redis.mget(group.map((i) => keys[i]!)));
        group.forEach((index, j) => (values[index] = found[j] ?? null));
      }),
    );
    return values;
  }

  async set(key: string, value: string, ttlSeconds: number) {
    await this.run(this.redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds))));
  }

  async markOnce(key: string, mark: string, value: string) {
    return this.run(this.scripts.sleutelMarkOnce(key, mark, value));
  }

  async take(key: string) {
    return this.run(this.redis.getdel(key));
  }

  async delete(...keys: string[]) {
    if (!keys.length) return 0;
    const counts = await Promise.all(this.bySlot(keys).map((group) => this.run(this.redis.del(...group.map((i) => keys[i]!)))));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async ttl(key: string) {
    return this.run(this.redis.ttl(key));
  }

  async increment(key: string, ttlSeconds: number) {
    return Number(await this.run(this.scripts.sleutelIncrement(key, Math.max(1, Math.ceil(ttlSeconds)))));
  }

  async addToSet(key: string, member: string, ttlSeconds: number) {
    await this.run(this.scripts.sleutelAddToSet(key, member, Math.max(1, Math.ceil(ttlSeconds))));
  }

  async removeFromSet(key: string, member: string) {
    await this.run(this.redis.srem(key, member));
  }

  async members(key: string) {
    return this.run(this.redis.smembers(key));
  }

  async ping() {
    await this.run(this.redis.ping());
  }

  async close() {
    await this.redis.quit().catch(() => {});
    // also ends what QUIT leaves behind: the Sentinel client's subscriptions to +switch-master
    this.redis.disconnect();
  }
}
