import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CodeClock, enable2fa } from '../helpers/manage.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { CHROMIUM_PATH, SCREENS_DIR, chromiumAvailable, clickAndLoad, countScriptRequests, seriousViolations, startServerAndChromium } from './chromium.js';

/**
 * The account page's "Onthouden browsers" in a real Chromium (issue 21): two browsers that passed
 * the code are listed, the one looking marked; "Vergeet deze browser" forgets the other, and that
 * one is asked the code at its next sign-in. On a phone's width, without script, axe clean.
 */
const available = chromiumAvailable();
if (!available) console.warn(`Remembered-browser tests SKIPPED: no Chromium at ${CHROMIUM_PATH}.`);
const describeWithChromium = available ? describe : describe.skip;

const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

describeWithChromium('remembered browsers in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let seeded: Seeded;
  let secret: string;
  const clock = new CodeClock();
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    fs.mkdirSync(SCREENS_DIR, { recursive: true });
    const started = await startServerAndChromium();
    server = started.server!;
    browser = started.browser!;
    if (started.failure) throw started.failure;
    seeded = await seedTenant(server.sleutel.stores);
    const rp = await RelyingParty.discover(server.url, seeded.portalClient);
    secret = await enable2fa(server, rp, seeded.portal, clock);
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.close();
  });

  const accountPage = () => `${server.url}/account/two-factor?client_id=${seeded.portalClient.clientId}`;

  /** Signs the member in on the account page in a new browser window; answers whether the code was asked. */
  async function signIn(page: Page): Promise<boolean> {
    await page.goto(accountPage());
    await page.locator('#email').fill(seeded.portal.email);
    await page.locator('#password').fill(seeded.portal.password);
    await clickAndLoad(page, page.getByRole('button', { name: 'Inloggen', exact: true }));
    const asked = (await page.locator('#code').count()) > 0;
    if (asked) {
      await page.locator('#code').fill(await clock.next(secret));
      await clickAndLoad(page, page.getByRole('button', { name: 'Bevestigen', exact: true }));
    }
    expect(new URL(page.url()).pathname).toBe('/account/two-factor');
    return asked;
  }

  async function newWindow(options = {}) {
    const context = await browser.newContext({ locale: 'nl-NL', ...options });
    contexts.push(context);
    return { context, page: await context.newPage(), scripts: countScriptRequests(context) };
  }

  test('listed with "deze browser" marked; "Vergeet deze browser" makes the other one ask the code again', async () => {
    const laptop = await newWindow();
    const phone = await newWindow(PHONE);
    expect(await signIn(laptop.page)).toBe(true);
    expect(await signIn(phone.page)).toBe(true);

    await phone.page.reload();
    await expect(phone.page.getByRole('heading', { name: 'Onthouden browsers' }).count()).resolves.toBe(1);
    const entries = phone.page.locator('ul.remembered-browsers > li');
    await expect(entries.count()).resolves.toBe(2);
    await expect(phone.page.locator('ul.remembered-browsers > li.current').textContent()).resolves.toContain('(deze browser)');
    await phone.page.screenshot({ path: path.join(SCREENS_DIR, 'onthouden-browsers-telefoon.png'), fullPage: true });
    expect(await seriousViolations(phone.page)).toEqual([]);
    const width = await phone.page.evaluate<number>('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(375);

    // the phone forgets the laptop
    const other = phone.page.locator('ul.remembered-browsers > li:not(.current)');
    await clickAndLoad(phone.page, other.getByRole('button', { name: 'Vergeet deze browser' }));
    await expect(phone.page.getByRole('status').textContent()).resolves.toBeTruthy();
    await expect(entries.count()).resolves.toBe(1);

    // both sign in afresh (their sessions gone, each keeping its remembrance cookie): the laptop is
    // asked the code again, the phone still skips it
    const signOut = (context: BrowserContext) => context.clearCookies({ name: /^(?!sleutel\.browser\.)/ });
    await signOut(laptop.context);
    await signOut(phone.context);
    expect(await signIn(laptop.page)).toBe(true);
    expect(await signIn(phone.page)).toBe(false);
    expect(laptop.scripts().concat(phone.scripts())).toEqual([]);
  });
});
