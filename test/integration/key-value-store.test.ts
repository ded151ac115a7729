import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { MemoryStore, RedisStore, type KeyValueStore } from '../../src/stores/kv/index.js';
import { haveRedisTopologies, RedisClusterSet, RedisSentinelSet, redisTopologiesSkipReason } from '../helpers/redis-topologies.js';
import { createRedisStore } from '../helpers/stores.js';

/**
 * The KeyValueStore contract, run against every implementation: the in-process store always, Redis
 * when REDIS_URL is set, and a Redis Cluster and a Sentinel set of the test's own (from Debian's
 * redis-server). All must behave the same, since embedded mode stands in for production.
 */
interface Subject {
  store: KeyValueStore;
  /** Connections onto the same data: for Redis separate connections, as separate instances would be. */
  peers: KeyValueStore[];
  /** Lets time pass: a fake clock for MemoryStore, real waiting for Redis (so called once only). */
  elapse(ms: number): Promise<void>;
  dispose(): Promise<void>;
}

function memorySubject(): Subject {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const store = new MemoryStore(() => now);
  return {
    store,
    peers: [store],
    elapse: async (ms) => {
      now += ms;
    },
    dispose: () => store.close(),
  };
}

function redisSubject(): Subject {
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const store = createRedisStore(prefix);
  const others = [createRedisStore(prefix), createRedisStore(prefix), createRedisStore(prefix)];
  return {
    store,
    peers: [store, ...others],
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    dispose: async () => {
      await store.cleanup();
      await Promise.all([store, ...others].map((s) => s.close()));
    },
  };
}

/** Four connections with a key prefix (it must apply on every topology, scripts' keys included). */
async function topologySubject(servers: RedisClusterSet | RedisSentinelSet): Promise<Subject> {
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const [store, ...others] = Array.from({ length: 4 }, () => new RedisStore(servers.topology, { keyPrefix: prefix }));
  return {
    store: store!,
    peers: [store!, ...others],
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    dispose: async () => {
      await Promise.all([store!, ...others].map((s) => s.close()));
      await servers.stop();
    },
  };
}

const subjects: [string, () => Subject | Promise<Subject>][] = [['MemoryStore', memorySubject]];
if (process.env.REDIS_URL) subjects.push(['RedisStore', redisSubject]);
if (haveRedisTopologies) {
  subjects.push(['RedisStore on a 3-master Redis Cluster', async () => topologySubject(await RedisClusterSet.start())]);
  subjects.push(['RedisStore on a Sentinel set', async () => topologySubject(await RedisSentinelSet.start())]);
} else {
  console.warn(redisTopologiesSkipReason);
}

let counter = 0;
/** A key of its own for each check, so tests sharing a store cannot see each other's data. */
const key = (name: string) => `${name}:${(counter += 1)}`;
/** A key in braces: a Redis Cluster hash tag, so `${entry}:consumed` shares its slot (markOnce's rule). */
const taggedKey = (name: string) => `{${key(name)}}`;

const settledValues = <T>(results: PromiseSettledResult<T>[]) =>
  results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });

describe.each(subjects)('KeyValueStore contract: %s', (_name, make) => {
  let subject: Subject;
  let kv: KeyValueStore;

  beforeAll(async () => {
    subject = await make();
    kv = subject.store;
  });
  afterAll(() => subject?.dispose());

  /** Spreads `n` calls over the peers, all started before any is awaited. */
  const concurrently = <T>(n: number, call: (store: KeyValueStore, i: number) => Promise<T>) =>
    Promise.allSettled(Array.from({ length: n }, (_, i) => call(subject.peers[i % subject.peers.length]!, i))).then(settledValues);

  test('ping answers', async () => {
    await expect(kv.ping()).resolves.toBeUndefined();
  });

  test('get returns what set stored; a missing key is null', async () => {
    const k = key('get');
    expect(await kv.get(k)).toBeNull();
    await kv.set(k, 'één', 60);
    expect(await kv.get(k)).toBe('één');
    await kv.set(k, 'twee', 60);
    expect(await kv.get(k)).toBe('twee');
    // another connection sees the same data
    expect(await subject.peers.at(-1)!.get(k)).toBe('twee');
  });

  test('getMany keeps the order of the keys and gives null for missing ones', async () => {
    const [a, b, missing] = [key('many'), key('many'), key('many')];
    await kv.set(a, 'A', 60);
    await kv.set(b, 'B', 60);
    expect(await kv.getMany([b, missing, a])).toEqual(['B', null, 'A']);
    expect(await kv.getMany([])).toEqual([]);
  });

  test('ttl reports the lifetime set gave; a missing key is -2; set replaces the TTL', async () => {
    const k = key('ttl');
    expect(await kv.ttl(k)).toBe(-2);
    await kv.set(k, 'v', 600);
    const ttl = await kv.ttl(k);
    expect(ttl).toBeGreaterThanOrEqual(599);
    expect(ttl).toBeLessThanOrEqual(600);
    await kv.set(k, 'v', 30);
    expect(await kv.ttl(k)).toBeLessThanOrEqual(30);
    expect(await kv.ttl(k)).toBeGreaterThan(0);
  });

  test('markOnce: marks an existing entry once, for the time the entry has left; a missing entry is not marked', async () => {
    const entry = taggedKey('code');
    const mark = `${entry}:consumed`;
    expect(await kv.markOnce(entry, mark, 'first')).toBe('missing');
    expect(await kv.get(mark)).toBeNull();
    await kv.set(entry, 'payload', 40);
    expect(await kv.markOnce(entry, mark, 'first')).toBe('marked');
    expect(await kv.markOnce(entry, mark, 'second')).toBe('already');
    expect(await kv.get(mark)).toBe('first');
    expect(await kv.get(entry)).toBe('payload');
    expect(await kv.ttl(mark)).toBeGreaterThan(30);
    expect(await kv.ttl(mark)).toBeLessThanOrEqual(40);
    // the mark outlives a deletion of its entry: a request racing with a revocation still finds it used
    await kv.delete(entry);
    expect(await kv.get(mark)).toBe('first');
    expect(await kv.markOnce(entry, mark, 'third')).toBe('missing');
  });

  test('markOnce under 20 concurrent calls: exactly one caller marks', async () => {
    const entry = taggedKey('code-race');
    await kv.set(entry, 'payload', 60);
    const results = await concurrently(20, (store, i) => store.markOnce(entry, `${entry}:consumed`, `caller-${i}`));
    expect(results.filter((r) => r === 'marked')).toHaveLength(1);
    expect(results.filter((r) => r === 'already')).toHaveLength(19);
    expect(await kv.get(`${entry}:consumed`)).toBe(`caller-${results.indexOf('marked')}`);
  });

  test('take returns the value once and removes the key', async () => {
    const k = key('take');
    await kv.set(k, 'single-use', 60);
    expect(await kv.take(k)).toBe('single-use');
    expect(await kv.take(k)).toBeNull();
    expect(await kv.get(k)).toBeNull();
    expect(await kv.ttl(k)).toBe(-2);
    expect(await kv.take(key('take-missing'))).toBeNull();
  });

  test('take under 20 concurrent calls: exactly one caller gets the value', async () => {
    const k = key('take-race');
    await kv.set(k, 'reset-token', 60);
    const results = await concurrently(20, (store) => store.take(k));
    expect(results.filter((v) => v !== null)).toEqual(['reset-token']);
    expect(await kv.get(k)).toBeNull();
  });

  test('delete removes the keys and counts only those that existed', async () => {
    const [a, b, s, missing] = [key('del'), key('del'), key('del'), key('del')];
    await kv.set(a, '1', 60);
    await kv.set(b, '2', 60);
    await kv.addToSet(s, 'm', 60);
    expect(await kv.delete(a, missing)).toBe(1);
    expect(await kv.get(a)).toBeNull();
    expect(await kv.get(b)).toBe('2');
    expect(await kv.delete(b, s)).toBe(2);
    expect(await kv.members(s)).toEqual([]);
    expect(await kv.delete(a, b, s)).toBe(0);
    expect(await kv.delete()).toBe(0);
  });

  test('increment counts from 1; the TTL is set at creation and not extended by later increments', async () => {
    const k = key('incr');
    expect(await kv.increment(k, 100)).toBe(1);
    expect(await kv.increment(k, 5000)).toBe(2);
    expect(await kv.increment(k, 5000)).toBe(3);
    expect(await kv.get(k)).toBe('3');
    // a later, longer TTL must not have replaced the first one (a rate-limit window must end)
    const ttl = await kv.ttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
  });

  test('increment under 20 concurrent calls hands out 1..20, each once', async () => {
    const k = key('incr-race');
    const results = await concurrently(20, (store) => store.increment(k, 60));
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await kv.get(k)).toBe('20');
  });

  test('addToSet / members / removeFromSet', async () => {
    const k = key('set');
    expect(await kv.members(k)).toEqual([]);
    await kv.addToSet(k, 'a', 60);
    await kv.addToSet(k, 'b', 60);
    await kv.addToSet(k, 'a', 60);
    expect((await kv.members(k)).sort()).toEqual(['a', 'b']);
    await kv.removeFromSet(k, 'a');
    expect(await kv.members(k)).toEqual(['b']);
    await kv.removeFromSet(k, 'not-a-member');
    await kv.removeFromSet(key('set-missing'), 'a');
    expect(await kv.members(k)).toEqual(['b']);
  });

  test('a set whose last member is removed no longer exists (as in Redis)', async () => {
    const k = key('set-empty');
    await kv.addToSet(k, 'a', 100);
    await kv.removeFromSet(k, 'a');
    expect(await kv.ttl(k)).toBe(-2);
    expect(await kv.delete(k)).toBe(0);
  });

  test('using a key as the other type is an error, not a silent answer', async () => {
    const [text, set] = [key('type-text'), key('type-set')];
    await kv.set(text, '1', 60);
    await kv.addToSet(set, 'a', 60);
    await expect(kv.get(set)).rejects.toThrow(/WRONGTYPE/);
    await expect(kv.increment(set, 60)).rejects.toThrow(/WRONGTYPE/);
    await expect(kv.addToSet(text, 'a', 60)).rejects.toThrow(/WRONGTYPE/);
    await expect(kv.members(text)).rejects.toThrow(/WRONGTYPE/);
    expect(await kv.get(text)).toBe('1');
  });

  test('a set\'s TTL only grows: a shorter TTL does not shorten it, a longer one lengthens it', async () => {
    const k = key('set-ttl');
    await kv.addToSet(k, 'long-lived', 300);
    await kv.addToSet(k, 'short-lived', 10);
    const afterShort = await kv.ttl(k);
    expect(afterShort).toBeGreaterThan(10);
    expect(afterShort).toBeLessThanOrEqual(300);
    await kv.addToSet(k, 'longer-lived', 3000);
    expect(await kv.ttl(k)).toBeGreaterThan(300);
    expect(await kv.ttl(k)).toBeLessThanOrEqual(3000);
    expect((await kv.members(k)).sort()).toEqual(['long-lived', 'longer-lived', 'short-lived']);
  });

  test('everything written with a TTL is gone once it has passed; longer-lived keys stay', async () => {
    const [plain, code, counter, set, lasting] = [key('exp'), taggedKey('exp'), key('exp'), key('exp'), key('exp')];
    const mark = `${code}:consumed`;
    await kv.set(plain, 'v', 1);
    await kv.set(code, 'c', 1);
    expect(await kv.markOnce(code, mark, 'used')).toBe('marked');
    await kv.increment(counter, 1);
    await kv.increment(counter, 1);
    await kv.addToSet(set, 'm', 1);
    await kv.set(lasting, 'stays', 60);

    await subject.elapse(2100);

    expect(await kv.get(plain)).toBeNull();
    expect(await kv.getMany([plain, code, mark, lasting])).toEqual([null, null, null, 'stays']);
    expect(await kv.ttl(plain)).toBe(-2);
    expect(await kv.ttl(set)).toBe(-2);
    expect(await kv.members(set)).toEqual([]);
    expect(await kv.take(plain)).toBeNull();
    expect(await kv.markOnce(code, mark, 'used')).toBe('missing');
    expect(await kv.delete(plain, code, mark, counter, set)).toBe(0);
    // an expired mark is absent: a new entry under the same key is marked afresh, and a counter starts over
    await kv.set(code, 'again', 60);
    expect(await kv.markOnce(code, mark, 'used')).toBe('marked');
    expect(await kv.increment(counter, 60)).toBe(1);
    expect(await kv.get(lasting)).toBe('stays');
  });
});

describe('MemoryStore with a fake clock', () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const kv = new MemoryStore(() => now);
  afterAll(() => kv.close());

  test('a key lives exactly its TTL', async () => {
    await kv.set('k', 'v', 10);
    now += 9_999;
    expect(await kv.get('k')).toBe('v');
    expect(await kv.ttl('k')).toBe(1);
    now += 1;
    expect(await kv.get('k')).toBeNull();
    expect(await kv.ttl('k')).toBe(-2);
  });

  test('a counter\'s window runs from its creation, however often it is incremented', async () => {
    expect(await kv.increment('c', 10)).toBe(1);
    now += 6_000;
    expect(await kv.increment('c', 10)).toBe(2);
    expect(await kv.ttl('c')).toBe(4);
    now += 4_000;
    expect(await kv.increment('c', 10)).toBe(1);
  });

  test('a mark lives as long as its entry had left when it was set', async () => {
    await kv.set('e', 'v', 60);
    now += 45_000;
    expect(await kv.markOnce('e', 'e:used', '1')).toBe('marked');
    expect(await kv.ttl('e:used')).toBe(15);
    now += 14_999;
    expect(await kv.get('e:used')).toBe('1');
    now += 1;
    expect(await kv.get('e:used')).toBeNull();
  });

  test('a set lives as long as its longest-lived member was added for', async () => {
    await kv.addToSet('s', 'a', 100);
    now += 50_000;
    await kv.addToSet('s', 'b', 10); // must not cut the set's remaining 50 s to 10 s
    now += 20_000;
    expect((await kv.members('s')).sort()).toEqual(['a', 'b']);
    now += 30_000;
    expect(await kv.members('s')).toEqual([]);
  });
});
