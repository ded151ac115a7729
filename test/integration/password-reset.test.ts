import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { Browser, messageOf } from '../helpers/browser.js';
import { linkIn, Mailbox } from '../helpers/mailbox.js';
import { useScenario } from '../helpers/scenario.js';
import { credentials } from '../helpers/seed.js';
import { storeModes } from '../helpers/stores.js';
import { totp } from '../helpers/totp.js';
import { enableOnAccountPage, passwordStep } from '../helpers/two-factor.js';

/**
 * docs/rules.md, rule 12 and § Security bar (passwords): forgotten password, invitation, change,
 * rules — with a real SMTP server.
 */
describe.each(storeModes)('passwords (%s)', (mode) => {
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await Mailbox.start();
  });
  afterAll(() => mailbox.close());
  const s = useScenario(mode, { env: () => ({ SMTP_URL: mailbox.url }) });

  const reset = async (browser: Browser, email: string) => {
    const login = await browser.follow((await s.staffRp.authorization()).url, s.staffRp.isCallback);
    const forgot = await browser.follow(new URL(login.html().querySelector('a[href$="/forgot"]')!.getAttribute('href')!, s.server.url).href);
    return browser.submit(forgot, { email });
  };

  test('forgotten password: the same answer for known and unknown addresses; the mailed link sets a new password once; 2FA stays', async () => {
    const account = s.seeded.staff;
    const setup = new Browser();
    const { secret } = await enableOnAccountPage(setup, s.server.url, s.staffRp, account);

    const known = await reset(new Browser(), account.email);
    const unknown = await reset(new Browser(), 'niemand@zonnig.example');
    const normalise = (body: string) => body.replace(/\/interaction\/[^/"]+/g, '/interaction/UID').replace(/name="csrf" value="[^"]*"/g, '');
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(known.status);
    expect(normalise(unknown.body)).toBe(normalise(known.body));
    expect(messageOf(known)).toContain('Als dit e-mailadres bij ons bekend is');

    const mail = await mailbox.waitFor(account.email, (m) => m.text.includes('/password/reset?token='));
    expect(mail.subject).toContain('Nieuw wachtwoord');
    expect(mailbox.mails.some((m) => m.to.includes('niemand@zonnig.example'))).toBe(false);
    const link = linkIn(mail, '/password/reset?token=');

    const browser = new Browser();
    const form = await browser.follow(link);
    expect(form.html().querySelector('input[name=password]')).not.toBeNull();
    // rules first: a common password is refused and does not use the link up
    const common = await browser.submit(form, { password: 'wachtwoord123' });
    expect(common.status).toBe(400);
    expect(messageOf(common)).toContain('veel gebruikt');
    const short = await browser.submit(common, { password: 'kort' });
    expect(messageOf(short)).toContain('te kort');
    const done = await browser.submit(short, { password: 'een lange zin als wachtwoord' });
    expect(done.status).toBe(200);
    expect(messageOf(done)).toContain('Uw wachtwoord is opgeslagen');

    // the link works once
    const again = await new Browser().follow(link);
    expect(again.status).toBe(400);
    expect(messageOf(again)).toContain('ongeldig, verlopen of al gebruikt');

    // the old password no longer works; the new one does, and the code is still asked
    const old = await passwordStep(new Browser(), s.staffRp, account);
    expect(old.next.status).toBe(401);
    const fresh = new Browser();
    const withNew = await passwordStep(fresh, s.staffRp, { ...account, password: 'een lange zin als wachtwoord' });
    expect(withNew.next.html().querySelector('input[name=code]')).not.toBeNull();
    const callback = await fresh.submit(withNew.next, { code: totp(secret) }, s.staffRp.isCallback);
    expect(s.staffRp.isCallback(callback.url)).toBe(true);

    const changed = await mailbox.waitFor(account.email, (m) => m.subject.includes('gewijzigd'));
    expect(changed.text).toContain('Andere sessies zijn beëindigd');
    const events = await s.server.sleutel.stores.audit.list({ accountId: account.id, type: 'password.reset' });
    expect(events).toHaveLength(1);

    // restore for the other tests
    account.password = 'een lange zin als wachtwoord';
    await s.server.sleutel.flows.secondFactors.remove(account.id);
  });

  test('a reset ends the account\'s sessions and refresh tokens', async () => {
    const account = s.seeded.portal;
    const { tokens } = await s.portalRp.login(new Browser(), credentials(account));
    const token = await s.server.sleutel.flows.passwordTokens.issue(account.id, 'reset');
    const browser = new Browser();
    const form = await browser.follow(`${s.server.url}/password/reset?token=${token}`);
    await browser.submit(form, { password: 'nog een lange zin hier' });
    account.password = 'nog een lange zin hier';
    await expect(oidc.refreshTokenGrant(s.portalRp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('expired, unknown and malformed links are refused', async () => {
    for (const token of ['', 'x', 'A'.repeat(43), '../../etc/passwd', 'A'.repeat(5000)]) {
      const page = await new Browser().follow(`${s.server.url}/password/reset?token=${encodeURIComponent(token)}`);
      expect(page.status).toBe(400);
    }
    // an expired link: its key gone from the store (TTL passed)
    const token = await s.server.sleutel.flows.passwordTokens.issue(s.seeded.portal.id, 'reset');
    const { createHash } = await import('node:crypto');
    await s.server.sleutel.stores.kv.delete(`password-token:${createHash('sha256').update(token).digest('base64url')}`);
    expect((await new Browser().follow(`${s.server.url}/password/reset?token=${token}`)).status).toBe(400);
  });

  test('reset requests are rate-limited per address without changing the answer', async () => {
    const email = s.seeded.portal.email;
    const before = mailbox.mails.filter((m) => m.to.includes(email) && m.subject.includes('Nieuw wachtwoord')).length;
    const portalLogin = async () => {
      const browser = new Browser();
      const login = await browser.follow((await s.portalRp.authorization()).url, s.portalRp.isCallback);
      const forgot = await browser.follow(new URL(login.html().querySelector('a[href$="/forgot"]')!.getAttribute('href')!, s.server.url).href);
      return browser.submit(forgot, { email });
    };
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await portalLogin());
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    await new Promise((r) => setTimeout(r, 1500));
    const after = mailbox.mails.filter((m) => m.to.includes(email) && m.subject.includes('Nieuw wachtwoord')).length;
    expect(after - before).toBe(3);
  });

  test('an invitation from the management API lets the person choose a password (link valid once)', async () => {
    const { tenantId, slug } = s.seeded;
    await s.server.sleutel.stores.clients.create({ clientId: 'svc-pw', tenantId, pool: null, secret: 's'.repeat(40), redirectUris: [], postLogoutRedirectUris: [] });
    const tokenResponse = await fetch(`${s.server.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`svc-pw:${'s'.repeat(40)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=manage',
    });
    const { access_token } = (await tokenResponse.json()) as { access_token: string };
    const created = await fetch(`${s.server.url}/manage/v1/tenants/${slug}/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pool: 'portal', email: 'nieuw@zonnig.example', name: 'Nieuw Lid' }),
    });
    expect(created.status).toBe(201);
    const mail = await mailbox.waitFor('nieuw@zonnig.example');
    const browser = new Browser();
    const form = await browser.follow(linkIn(mail, '/password/reset?token='));
    expect(form.html().querySelector('h1')?.text).toBe('Kies uw wachtwoord');
    const done = await browser.submit(form, { password: 'mijn eigen lange wachtwoord' });
    expect(done.status).toBe(200);
    const { tokens } = await s.portalRp.login(new Browser(), { email: 'nieuw@zonnig.example', password: 'mijn eigen lange wachtwoord' });
    expect(tokens.claims()).toMatchObject({ email: 'nieuw@zonnig.example', email_verified: true });

    const weak = await fetch(`${s.server.url}/manage/v1/tenants/${slug}/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pool: 'portal', email: 'zwak@zonnig.example', password: 'password1' }),
    });
    expect(weak.status).toBe(422);
  });

  test('change password on the account page: the current password is required; other sessions end', async () => {
    const account = s.seeded.portal;
    const other = await s.portalRp.login(new Browser(), credentials(account));
    const browser = new Browser();
    let page = await browser.follow(`${s.server.url}/account/two-factor?client_id=${s.portalRp.client.clientId}`);
    page = await browser.submit(page, credentials(account));
    const wrong = await browser.submit(page, { current_password: 'fout', password: 'een nieuw lang wachtwoord' }, undefined, '/account/password');
    expect(wrong.status).toBe(401);
    const common = await browser.submit(wrong, { current_password: account.password, password: 'password123' }, undefined, '/account/password');
    expect(common.status).toBe(400);
    const done = await browser.submit(common, { current_password: account.password, password: 'een nieuw lang wachtwoord' }, undefined, '/account/password');
    expect(messageOf(done)).toContain('Uw wachtwoord is gewijzigd');
    account.password = 'een nieuw lang wachtwoord';
    await expect(oidc.refreshTokenGrant(s.portalRp.config, other.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // this browser's own session survives: the account page still knows it
    const still = await browser.follow(`${s.server.url}/account/two-factor`);
    expect(still.html().querySelector('input[name=current_password]')).not.toBeNull();
  });
});
