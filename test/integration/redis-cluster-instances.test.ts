import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/environment.js';
import { openStores, type Stores } from '../../src/stores/open.js';
import { Browser } from '../helpers/browser.js';
import { freePort } from '../helpers/own-servers.js';
import { haveRedisTopologies, RedisClusterSet, redisTopologiesSkipReason } from '../helpers/redis-topologies.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import { TEST_KEYS } from '../helpers/server.js';
import { createDatabase, realServers } from '../helpers/stores.js';
import { redeem, refresh, twoFactorLogin } from '../helpers/topology-logins.js';
import { timeStepNow, totp } from '../helpers/totp.js';
import { enableOnAccountPage, passwordStep } from '../helpers/two-factor.js';

/**
 * Issue 16: three Sleutel processes, configured with REDIS_CLUSTER_NODES as an operator would, on
 * one Postgres and a 3-master Redis Cluster, behind a round-robin proxy without sticky routing:
 * every request of a login goes to another instance, and races between instances stay single-use.
 */
const INSTANCES = 3;
const enabled = realServers && haveRedisTopologies;
if (!haveRedisTopologies) console.warn(redisTopologiesSkipReason);

(enabled ? describe : describe.skip)(`${INSTANCES} Sleutel processes on a Redis Cluster (needs DATABASE_URL)`, () => {
  let cluster: RedisClusterSet;
  let dropDatabase: () => Promise<void>;
  let stores: Stores;
  let seeded: Seeded;
  /** a second cooperative, for the races (its accounts sign in with the password alone) */
  let other: Seeded;
  let rp: RelyingParty;
  let proxy: http.Server;
  let issuer: string;
  const children: { child: ChildProcess; output: string[] }[] = [];
  const served: number[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterSet.start();
    const database = await createDatabase();
    dropDatabase = database.drop;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-instances-'));
    stores = await openStores(loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, ...TEST_KEYS, ...cluster.env }));
    seeded = await seedTenant(stores);
    other = await seedTenant(stores, 'anders');

    // the load balancer: each request to the next instance, round robin
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    let next = 0;
    proxy = http.createServer((req, res) => {
      const index = next++ % INSTANCES;
      served.push(index);
      const upstream = http.request({ host: '127.0.0.1', port: ports[index], path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => (res.writeHead(502), res.end()));
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    for (const port of ports) {
      const output: string[] = [];
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: { PATH: process.env.PATH, PORT: String(port), ISSUER: issuer, DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...TEST_KEYS, ...cluster.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
      children.push({ child, output });
    }
    for (const [i, port] of ports.entries()) {
      let ready = false;
      for (let t = 0; t < 300 && !ready; t += 1) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      if (!ready) throw new Error(`instance ${i} did not become ready:\n${children[i]!.output.join('')}`);
    }
    rp = await RelyingParty.discover(issuer, seeded.staffClient);
  }, 120_000);

  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
    await new Promise((resolve) => proxy?.close(resolve));
    await stores?.kv.close();
    await stores?.db.destroy();
    await dropDatabase?.();
    await cluster?.stop();
  });

  test('a full 2FA login with every request on another instance; replay and reuse refused', async () => {
    const before = served.length;
    await twoFactorLogin({ url: issuer }, rp, seeded.staff);
    const used = new Set(served.slice(before));
    expect(used.size).toBe(INSTANCES);
    for (const { output } of children) expect(output.join('')).not.toMatch(/"level":50/);
  });

  test('the same code, the same refresh token and the same TOTP code sent to two instances at once: one wins each time', async () => {
    const staffRp = await RelyingParty.discover(issuer, other.staffClient);
    // a code redeemed twice at the same moment (round robin: two different instances)
    const { request, next } = await passwordStep(new Browser(), staffRp, other.staff);
    expect(staffRp.isCallback(next.url)).toBe(true);
    const codeRace = await Promise.all([redeem(issuer, staffRp, next.url, request.verifier), redeem(issuer, staffRp, next.url, request.verifier)]);
    expect(codeRace.map((r) => r.status).sort()).toEqual([200, 400]);
    // the loser revoked the grant; a fresh login for the refresh race
    const fresh = await passwordStep(new Browser(), staffRp, other.staff);
    const issued = (await (await redeem(issuer, staffRp, fresh.next.url, fresh.request.verifier)).json()) as { refresh_token: string };
    const refreshRace = await Promise.all([refresh(issuer, staffRp.client, issued.refresh_token), refresh(issuer, staffRp.client, issued.refresh_token)]);
    expect(refreshRace.map((r) => r.status).sort()).toEqual([200, 400]);

    // one TOTP code in two logins at the same moment: at most one passes
    const account = other.portal;
    const portalRp = await RelyingParty.discover(issuer, other.portalClient);
    const { secret } = await enableOnAccountPage(new Browser(), issuer, portalRp, account);
    const code = totp(secret, 0, timeStepNow() * 30);
    const [a, b] = [new Browser(), new Browser()];
    const [stepA, stepB] = await Promise.all([passwordStep(a, portalRp, account), passwordStep(b, portalRp, account)]);
    const results = await Promise.all([a.submit(stepA.next, { code }, portalRp.isCallback), b.submit(stepB.next, { code }, portalRp.isCallback)]);
    expect(results.filter((p) => portalRp.isCallback(p.url) && new URL(p.url).searchParams.get('code'))).toHaveLength(1);
    expect(results.every((p) => p.status < 500)).toBe(true);
  });
});
