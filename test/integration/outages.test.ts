import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CLIENT_CACHE_SECONDS } from '../../src/stores/clients.js';
import { openDatabase } from '../../src/stores/database.js';
import { TENANT_CACHE_SECONDS } from '../../src/stores/tenants.js';
import { MemoryStore, RedisStore } from '../../src/stores/kv/index.js';
import { Browser, messageOf } from '../helpers/browser.js';
import { havePostgresServer, haveRedisServer, OwnPostgres, OwnRedis } from '../helpers/own-servers.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { credentials, seedTenant, type Seeded } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { totp } from '../helpers/totp.js';
import { enableOnAccountPage, passwordStep } from '../helpers/two-factor.js';

/**
 * docs/rules.md § Security bar and issue 6: with Redis or Postgres gone, pages answer a clear 503
 * page and the API a JSON 503, no second factor is skipped, and once the store is back logins work
 * without a restart.
 */
const unavailable = 'Inloggen is tijdelijk niet mogelijk. Probeer het over een paar minuten opnieuw.';

if (!haveRedisServer) console.warn('outage tests: /usr/bin/redis-server is missing; the Redis outage is not tested');
(haveRedisServer ? describe : describe.skip)('Redis goes away and comes back', () => {
  let redis: OwnRedis;
  let server: TestServer;
  let seeded: Seeded;
  let rp: RelyingParty;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    const kv = new RedisStore(redis.url);
    const db = openDatabase({});
    server = await startServer('embedded', { stores: { db, kv, dispose: async () => { await kv.close(); await db.destroy(); } } });
    seeded = await seedTenant(server.sleutel.stores);
    rp = await RelyingParty.discover(server.url, seeded.staffClient);
  });
  afterAll(async () => {
    await server.close();
    await server.stores.dispose();
    await redis.down();
  });

  test('503 pages and JSON while it is down, never a skipped code; logins work again once it is back', async () => {
    const { secret } = await enableOnAccountPage(new Browser(), server.url, rp, seeded.staff);
    const remembered = new Browser();
    const first = await passwordStep(remembered, rp, seeded.staff);
    await remembered.submit(first.next, { code: totp(secret) }, rp.isCallback);
    // a login that has reached its form before the outage
    const pending = new Browser();
    const loginForm = await pending.follow((await rp.authorization()).url, rp.isCallback);

    await redis.down();

    // a new authorization request: the relying party hears temporarily_unavailable (OAuth's word for it)
    const authorize = await new Browser().follow((await rp.authorization()).url, rp.isCallback);
    expect(rp.isCallback(authorize.url)).toBe(true);
    expect(new URL(authorize.url).searchParams.get('error')).toBe('temporarily_unavailable');
    expect(new URL(authorize.url).searchParams.get('code')).toBeNull();
    const submitted = await pending.submit(loginForm, credentials(seeded.staff), rp.isCallback);
    expect(submitted.status).toBe(503);
    expect(messageOf(submitted)).toBe(unavailable);
    expect(rp.isCallback(submitted.url)).toBe(false);
    // the remembered browser gets no code either: no authorization succeeds while the store is gone
    const rememberedTry = await remembered.follow((await rp.authorization({ prompt: 'login' })).url, rp.isCallback);
    expect(new URL(rememberedTry.url).searchParams.get('code')).toBeNull();

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { kv: string } }).checks.kv).toBe('unreachable');
    const token = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${seeded.staffClient.clientId}:${seeded.staffClient.secret}`).toString('base64')}` },
      body: 'grant_type=refresh_token&refresh_token=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    });
    expect(token.status).toBe(503);
    expect(((await token.json()) as { error: string }).error).toBe('temporarily_unavailable');
    const api = await fetch(`${server.url}/manage/v1/tenants/${seeded.slug}/accounts`, { headers: { authorization: 'Bearer abcdefghijklmnopqrstuvwxyz0123456789' } });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: string }).error).toBe('temporarily_unavailable');

    await redis.up();
    let back = false;
    for (let i = 0; i < 50 && !back; i += 1) {
      back = (await fetch(`${server.url}/readyz`)).status === 200;
      if (!back) await new Promise((r) => setTimeout(r, 200));
    }
    expect(back).toBe(true);
    // Redis came back empty: sessions and remembrances are gone, so the code is asked again
    const again = await passwordStep(new Browser(), rp, seeded.staff);
    expect(again.next.html().querySelector('input[name=code]')).not.toBeNull();
    const { tokens } = await rp.login(new Browser(), credentials(seeded.portal)).catch(async () => {
      // the portal client belongs to the portal pool: use its own relying party
      const portalRp = await RelyingParty.discover(server.url, seeded.portalClient);
      return portalRp.login(new Browser(), credentials(seeded.portal));
    });
    expect(tokens.claims()!.sub).toBe(seeded.portal.id);
  });
});

if (!havePostgresServer) console.warn('outage tests: PostgreSQL server binaries are missing; the Postgres outage is not tested');
(havePostgresServer ? describe : describe.skip)('Postgres goes away and comes back', () => {
  let postgres: OwnPostgres;
  let server: TestServer;
  let seeded: Seeded;
  let rp: RelyingParty;

  beforeAll(async () => {
    postgres = await OwnPostgres.start();
    const db = openDatabase({ url: postgres.url, poolMax: 4 });
    const kv = new MemoryStore();
    server = await startServer('embedded', { stores: { db, kv, dispose: async () => { await kv.close(); await db.destroy(); } } });
    seeded = await seedTenant(server.sleutel.stores);
    rp = await RelyingParty.discover(server.url, seeded.portalClient);
  });
  afterAll(async () => {
    await server.close();
    await server.stores.dispose();
    await postgres.destroy();
  });

  test('503 while it is down; logins work again once it is back, without a restart', async () => {
    const pending = new Browser();
    const loginForm = await pending.follow((await rp.authorization()).url, rp.isCallback);

    await postgres.down();

    // the client and the cooperative were read a moment ago: the login screen is still shown,
    // but signing in needs the database
    const shown = await new Browser().follow((await rp.authorization()).url, rp.isCallback);
    expect(shown.status).toBe(200);
    const submitted = await pending.submit(loginForm, credentials(seeded.portal), rp.isCallback);
    expect(submitted.status).toBe(503);
    expect(messageOf(submitted)).toBe(unavailable);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    // once what was kept in memory has expired, the authorization request itself is answered 503
    await new Promise((r) => setTimeout(r, Math.max(CLIENT_CACHE_SECONDS, TENANT_CACHE_SECONDS) * 1000 + 200));
    const authorize = await new Browser().follow((await rp.authorization()).url, rp.isCallback);
    expect(authorize.status).toBe(503);
    expect(messageOf(authorize)).toBe(unavailable);

    await postgres.up();
    let back = false;
    for (let i = 0; i < 50 && !back; i += 1) {
      back = (await fetch(`${server.url}/readyz`)).status === 200;
      if (!back) await new Promise((r) => setTimeout(r, 200));
    }
    expect(back).toBe(true);
    const { tokens } = await rp.login(new Browser(), credentials(seeded.portal));
    expect(tokens.claims()!.sub).toBe(seeded.portal.id);
  });
});
