import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Browser } from '../helpers/browser.js';
import { haveRedisTopologies, RedisSentinelSet, redisTopologiesSkipReason, SENTINEL_MASTER } from '../helpers/redis-topologies.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { passwordLoginRound, recordStatuses, redeem, startOnTopology, twoFactorLogin } from '../helpers/topology-logins.js';
import { passwordStep } from '../helpers/two-factor.js';

/**
 * Issue 16: Sleutel on a real Sentinel set (REDIS_SENTINELS + REDIS_SENTINEL_MASTER): full logins,
 * and a failover (the master killed, the replica promoted) that logins survive by themselves.
 */
if (!haveRedisTopologies) console.warn(redisTopologiesSkipReason);
(haveRedisTopologies ? describe : describe.skip)('Sleutel on a Redis Sentinel set', () => {
  let sentinel: RedisSentinelSet;
  let server: TestServer;
  let seeded: Seeded;
  let rp: RelyingParty;

  beforeAll(async () => {
    sentinel = await RedisSentinelSet.start();
    server = await startOnTopology(sentinel.topology);
    seeded = await seedTenant(server.sleutel.stores);
    rp = await RelyingParty.discover(server.url, seeded.staffClient);
  });
  afterAll(async () => {
    await server?.close();
    await sentinel?.stop();
  });

  test('the master is killed and the replica promoted: 503 (never 500) in the gap, logins resume by themselves, nothing written before is lost', async () => {
    // before: a signed-in browser, and a code that was redeemed
    const browser = new Browser();
    const { request, next } = await passwordStep(browser, rp, seeded.staff);
    expect(rp.isCallback(next.url)).toBe(true);
    expect((await redeem(server.url, rp, next.url, request.verifier)).status).toBe(200);
    // acknowledged writes reach the replica before the crash (what WAIT / min-replicas give an operator)
    await sentinel.replicated();
    const before = await sentinel.masterPort();

    const recorder = recordStatuses();
    let rounds: Awaited<ReturnType<typeof passwordLoginRound>>[] = [];
    try {
      await (await sentinel.master()).kill();
      // logins keep being tried through the gap until they work again
      for (let i = 0; i < 600; i += 1) {
        const round = await passwordLoginRound(server.url, rp, seeded.staff);
        rounds.push(round);
        if (round.ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      recorder.restore();
    }
    expect(recorder.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(rounds.at(-1)).toEqual({ ok: true, refreshed: 200, refreshAgain: 400, codeAgain: 400 });
    // the gap was real (the sentinel waits a second before it acts) and was answered with 503s
    expect(rounds.filter((r) => !r.ok).length).toBeGreaterThan(0);
    expect(await sentinel.masterPort()).not.toBe(before);

    // after: the code redeemed before the failover is still refused; the session is still there
    expect((await redeem(server.url, rp, next.url, request.verifier)).status).toBe(400);
    const again = await browser.follow((await rp.authorization()).url, rp.isCallback);
    expect(rp.isCallback(again.url)).toBe(true);
    expect(new URL(again.url).searchParams.get('code')).not.toBeNull();
    rounds = [];
  });

  test('SENTINEL FAILOVER demotes a master Sleutel is connected to: no 500, logins go on, a code used before stays used', async () => {
    // the killed server comes back; the sentinel makes it a replica of the promoted one
    const current = await sentinel.masterPort();
    const returning = sentinel.servers.find((s) => s.port !== current)!;
    await returning.up();
    await sentinel.replicated();

    const used = await passwordStep(new Browser(), rp, seeded.staff);
    expect((await redeem(server.url, rp, used.next.url, used.request.verifier)).status).toBe(200);
    await sentinel.replicated();

    const recorder = recordStatuses();
    let switching = true;
    const rounds: Awaited<ReturnType<typeof passwordLoginRound>>[] = [];
    const worker = async () => {
      while (switching || rounds.length < 3) rounds.push(await passwordLoginRound(server.url, rp, seeded.staff));
    };
    try {
      const workers = [worker(), worker()];
      await sentinel.sentinel.cli('sentinel', 'failover', SENTINEL_MASTER);
      await sentinel.promotedFrom(current);
      // a little after the switch, so that logins run against the demoted master's successor
      for (let i = 0; i < 50 && rounds.filter((r) => r.ok).length < 3; i += 1) await new Promise((r) => setTimeout(r, 100));
      switching = false;
      await Promise.all(workers);
    } finally {
      switching = false;
      recorder.restore();
    }
    expect(recorder.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(rounds.at(-1)).toEqual({ ok: true, refreshed: 200, refreshAgain: 400, codeAgain: 400 });
    // during the switch a step may get the outage answer (503), but a reuse is never accepted
    for (const round of rounds) if (round.ok) expect([round.refreshAgain, round.codeAgain]).not.toContain(200);
    expect((await redeem(server.url, rp, used.next.url, used.request.verifier)).status).toBe(400);
  });

  test('a full 2FA login on the promoted master: password + TOTP + code exchange + refresh; replay and reuse refused', async () => {
    await twoFactorLogin(server, rp, seeded.staff);
  });
});
