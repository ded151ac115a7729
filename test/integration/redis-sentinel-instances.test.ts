import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { haveRedisTopologies, RedisSentinelSet, redisTopologiesSkipReason } from '../helpers/redis-topologies.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import { startInstances, type SleutelInstances } from '../helpers/sleutel-instances.js';
import { realServers } from '../helpers/stores.js';
import { racesWinOnce, twoFactorLogin } from '../helpers/topology-logins.js';

/**
 * Issue 16: three Sleutel processes, configured with REDIS_SENTINELS and REDIS_SENTINEL_MASTER as
 * an operator would, on one Postgres and a Sentinel set (master + replica + sentinel), behind a
 * round-robin proxy without sticky routing: every request of a login goes to another instance,
 * and races between instances stay single-use.
 */
const INSTANCES = 3;
const enabled = realServers && haveRedisTopologies;
if (!haveRedisTopologies) console.warn(redisTopologiesSkipReason);

(enabled ? describe : describe.skip)(`${INSTANCES} Sleutel processes on a Redis Sentinel set (needs DATABASE_URL)`, () => {
  let sentinel: RedisSentinelSet;
  let instances: SleutelInstances;
  let seeded: Seeded;
  /** a second cooperative, for the races (its accounts sign in with the password alone) */
  let other: Seeded;

  beforeAll(async () => {
    sentinel = await RedisSentinelSet.start();
    instances = await startInstances(INSTANCES, sentinel.env);
    seeded = await seedTenant(instances.stores);
    other = await seedTenant(instances.stores, 'anders');
  }, 120_000);

  afterAll(async () => {
    await instances?.close();
    await sentinel?.stop();
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
