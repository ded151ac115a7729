import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { haveRedisTopologies, RedisClusterSet, RedisSentinelSet, redisTopologiesSkipReason } from '../helpers/redis-topologies.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import { startInstances, type SleutelInstances } from '../helpers/sleutel-instances.js';
import { realServers } from '../helpers/stores.js';
import { racesWinOnce, twoFactorLogin } from '../helpers/topology-logins.js';

/**
 * Issue 16: three Sleutel processes, configured as an operator would (REDIS_CLUSTER_NODES for a
 * 3-master Redis Cluster; REDIS_SENTINELS and REDIS_SENTINEL_MASTER for master + replica +
 * sentinel), on one Postgres, behind a round-robin proxy without sticky routing: every request of
 * a login goes to another instance, and races between instances stay single-use.
 */
const INSTANCES = 3;
const enabled = realServers && haveRedisTopologies;
if (!haveRedisTopologies) console.warn(redisTopologiesSkipReason);

const TOPOLOGIES: { name: string; start: () => Promise<{ env: Record<string, string>; stop(): Promise<void> }> }[] = [
  { name: 'a Redis Cluster', start: () => RedisClusterSet.start() },
  { name: 'a Redis Sentinel set', start: () => RedisSentinelSet.start() },
];

(enabled ? describe.each(TOPOLOGIES) : describe.skip.each(TOPOLOGIES))(`${INSTANCES} Sleutel processes on $name (needs DATABASE_URL)`, ({ start }) => {
  let redis: Awaited<ReturnType<typeof start>>;
  let instances: SleutelInstances;
  let seeded: Seeded;
  /** a second cooperative, for the races (its accounts sign in with the password alone) */
  let other: Seeded;

  beforeAll(async () => {
    redis = await start();
    instances = await startInstances(INSTANCES, redis.env);
    seeded = await seedTenant(instances.stores);
    other = await seedTenant(instances.stores, 'anders');
  }, 120_000);

  afterAll(async () => {
    await instances?.close();
    await redis?.stop();
  });

  test('a full 2FA login with every request on another instance; replay and reuse refused', async () => {
    const before = instances.served.length;
    await twoFactorLogin({ url: instances.issuer }, await RelyingParty.discover(instances.issuer, seeded.staffClient), seeded.staff);
    expect(new Set(instances.served.slice(before)).size).toBe(INSTANCES);
    for (const output of instances.outputs) expect(output.join('')).not.toMatch(/"level":50/);
  });

  test('the same code, the same refresh token and the same TOTP code sent to two instances at once: one wins each time', async () => {
    await racesWinOnce(instances.issuer, other);
  });
});
