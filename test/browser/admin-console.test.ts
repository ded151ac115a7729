import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page, Response } from 'playwright-core';
import { CodeClock, createAccount, enable2fa } from '../helpers/manage.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded, type SeededAccount } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { CHROMIUM_PATH, SCREENS_DIR, chromiumAvailable, clickAndLoad, countScriptRequests, seriousViolations, startServerAndChromium, trackDocuments } from './chromium.js';

/**
 * The admin console in a real browser (issue 15): a key user (who is also coop_admin, like the
 * demo's beheerder) signs in with a real TOTP code, requires 2FA for one user, resets another,
 * reads how many staff "require for all" affects and switches it on, and resets a portal member —
 * on a phone (375 px) and at desktop width. On every screen: the CSP, no script, nothing scrolls
 * sideways, axe finds nothing serious or critical, and a screenshot is kept in test-artifacts/screens/.
 */

const viewports: { name: string; slug: string; options: BrowserContextOptions }[] = [
  { name: 'phone', slug: 'beheer-telefoon', options: { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
  { name: 'desktop', slug: 'beheer-bureau', options: { viewport: { width: 1280, height: 800 } } },
];

const available = chromiumAvailable();
if (!available) console.warn(`Browser tests of the admin console SKIPPED: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium).`);
const describeWithChromium = available ? describe : describe.skip;

describeWithChromium('the admin console in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  const clock = new CodeClock();

  beforeAll(async () => {
    fs.mkdirSync(SCREENS_DIR, { recursive: true });
    const started = await startServerAndChromium();
    server = started.server!;
    browser = started.browser!;
    if (started.failure) throw started.failure;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  describe.each(viewports)('at $name width', (viewport) => {
    let seeded: Seeded;
    let admin: SeededAccount;
    let adminSecret: string;
    /** one user to require 2FA for, one with 2FA to reset, and a portal member with 2FA */
    let toRequire: SeededAccount;
    let toReset: SeededAccount;
    let member: SeededAccount;
    let context: BrowserContext;
    let page: Page;
    let scripts: () => string[];
    let lastDocument: () => Response | undefined;

    beforeAll(async () => {
      seeded = await seedTenant(server.sleutel.stores, viewport.slug);
      const staffRp = await RelyingParty.discover(server.url, seeded.staffClient);
      const portalRp = await RelyingParty.discover(server.url, seeded.portalClient);
      admin = await createAccount(server, seeded.tenantId, 'staff', ['key_user', 'coop_admin'], { prefix: 'keyuser' });
      toRequire = await createAccount(server, seeded.tenantId, 'staff', [], { prefix: 'verplichten' });
      toReset = await createAccount(server, seeded.tenantId, 'staff', [], { prefix: 'resetten' });
      member = await createAccount(server, seeded.tenantId, 'portal', [], { prefix: 'lid' });
      adminSecret = await enable2fa(server, staffRp, admin, clock);
      await enable2fa(server, staffRp, toReset, clock);
      await enable2fa(server, portalRp, member, clock);
      context = await browser.newContext({ ...viewport.options, locale: 'nl-NL' });
      const origin = new URL(server.url).origin;
      await context.route((url) => url.origin !== origin, (route) => route.abort());
      scripts = countScriptRequests(context);
      page = await context.newPage();
      lastDocument = trackDocuments(page);
    });
    afterAll(() => context?.close());

    /** The checks of every console screen; the screenshot first, so a failing check still leaves it. */
    async function screen(name: string, status = 200) {
      await page.screenshot({ path: path.join(SCREENS_DIR, `${viewport.name}-admin-${name}.png`), fullPage: true });
      const document = lastDocument();
      expect(document?.status()).toBe(status);
      const csp = (await document!.allHeaders())['content-security-policy'];
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(await page.locator('script').count()).toBe(0);
      expect(scripts()).toEqual([]);
      const widths = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })')) as { scroll: number; client: number };
      expect(widths.scroll).toBeLessThanOrEqual(widths.client);
      const violations = await seriousViolations(page);
      if (violations.length) console.error(`axe on ${viewport.name}-admin-${name} (${page.url()}):\n${JSON.stringify(violations, null, 2)}`);
      expect(violations).toEqual([]);
    }

    const button = (name: string) => page.getByRole('button', { name, exact: true });
    const link = (name: string) => page.getByRole('link', { name, exact: true });
    const notice = () => page.locator('[role=status]').first().textContent();

    test('sign in with the password and a real TOTP code, then the users', async () => {
      await page.goto(`${server.url}/admin/${seeded.slug}`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Inloggen');
      await page.locator('#email').fill(admin.email);
      await page.locator('#password').fill(admin.password);
      await clickAndLoad(page, button('Inloggen'));
      await page.locator('input[name=code]').fill(await clock.next(adminSecret));
      await clickAndLoad(page, page.locator('form[action$="/code"] button[type=submit]').first());
      await expect(page.locator('h1').textContent()).resolves.toBe('Gebruikers');
      await expect(page.locator('main').textContent()).resolves.toContain(toRequire.email);
      await screen('gebruikers');
    });

    test('Verplicht voor deze gebruiker: ja', async () => {
      await page.locator('#q').fill(toRequire.email);
      await clickAndLoad(page, button('Zoeken'));
      await clickAndLoad(page, link(toRequire.email));
      await screen('gebruiker');
      await clickAndLoad(page, button('Verplicht voor deze gebruiker: ja'));
      await expect(notice()).resolves.toBe('Twee factor authenticatie is nu verplicht voor deze gebruiker.');
      expect((await server.sleutel.stores.accounts.findById(toRequire.id))!.twoFactorRequired).toBe(true);
    });

    test('reset for another user, after the confirmation', async () => {
      await page.goto(`${server.url}/admin/${seeded.slug}/users/${toReset.id}`);
      await clickAndLoad(page, link('reset'));
      await expect(page.locator('main').textContent()).resolves.toContain('alleen gebruikersnaam en wachtwoord');
      await screen('reset-bevestigen');
      await clickAndLoad(page, button('Ja, resetten'));
      await expect(notice()).resolves.toBe('Twee factor authenticatie is gereset.');
      expect(await server.sleutel.stores.secondFactors.isEnabled(toReset.id)).toBe(false);
    });

    test('Coöperatie: read how many staff "require for all" affects, then switch it on', async () => {
      await clickAndLoad(page, link('Coöperatie'));
      await screen('cooperatie');
      await clickAndLoad(page, link('Verplichten voor alle gebruikers…'));
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain('Waarschuwing');
      const affected = Number(/Dit raakt nu (\d+) gebruiker/.exec(text)?.[1]);
      expect(affected).toBe((await server.sleutel.stores.accounts.staffWithoutTwoFactor(seeded.tenantId)).length);
      expect(affected).toBeGreaterThanOrEqual(2); // toRequire and toReset have no 2FA now
      await screen('verplichten-voor-alle');
      await clickAndLoad(page, button('Ja, verplichten voor alle gebruikers'));
      await expect(notice()).resolves.toBe('Twee factor authenticatie is nu verplicht voor alle gebruikers.');
      expect((await server.sleutel.stores.tenants.findById(seeded.tenantId))!.policy.require_two_factor_for_all_staff).toBe(true);
    });

    test('Portal gebruikers: reset a member after the confirmation', async () => {
      await clickAndLoad(page, link('Portal gebruikers'));
      await page.locator('#q').fill(member.email);
      await clickAndLoad(page, button('Zoeken'));
      await screen('portal-gebruikers');
      await clickAndLoad(page, page.getByRole('link', { name: `reset (twee factor authenticatie van ${member.email})` }));
      await expect(page.locator('main').textContent()).resolves.toContain('weer inloggen met alleen wachtwoord');
      await clickAndLoad(page, button('Ja, resetten'));
      await expect(notice()).resolves.toBe('Twee factor authenticatie is gereset.');
      expect(await server.sleutel.stores.secondFactors.isEnabled(member.id)).toBe(false);
    });

    test('Overzicht: adoption per pool and the audit log', async () => {
      await clickAndLoad(page, link('Overzicht'));
      await expect(page.locator('main').textContent()).resolves.toContain('two_factor.reset');
      await screen('overzicht');
    });

    test('sign out', async () => {
      await clickAndLoad(page, button('Uitloggen'));
      await expect(page.locator('main').textContent()).resolves.toContain('U bent uitgelogd uit het beheer.');
      await screen('uitgelogd');
    });
  });
});
