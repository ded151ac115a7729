import { afterAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { credentials, seedTenant } from '../helpers/seed.js';
import { startServer, TEST_KEYS, type TestServer } from '../helpers/server.js';
import { openTestStores, storeModes } from '../helpers/stores.js';

/**
 * Issue 6: rotating signing keys, COOKIE_KEYS and ENCRYPTION_KEYS signs nobody out. Each step is a
 * restart on the same stores and the same address, as a rolling deploy would do.
 */
describe.each(storeModes)('key rotation without signing anybody out (%s)', (mode) => {
  const running: TestServer[] = [];
  // pooled client connections to the old process must notice it is gone before the new one starts
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  afterAll(async () => {
    for (const server of running) await server.close().catch(() => {});
  });

  test('signing key, cookie keys and encryption keys rotated one after another', async () => {
    const stores = await openTestStores(mode);
    try {
      const first = await startServer(mode, { stores });
      running.push(first);
      const port = Number(new URL(first.url).port);
      const seeded = await seedTenant(first.sleutel.stores);
      const rp = await RelyingParty.discover(first.url, seeded.staffClient);
      const browser = new Browser();
      const { tokens } = await rp.login(browser, credentials(seeded.staff));
      const oldKid = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()).kid as string;

      // 1. a new signing key, then a restart with new cookie keys (the old one still verifies)
      const { kid: newKid } = await first.sleutel.stores.signingKeys.rotate();
      await first.close();
      await settle();
      const rotatedCookies = `new-cookie-key-abcdefghijklmnopqrstuvwxyz012345,${TEST_KEYS.COOKIE_KEYS}`;
      const second = await startServer(mode, { stores, port, env: { COOKIE_KEYS: rotatedCookies } });
      running.push(second);
      expect(second.url).toBe(first.url);

      const jwks = (await (await fetch(`${second.url}/jwks`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
      await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks as never), { issuer: second.url, audience: seeded.staffClient.clientId });

      const rp2 = await RelyingParty.discover(second.url, seeded.staffClient);
      const refreshed = await oidc.refreshTokenGrant(rp2.config, tokens.refresh_token!);
      expect(JSON.parse(Buffer.from(refreshed.id_token!.split('.')[0]!, 'base64url').toString()).kid).toBe(newKid);
      // the browser's session (cookie signed with the old key) still signs in without a form
      const again = await rp2.authorization();
      const sso = await browser.follow(again.url, rp2.isCallback);
      expect(rp2.isCallback(sso.url)).toBe(true);

      // 2. a new first encryption key; re-encrypt; then a restart with the new key alone
      const newEncryption = `k2:${Buffer.alloc(32, 9).toString('base64')}`;
      await second.close();
      await settle();
      const third = await startServer(mode, { stores, port, env: { COOKIE_KEYS: rotatedCookies, ENCRYPTION_KEYS: `${newEncryption},${TEST_KEYS.ENCRYPTION_KEYS}` } });
      running.push(third);
      expect(await third.sleutel.stores.clients.reencrypt()).toBeGreaterThan(0);
      expect(await third.sleutel.stores.signingKeys.reencrypt()).toBe(2);
      await third.close();
      await settle();
      const fourth = await startServer(mode, { stores, port, env: { COOKIE_KEYS: rotatedCookies, ENCRYPTION_KEYS: newEncryption } });
      running.push(fourth);
      const rp4 = await RelyingParty.discover(fourth.url, seeded.staffClient);
      const stillRefreshing = await oidc.refreshTokenGrant(rp4.config, refreshed.refresh_token!);
      expect(stillRefreshing.access_token).toBeDefined();
      const last = await rp4.authorization();
      expect(rp4.isCallback((await browser.follow(last.url, rp4.isCallback)).url)).toBe(true);
      await fourth.close();
    } finally {
      await stores.dispose();
    }
  });
});
