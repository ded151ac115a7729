import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { Browser } from '../helpers/browser.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import { startServer, TEST_KEYS, type TestServer } from '../helpers/server.js';
import { createDatabase, realServers } from '../helpers/stores.js';
import { openDatabase } from '../../src/stores/database.js';
import { RedisStore } from '../../src/stores/kv/index.js';
import { freePort } from '../helpers/ports.js';

// A Redis database index of its own: the second process uses REDIS_URL as an operator would (no prefix).
const REDIS_DB = 11;

(realServers ? describe : describe.skip)('two Sleutel processes on one Postgres and Redis (needs DATABASE_URL and REDIS_URL)', () => {
  let first: TestServer;
  let second: { url: string; child: ChildProcess; output: string[] };
  let seeded: Seeded;
  let dropDatabase: () => Promise<void>;
  let kv: RedisStore;

  beforeAll(async () => {
    const database = await createDatabase();
    dropDatabase = database.drop;
    const redisUrl = new URL(process.env.REDIS_URL!);
    redisUrl.pathname = `/${REDIS_DB}`;
    kv = new RedisStore(redisUrl.href);
    await kv.redis.flushdb();
    const db = openDatabase({ url: database.url, poolMax: 5 });
    first = await startServer('postgres+redis', { stores: { db, kv, databaseUrl: database.url, dispose: async () => {} } });
    seeded = await seedTenant(first.sleutel.stores);

    const port = await freePort();
    const output: string[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, PORT: String(port), ISSUER: first.url, DATABASE_URL: database.url, REDIS_URL: redisUrl.href, LOG_LEVEL: 'warn', ...TEST_KEYS },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    second = { url: `http://127.0.0.1:${port}`, child, output };
    for (let i = 0; i < 150; i += 1) {
      const ok = await fetch(`${second.url}/readyz`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`second process did not become ready:\n${output.join('')}`);
  });

  afterAll(async () => {
    if (second?.child.exitCode === null) second.child.kill('SIGKILL');
    await first?.close();
    await first?.stores.db.destroy();
    await kv?.redis.flushdb();
    await kv?.close();
    await dropDatabase?.();
  });

  test('a login started on the first finishes on the second; each accepts the other\'s tokens', async () => {
    const rp = await RelyingParty.discover(first.url, seeded.staffClient);
    const browser = new Browser();
    const request = await rp.authorization();
    const loginPage = await browser.follow(request.url, rp.isCallback);
    expect(loginPage.url.startsWith(`${first.url}/interaction/`)).toBe(true);

    // the same form, posted to the other instance (as a load balancer without sticky sessions would)
    const action = loginPage.html().querySelector('form')!.getAttribute('action')!;
    const csrf = loginPage.html().querySelector('input[name=csrf]')!.getAttribute('value')!;
    const callback = await browser.follow(`${second.url}${action}`, rp.isCallback, {
      method: 'POST',
      form: { csrf, email: seeded.staff.email, password: seeded.staff.password },
    });
    expect(rp.isCallback(callback.url)).toBe(true);
    expect(new URL(callback.url).searchParams.get('iss')).toBe(first.url);

    const tokens = await rp.exchange(callback.url, request); // code issued by the second, redeemed at the first
    expect(tokens.claims()!.sub).toBe(seeded.staff.id);

    const userinfo = await fetch(`${second.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(200);
    expect(((await userinfo.json()) as { sub: string }).sub).toBe(seeded.staff.id);

    const basic = Buffer.from(`${seeded.staffClient.clientId}:${seeded.staffClient.secret}`).toString('base64');
    const refreshed = await fetch(`${second.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
    });
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as { access_token: string };
    const back = await fetch(`${first.url}/me`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(back.status).toBe(200);

    // both serve the same signing keys from the database
    const [jwksA, jwksB] = await Promise.all([first.url, second.url].map((u) => fetch(`${u}/jwks`).then((r) => r.json())));
    expect(jwksB).toEqual(jwksA);
  });

  test('SIGTERM stops the second process cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => second.child.on('exit', (code) => resolve(code)));
    second.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
