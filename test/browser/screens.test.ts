import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page, Response } from 'playwright-core';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { previousStepCode, totp } from '../helpers/totp.js';
import { CHROMIUM_PATH, SCREENS_DIR, chromiumAvailable, clickAndLoad, countScriptRequests, readQrCode, seriousViolations, startServerAndChromium, trackDocuments } from './chromium.js';

/**
 * The screens in a real browser (issue 6 item 8): login, enrollment on the account page with the
 * QR code read from a screenshot, the code at the next login, the recovery path and the error
 * screen — on a phone (375 px) and at desktop width. On every screen: axe finds nothing serious or
 * critical, the page loads no script and carries the CSP, nothing scrolls sideways, and a
 * full-page screenshot is kept in test-artifacts/screens/.
 */

const viewports: { name: string; slug: string; options: BrowserContextOptions }[] = [
  { name: 'phone', slug: 'telefoon', options: { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
  { name: 'desktop', slug: 'bureau', options: { viewport: { width: 1280, height: 800 } } },
];

const available = chromiumAvailable();
if (!available) {
  console.warn(`Browser tests of the screens SKIPPED: no Chromium at ${CHROMIUM_PATH} (install Debian's package: apt-get install chromium; .ci/run does this).`);
}
const describeWithChromium = available ? describe : describe.skip;

interface Session {
  context: BrowserContext;
  page: Page;
  /** the URLs of the relying party's callback the browser reached */
  callbacks: string[];
  scripts: () => string[];
  lastDocument: () => Response | undefined;
}

/**
 * The relying party's own web server: the page its redirect URI shows. A real one, because the
 * browser reaches the callback through Sleutel's 303, and Playwright never routes a request that
 * follows a redirect (see the note on page.route), so page.route('https://rp.example/**') could not
 * answer it: the browser would try to resolve rp.example. `localhost` is another site than Sleutel's
 * 127.0.0.1, as a real relying party is.
 */
async function startWebsite(): Promise<{ url: string; close(): Promise<void> }> {
  const website = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end('<!doctype html><html lang="nl"><title>Website</title><h1>Terug bij de website</h1></html>');
  });
  await new Promise<void>((resolve) => website.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(website.address() as AddressInfo).port}`,
    close: async () => {
      website.closeAllConnections();
      await new Promise((resolve) => website.close(resolve));
    },
  };
}

describeWithChromium('the screens in Chromium', () => {
  let server: TestServer;
  let website: Awaited<ReturnType<typeof startWebsite>>;
  let browser: Browser;

  beforeAll(async () => {
    fs.mkdirSync(SCREENS_DIR, { recursive: true });
    website = await startWebsite();
    const started = await startServerAndChromium();
    server = started.server!;
    browser = started.browser!;
    if (started.failure) throw started.failure;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await website?.close();
  });

  describe.each(viewports)('at $name width', (viewport) => {
    let seeded: Seeded;
    let rp: RelyingParty;
    const sessions: Session[] = [];
    /** what the enrollment yields, for the logins after it */
    const enrolled = { secret: '', recoveryCode: '' };

    beforeAll(async () => {
      seeded = await seedTenant(server.sleutel.stores, viewport.slug, website.url);
      rp = await RelyingParty.discover(server.url, seeded.portalClient);
    });
    afterAll(async () => {
      for (const session of sessions) await session.context.close();
    });

    /** A fresh browser (no cookies). It may reach Sleutel and the website; anything else is refused. */
    async function freshBrowser(): Promise<Session> {
      const context = await browser.newContext({ ...viewport.options, locale: 'nl-NL' });
      const allowed = new Set([new URL(server.url).origin, new URL(website.url).origin]);
      await context.route(
        (url) => !allowed.has(url.origin),
        (route) => route.abort(),
      );
      // the callback URL with the code, as the browser requested it from the website
      const callbacks: string[] = [];
      context.on('request', (request) => {
        if (request.url().startsWith(seeded.portalClient.redirectUri)) callbacks.push(request.url());
      });
      const scripts = countScriptRequests(context);
      const page = await context.newPage();
      const session = { context, page, callbacks, scripts, lastDocument: trackDocuments(page) };
      sessions.push(session);
      return session;
    }

    /** Everything checked on each screen; the screenshot is taken first, so a failing check still leaves it. */
    async function screen(session: Session, name: string, status = 200) {
      const { page } = session;
      await page.screenshot({ path: path.join(SCREENS_DIR, `${viewport.name}-${name}.png`), fullPage: true });

      const document = session.lastDocument();
      expect(document?.url()).toContain(server.url);
      expect(document?.status()).toBe(status);
      const csp = (await document!.allHeaders())['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');

      // no JavaScript: no script element, no script loaded (checked before axe is evaluated)
      expect(await page.locator('script').count()).toBe(0);
      expect(session.scripts()).toEqual([]);

      const layout = (await page.evaluate(`(() => {
        const root = document.documentElement;
        const main = document.querySelector('main');
        const style = getComputedStyle(main);
        const content = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const shown = (el) => el.getBoundingClientRect().width > 0;
        const box = (el) => el.getBoundingClientRect();
        const qr = document.querySelector('img.qr');
        return {
          scrollWidth: root.scrollWidth,
          clientWidth: root.clientWidth,
          content,
          buttons: [...document.querySelectorAll('main button:not(.link), main a.button')].filter(shown)
            .map((el) => ({ text: el.textContent.trim(), width: box(el).width, height: box(el).height })),
          inputs: [...document.querySelectorAll('main input:not([type=hidden])')].filter(shown)
            .map((el) => ({ name: el.name, width: box(el).width, fontSize: parseFloat(getComputedStyle(el).fontSize) })),
          qr: qr && { left: box(qr).left, right: box(qr).right, width: box(qr).width, loaded: qr.complete && qr.naturalWidth > 0 },
          // groups of the key or recovery code that wrap over two lines (to be typed, they must stay whole)
          splitGroups: [...document.querySelectorAll('.key code, .recovery-code code')].flatMap((code) => {
            const text = code.firstChild;
            const split = [];
            for (const group of text ? text.data.matchAll(/[^ -]+/g) : []) {
              const range = document.createRange();
              range.setStart(text, group.index);
              range.setEnd(text, group.index + group[0].length);
              if (new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1) split.push(group[0]);
            }
            return split;
          }),
        };
      })()`)) as {
        scrollWidth: number;
        clientWidth: number;
        content: number;
        buttons: { text: string; width: number; height: number }[];
        inputs: { name: string; width: number; fontSize: number }[];
        qr: { left: number; right: number; width: number; loaded: boolean } | null;
        splitGroups: string[];
      };
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.clientWidth); // nothing scrolls sideways
      for (const button of layout.buttons) expect({ ...button, fullWidth: button.width >= layout.content - 1, tappable: button.height >= 44 }).toMatchObject({ fullWidth: true, tappable: true });
      for (const input of layout.inputs) expect({ ...input, fullWidth: input.width >= layout.content - 1, noZoom: input.fontSize >= 16 }).toMatchObject({ fullWidth: true, noZoom: true });
      expect(layout.splitGroups).toEqual([]);
      if (layout.qr) {
        expect(layout.qr.loaded).toBe(true);
        expect(layout.qr.left).toBeGreaterThanOrEqual(0);
        expect(layout.qr.right).toBeLessThanOrEqual(layout.clientWidth);
        expect(layout.qr.width).toBeGreaterThanOrEqual(200);
      }

      const violations = await seriousViolations(page);
      if (violations.length) console.error(`axe on ${viewport.name}-${name} (${page.url()}):\n${JSON.stringify(violations, null, 2)}`);
      expect(violations).toEqual([]);
    }

    const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

    /** The login screen of a new authorization request, filled in and sent. */
    async function logIn(session: Session, params: Record<string, string> = {}) {
      const request = await rp.authorization(params);
      await session.page.goto(request.url);
      await expect(session.page.locator('h1').textContent()).resolves.toBe('Inloggen');
      await session.page.locator('#email').fill(seeded.portal.email);
      await session.page.locator('#password').fill(seeded.portal.password);
      await clickAndLoad(session.page, button(session.page, 'Inloggen'));
      return request;
    }

    /** Reads the QR code from a screenshot of its image; checks it against the key shown as text. */
    async function secretFromQrCode(page: Page) {
      const uri = new URL(await readQrCode(page.locator('img.qr')));
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.host).toBe('totp');
      const secret = uri.searchParams.get('secret') ?? '';
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(uri.searchParams.get('issuer')).toBe(`Login Coöperatie ${viewport.slug}`);
      expect(decodeURIComponent(uri.pathname)).toContain(seeded.portal.email);
      const key = (await page.locator('.key code').textContent()) ?? '';
      expect(key.replace(/\s/g, '')).toBe(secret);
      return secret;
    }

    test('login: the login screen, a wrong password, then back at the website with a code', async () => {
      const session = await freshBrowser();
      const { page } = session;
      const request = await rp.authorization();
      await page.goto(request.url);
      await screen(session, '01-login');
      await expect(page.locator('label[for=email]').textContent()).resolves.toBe('E-mailadres');

      await page.locator('#email').fill(seeded.portal.email);
      await page.locator('#password').fill('niet-het-goede-wachtwoord');
      await clickAndLoad(page, button(page, 'Inloggen'));
      await expect(page.getByRole('alert').textContent()).resolves.toBe('Het e-mailadres of het wachtwoord is onjuist.');
      await screen(session, '02-login-wrong-password', 401);

      await page.locator('#password').fill(seeded.portal.password);
      await clickAndLoad(page, button(page, 'Inloggen'));
      expect(session.callbacks).toHaveLength(1);
      expect(page.url()).toBe(session.callbacks[0]);
      const tokens = await rp.exchange(session.callbacks[0]!, request);
      expect(tokens.claims()).toMatchObject({ email: seeded.portal.email, acr: 'urn:sleutel:acr:pwd', amr: ['pwd'] });
    });

    test('enrollment on the account page: Ontgrendel, Twee factor inschakelen, the QR code read from a screenshot, Bevestigen', async () => {
      const session = await freshBrowser();
      const { page } = session;
      await page.goto(`${server.url}/account/two-factor?client_id=${seeded.portalClient.clientId}`);
      await screen(session, '03-account-sign-in');
      await page.locator('#email').fill(seeded.portal.email);
      await page.locator('#password').fill(seeded.portal.password);
      await clickAndLoad(page, button(page, 'Inloggen'));
      expect(new URL(page.url()).pathname).toBe('/account/two-factor');
      await expect(page.locator('p.status').textContent()).resolves.toBe('Twee factor authenticatie is niet geactiveerd.');
      await screen(session, '04-account');

      await page.locator('#current_password').fill(seeded.portal.password);
      await clickAndLoad(page, button(page, 'Ontgrendel'));
      await expect(page.getByRole('status').textContent()).resolves.toContain('Ontgrendeld.');
      await screen(session, '05-account-unlocked');

      await clickAndLoad(page, button(page, 'Twee factor inschakelen'));
      await expect(page.locator('h1').textContent()).resolves.toBe('Twee factor inschakelen');
      await screen(session, '06-account-enroll');
      const secret = await secretFromQrCode(page);

      // the previous step's code (accepted: ±1 step), so that the next login's code of "now" is no replay
      await page.locator('#code').fill(await previousStepCode(secret));
      await clickAndLoad(page, button(page, 'Bevestigen'));
      await expect(page.getByRole('status').textContent()).resolves.toBe('Twee factor authenticatie is ingeschakeld.');
      const recoveryCode = ((await page.locator('#recovery-code').textContent()) ?? '').trim();
      expect(recoveryCode).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
      await screen(session, '07-account-recovery-code');
      Object.assign(enrolled, { secret, recoveryCode });
    });

    test('the code at the next login, in a fresh browser', async () => {
      expect(enrolled.secret).not.toBe('');
      const session = await freshBrowser();
      const { page } = session;
      const request = await logIn(session);
      await expect(page.locator('h1').textContent()).resolves.toBe('Twee factor authenticatie');
      await screen(session, '08-challenge');
      await expect(page.locator('#code').getAttribute('autocomplete')).resolves.toBe('one-time-code');

      await page.locator('#code').fill(totp(enrolled.secret, 0));
      await clickAndLoad(page, button(page, 'Bevestigen'));
      expect(session.callbacks).toHaveLength(1);
      const tokens = await rp.exchange(session.callbacks[0]!, request);
      expect(tokens.claims()).toMatchObject({ acr: 'urn:sleutel:acr:2fa', amr: ['pwd', 'otp'] });
    });

    test('the recovery path: the recovery code signs in once and leads to enrollment', async () => {
      expect(enrolled.recoveryCode).not.toBe('');
      const session = await freshBrowser();
      const { page } = session;
      const request = await logIn(session);
      await clickAndLoad(page, page.getByRole('link', { name: 'Telefoon kwijt of stuk? Gebruik uw herstelcode' }));
      await expect(page.locator('h1').textContent()).resolves.toBe('Herstelcode gebruiken');
      await screen(session, '09-recovery');

      await page.locator('#recovery_code').fill(enrolled.recoveryCode);
      await clickAndLoad(page, button(page, 'Inloggen met herstelcode'));
      await expect(page.locator('h1').textContent()).resolves.toBe('Twee factor inschakelen');
      await screen(session, '10-login-enroll');

      // enrolling again with the new phone: a new secret, a new recovery code, then back at the website
      const secret = await secretFromQrCode(page);
      expect(secret).not.toBe(enrolled.secret);
      await page.locator('#code').fill(totp(secret, 1));
      await clickAndLoad(page, button(page, 'Bevestigen'));
      const recoveryCode = ((await page.locator('#recovery-code').textContent()) ?? '').trim();
      expect(recoveryCode).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
      expect(recoveryCode).not.toBe(enrolled.recoveryCode);
      await screen(session, '11-login-recovery-code');

      await clickAndLoad(page, button(page, 'Ik heb de code bewaard, doorgaan'));
      expect(session.callbacks).toHaveLength(1);
      const tokens = await rp.exchange(session.callbacks[0]!, request);
      expect(tokens.claims()?.amr).toEqual(expect.arrayContaining(['pwd', 'rec']));
    });

    test('the error screen of an invalid request', async () => {
      const session = await freshBrowser();
      const { page } = session;
      const { url } = await rp.authorization({ redirect_uri: 'https://elders.example/callback' });
      await page.goto(url);
      await expect(page.getByRole('alert').textContent()).resolves.toBe('De website die u naar deze pagina stuurde deed een ongeldig verzoek.');
      await screen(session, '12-error', 400);
      expect(session.callbacks).toEqual([]);
    });
  });
});
