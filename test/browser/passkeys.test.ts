import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort } from '../helpers/ports.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM_PATH, chromiumAvailable, clickAndLoad, launchChromium } from './chromium.js';

/**
 * Passkeys in a real Chromium (issue 21), with the DevTools protocol's virtual authenticator
 * (WebAuthn.addVirtualAuthenticator) standing in for a phone or security key: added on the account
 * page through the browser's own WebAuthn API and our /assets/passkey.js under the real CSP, used
 * to sign in after the password in a browser without Sleutel's cookies, then removed.
 * ISSUER is http://localhost:PORT: Chromium runs WebAuthn for a host name in a secure context only.
 */
const available = chromiumAvailable();
if (!available) console.warn(`Passkey browser tests SKIPPED: no Chromium at ${CHROMIUM_PATH}.`);
const describeWithChromium = available ? describe : describe.skip;

describeWithChromium('passkeys in Chromium with a virtual authenticator', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  let seeded: Seeded;
  let context: BrowserContext;
  let page: Page;
  const scriptErrors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    [server, browser] = await Promise.all([startServer('embedded', { port, env: { ISSUER: base } }), launchChromium()]);
    seeded = await seedTenant(server.sleutel.stores);
    context = await browser.newContext({ locale: 'nl-NL' });
    page = await context.newPage();
    page.on('pageerror', (error) => scriptErrors.push(error.message));
    // a script of ours that fails to load or run (the browser's own favicon request is no script)
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script' && response.status() >= 400) scriptErrors.push(`${response.status()} ${response.url()}`);
    });
    // the authenticator belongs to this page's browser: it keeps the passkey across the cookies' loss
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  const button = (name: string) => page.getByRole('button', { name, exact: true });
  const member = () => seeded.portal;

  async function signInWithPassword() {
    await page.goto(`${base}/account/two-factor?client_id=${seeded.portalClient.clientId}`);
    await page.locator('#email').fill(member().email);
    await page.locator('#password').fill(member().password);
    await clickAndLoad(page, button('Inloggen'));
  }

  test('added on the account page, used to sign in after the password, then removed', async () => {
    await signInWithPassword();
    expect(new URL(page.url()).pathname).toBe('/account/two-factor');
    await page.locator('#current_password').fill(member().password);
    await clickAndLoad(page, button('Ontgrendel'));

    // our script shows the form (it is hidden for a browser without JavaScript)
    await page.locator('#passkey_name').fill('iPhone Anna');
    await clickAndLoad(page, button('Passkey toevoegen'));
    const recoveryCode = ((await page.locator('#recovery-code').textContent()) ?? '').trim();
    expect(recoveryCode).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
    const [stored] = await server.sleutel.flows.passkeys.listByAccount(member().id);
    expect(stored?.name).toBe('iPhone Anna');

    // signed out: this browser forgets Sleutel's cookies (session and remembrance), the authenticator stays
    await context.clearCookies();
    await signInWithPassword();
    await expect(page.locator('h1').textContent()).resolves.toBe('Inloggen met uw passkey');
    await clickAndLoad(page, button('Gebruik passkey'));
    expect(new URL(page.url()).pathname).toBe('/account/two-factor');
    const used = await server.sleutel.stores.db('audit_events').where({ account_id: member().id, type: 'passkey.used' }).select('details');
    expect(used).toHaveLength(1);
    await expect(page.locator('ul.passkeys').textContent()).resolves.toContain('iPhone Anna');

    await page.locator('#current_password').fill(member().password);
    await clickAndLoad(page, button('Ontgrendel'));
    await clickAndLoad(page, button('Verwijderen'));
    await clickAndLoad(page, button('Ja, verwijderen'));
    await expect(page.getByRole('status').textContent()).resolves.toContain('De passkey is verwijderd.');
    expect(await server.sleutel.flows.passkeys.countByAccount(member().id)).toBe(0);
    expect(scriptErrors).toEqual([]);
  });
});
