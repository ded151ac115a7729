import { describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import { Browser, type Page } from '../helpers/browser.js';
import { outboxFiles } from '../helpers/outbox.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';

/**
 * docs/rules.md § Security bar: wrong unlock passwords on the account page count toward the
 * account's lockout like wrong login passwords, and the lock they cause is the same lock — an
 * `account.locked` audit event and a mail to the holder — not a silent one.
 */
describe.each(storeModes)('lockout by the account page\'s unlock (%s)', (mode) => {
  const s = useScenario(mode);
  const alertOf = (page: Page) => page.html().querySelector('[role=alert]')?.text.trim();

  test('the 5th wrong unlock password locks the account: 429, an account.locked event and the lock mail', async () => {
    const member = s.seeded.portal;
    const { flows, stores } = s.server.sleutel;
    await flows.lockout.clear(member.id);
    const mailsBefore = outboxFiles(s.server, 'account_locked').length;

    const browser = new Browser();
    const login = await browser.follow(`${s.server.url}/account/two-factor?client_id=${encodeURIComponent(s.portalRp.client.clientId)}`);
    let page = await browser.submit(login, { email: member.email, password: member.password });
    expect(new URL(page.url).pathname).toBe('/account/two-factor');

    for (let i = 1; i <= 4; i += 1) {
      page = await browser.submit(page, { current_password: `${member.password}-niet-${i}` }, undefined, '/unlock');
      expect(page.status).toBe(401);
      expect(alertOf(page)).toBe('Het wachtwoord is onjuist.');
    }
    const locked = await browser.submit(page, { current_password: `${member.password}-niet-5` }, undefined, '/unlock');
    expect(locked.status).toBe(429);
    expect(await flows.lockout.lockedFor(member.id)).toBeGreaterThan(890);

    const events = await stores.audit.list({ accountId: member.id, type: 'account.locked' });
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toMatchObject({ failures: 5, seconds: 900 });
    const mails = outboxFiles(s.server, 'account_locked');
    expect(mails.length).toBe(mailsBefore + 1);
    expect(mails.some((file) => fs.readFileSync(file, 'utf8').includes(member.email))).toBe(true);
    expect(await stores.audit.list({ accountId: member.id, type: 'account_page.unlock_failed' })).toHaveLength(5);

    await flows.lockout.clear(member.id);
  });
});
