import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Browser, type Page } from '../helpers/browser.js';
import { browserCookieName, browserToken, CodeClock, createAccount, enable2fa } from '../helpers/manage.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';
import { passwordStep } from '../helpers/two-factor.js';

const asksCode = (page: Page) => Boolean(page.html().querySelector('form[action$="/code"] input[name=code]'));

/**
 * A remembered browser is known by a token in a cookie. A token that somebody else chose (a cookie
 * tossed from a sibling subdomain, set on a shared machine) or that leaked must never be the one
 * that lets a login skip the code: a fresh token is issued whenever a remembrance is written or used.
 */
describe.each(storeModes)('the remembrance token is renewed (%s)', (mode) => {
  const s = useScenario(mode);
  const clock = new CodeClock();

  const member = async () => {
    const account = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { prefix: 'slachtoffer' });
    const secret = await enable2fa(s.server, s.portalRp, account, clock);
    return { account, secret };
  };

  const signInWithCode = async (browser: Browser, account: Awaited<ReturnType<typeof member>>) => {
    const { next } = await passwordStep(browser, s.portalRp, account.account, { prompt: 'login' });
    expect(asksCode(next)).toBe(true);
    const callback = await browser.submit(next, { code: await clock.next(account.secret) }, s.portalRp.isCallback);
    expect(s.portalRp.isCallback(callback.url)).toBe(true);
  };

  const plant = (browser: Browser, name: string, token: string) => browser.jar.setCookie(`${name}=${token}; Path=/; HttpOnly; SameSite=Lax`, s.server.url);

  test('a token planted before the victim’s code is not the one remembered; the planter is still asked the code', async () => {
    const victim = await member();
    const planted = randomBytes(32).toString('base64url');
    const browser = new Browser();
    await plant(browser, browserCookieName(victim.account.id), planted);
    await plant(browser, 'sleutel.browser', planted); // the one shared cookie of earlier versions: read no more
    await signInWithCode(browser, victim);

    const issued = await browserToken(browser, s.server.url, victim.account.id);
    expect(issued).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued).not.toBe(planted);
    const { remembrances } = s.server.sleutel.flows;
    expect(await remembrances.isRemembered(victim.account.id, planted)).toBe(false);
    expect(await remembrances.isRemembered(victim.account.id, issued)).toBe(true);

    // the planter, elsewhere, with the token they chose and the victim's password: the code is asked
    for (const name of [browserCookieName(victim.account.id), 'sleutel.browser']) {
      const attacker = new Browser();
      await plant(attacker, name, planted);
      const { next } = await passwordStep(attacker, s.portalRp, victim.account);
      expect(asksCode(next)).toBe(true);
    }
  });

  test('a leaked token stops working at its holder’s next login, which the remembrance still spares the code', async () => {
    const victim = await member();
    const browser = new Browser();
    await signInWithCode(browser, victim);
    const leaked = (await browserToken(browser, s.server.url, victim.account.id))!;

    const { next } = await passwordStep(browser, s.portalRp, victim.account, { prompt: 'login' });
    expect(s.portalRp.isCallback(next.url)).toBe(true); // remembered: no code
    const renewed = (await browserToken(browser, s.server.url, victim.account.id))!;
    expect(renewed).not.toBe(leaked);
    expect(await s.server.sleutel.flows.remembrances.isRemembered(victim.account.id, leaked)).toBe(false);

    const thief = new Browser();
    await plant(thief, browserCookieName(victim.account.id), leaked);
    expect(asksCode((await passwordStep(thief, s.portalRp, victim.account)).next)).toBe(true);
  });
});
