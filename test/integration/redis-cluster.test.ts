import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { RedisStore } from '../../src/stores/kv/index.js';
import { isStoreUnavailable } from '../../src/stores/unavailable.js';
import { Browser } from '../helpers/browser.js';
import { keys } from '../../src/oidc/adapter.js';
import { haveRedisTopologies, RedisClusterSet, redisTopologiesSkipReason, type RedisProcess } from '../helpers/redis-topologies.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { passwordLoginRound, recordStatuses, redeem, refresh, startOnTopology, twoFactorLogin } from '../helpers/topology-logins.js';
import { passwordStep } from '../helpers/two-factor.js';

/**
 * Issue 16: Sleutel on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES): full logins, no double
 * use of a code or refresh token, a slot migration and a master's crash and restart under steady
 * logins without a 500.
 */
if (!haveRedisTopologies) console.warn(redisTopologiesSkipReason);
(haveRedisTopologies ? describe : describe.skip)('Sleutel on a Redis Cluster', () => {
  let cluster: RedisClusterSet;
  let server: TestServer;
  let seeded: Seeded;
  let rp: RelyingParty;

  beforeAll(async () => {
    cluster = await RedisClusterSet.start();
    server = await startOnTopology(cluster.topology);
    seeded = await seedTenant(server.sleutel.stores);
    rp = await RelyingParty.discover(server.url, seeded.staffClient);
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  test('the key prefix applies on every master, scripts\' keys included; a cross-slot script is a store error, not a wrong answer', async () => {
    const store = new RedisStore(cluster.topology, { keyPrefix: 'pfx-test:' });
    try {
      for (let i = 0; i < 30; i += 1) {
        await store.set(`plain:${i}`, 'v', 60);
        await store.increment(`counter:${i}`, 60);
        await store.addToSet(`set:${i}`, 'm', 60);
        await store.set(`{code:${i}}`, 'c', 60);
        expect(await store.markOnce(`{code:${i}}`, `{code:${i}}:consumed`, 'x')).toBe('marked');
      }
      const keys = await cluster.keys('*');
      const ours = keys.filter((k) => /(plain|counter|set|code):/.test(k));
      expect(ours).toHaveLength(150);
      expect(ours.every((k) => k.startsWith('pfx-test:'))).toBe(true);
      // the keys are spread over all three masters
      const perNode = await Promise.all(cluster.nodes.map((n) => n.cli('dbsize')));
      expect(perNode.every((n) => Number(n) > 0)).toBe(true);
      // getMany and delete across slots: one command per hash tag
      expect(await store.getMany(['plain:1', 'plain:2', 'missing', '{code:3}'])).toEqual(['v', 'v', null, 'c']);
      expect(await store.delete(...Array.from({ length: 30 }, (_, i) => `plain:${i}`))).toBe(30);
      // a mark that does not share its entry's slot would be a bug: it fails, and as a store outage
      const error = await store.markOnce('unrelated-entry-a', 'unrelated-mark-b', 'x').catch((e: unknown) => e);
      expect(isStoreUnavailable(error)).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('a slot migration (redis-cli --cluster reshard) under steady logins: no 500, no double use', async () => {
    const recorder = recordStatuses();
    let migrating = true;
    let duringMigration = 0;
    const rounds: Awaited<ReturnType<typeof passwordLoginRound>>[] = [];
    const worker = async () => {
      while (migrating || rounds.length < 6) {
        const started = migrating;
        rounds.push(await passwordLoginRound(server.url, rp, seeded.staff));
        if (started && migrating) duringMigration += 1;
      }
    };
    try {
      // several logins at once, each touching keys all over the slot space, while slots move twice
      const workers = [worker(), worker(), worker()];
      await cluster.reshard(cluster.nodes[0]!, cluster.nodes[1]!, 1500);
      await cluster.reshard(cluster.nodes[1]!, cluster.nodes[2]!, 3000);
      migrating = false;
      await Promise.all(workers);
    } finally {
      migrating = false;
      recorder.restore();
    }
    expect(recorder.statuses.filter((s) => s >= 500)).toEqual([]);
    expect(duringMigration).toBeGreaterThan(0);
    expect(rounds.length).toBeGreaterThanOrEqual(6);
    for (const round of rounds) {
      expect(round).toEqual({ ok: true, refreshed: 200, refreshAgain: 400, codeAgain: 400 });
    }
  });

  test('a master crashes and restarts on its port and directory: 503 in the gap (never 500), logins resume by themselves, a code and a refresh token used before stay refused', async () => {
    // before: a signed-in browser; used codes and rotated refresh tokens, until one of each has its
    // entry (and consumed mark: same hash tag) on the master that will crash
    const browser = new Browser();
    let target: RedisProcess | undefined;
    let usedCode: { url: string; verifier: string } | undefined;
    let usedRefresh: string | undefined;
    const held: string[] = [];
    for (let i = 0; i < 40 && !(usedCode && usedRefresh); i += 1) {
      const { request, next } = await passwordStep(i === 0 ? browser : new Browser(), rp, seeded.staff);
      const redeemed = await redeem(server.url, rp, next.url, request.verifier);
      expect(redeemed.status).toBe(200);
      const { refresh_token: refreshToken } = (await redeemed.json()) as { refresh_token: string };
      expect((await refresh(server.url, rp.client, refreshToken)).status).toBe(200);
      const code = new URL(next.url).searchParams.get('code')!;
      target ??= await cluster.holder(keys.model('AuthorizationCode', code));
      if (!usedCode && (await cluster.holder(keys.model('AuthorizationCode', code))) === target) {
        usedCode = { url: next.url, verifier: request.verifier };
        held.push(keys.model('AuthorizationCode', code), keys.consumed('AuthorizationCode', code));
      }
      if (!usedRefresh && (await cluster.holder(keys.model('RefreshToken', refreshToken))) === target) {
        usedRefresh = refreshToken;
        held.push(keys.model('RefreshToken', refreshToken), keys.consumed('RefreshToken', refreshToken));
      }
    }
    expect(usedCode && usedRefresh).toBeTruthy();
    for (const key of held) expect(await target!.cli('exists', key)).toBe('1');

    const recorder = recordStatuses();
    let running = true;
    let restarted = false;
    const rounds: { afterRestart: boolean; round: Awaited<ReturnType<typeof passwordLoginRound>> }[] = [];
    const worker = async () => {
      while (running) {
        const afterRestart = restarted;
        rounds.push({ afterRestart, round: await passwordLoginRound(server.url, rp, seeded.staff) });
      }
    };
    try {
      const workers = [worker(), worker()];
      await cluster.restart(target!, async () => {
        // down until logins have run into the gap and been answered 503
        while (!recorder.statuses.includes(503)) await new Promise((r) => setTimeout(r, 100));
      });
      restarted = true;
      // logins resume without anyone touching Sleutel
      while (rounds.filter((r) => r.afterRestart && r.round.ok).length < 3) await new Promise((r) => setTimeout(r, 100));
      running = false;
      await Promise.all(workers);
    } finally {
      running = false;
      recorder.restore();
    }
    expect(recorder.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(recorder.statuses).toContain(503);
    // in the gap too: whatever was redeemed once was never redeemed again
    for (const { round } of rounds) if (round.ok) expect([round.refreshAgain, round.codeAgain]).not.toContain(200);
    for (const { round } of rounds.filter((r) => r.afterRestart).slice(-3)) expect(round).toEqual({ ok: true, refreshed: 200, refreshAgain: 400, codeAgain: 400 });

    // after: the crashed master still holds what it held, and what was used stays used
    for (const key of held) expect(await target!.cli('exists', key)).toBe('1');
    expect((await redeem(server.url, rp, usedCode!.url, usedCode!.verifier)).status).toBe(400);
    expect((await refresh(server.url, rp.client, usedRefresh!)).status).toBe(400);
    const again = await browser.follow((await rp.authorization()).url, rp.isCallback);
    expect(new URL(again.url).searchParams.get('code')).not.toBeNull();
  }, 180_000);

  // after the migration test, which signs in with the same account by password alone
  test('a full 2FA login: password + TOTP + code exchange + refresh; replayed TOTP, reused code and rotated refresh token refused', async () => {
    await twoFactorLogin(server, rp, seeded.staff);
  });

  test('REDIS_URL naming one Cluster node (the issue\'s setup): 503, never a 500, and one log line saying what to set', async () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const misconfigured = await startOnTopology(`redis://127.0.0.1:${cluster.nodes[0]!.port}`, { log });
    try {
      const there = await seedTenant(misconfigured.sleutel.stores);
      const wrongRp = await RelyingParty.discover(misconfigured.url, there.staffClient);
      const recorder = recordStatuses();
      // where the first refused command falls decides the answer: a screen's 503, or — when already
      // /auth cannot store its interaction — the relying party's callback with temporarily_unavailable
      const sentBack: string[] = [];
      try {
        for (let i = 0; i < 5; i += 1) {
          await passwordStep(new Browser(), wrongRp, there.staff).catch((error: Error) => {
            if (/\/callback\?error=temporarily_unavailable&/.test(error.message)) sentBack.push(error.message);
          });
        }
      } finally {
        recorder.restore();
      }
      expect(recorder.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
      expect(recorder.statuses.filter((s) => s === 503).length + sentBack.length).toBeGreaterThan(0);
      const reported = lines.map((l) => JSON.parse(l) as { redis_error?: string; check?: string }).filter((l) => l.redis_error === 'redirected');
      expect(reported).toHaveLength(1);
      expect(reported[0]!.check).toContain('REDIS_CLUSTER_NODES');
    } finally {
      await misconfigured.close();
    }
  });
});
