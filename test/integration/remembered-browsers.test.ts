import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { RemembranceStore } from '../../src/stores/remembrances.js';
import { Browser, type Page } from '../helpers/browser.js';
import { browserToken, CodeClock, createAccount, enable2fa } from '../helpers/manage.js';
import { useScenario } from '../helpers/scenario.js';
import type { SeededAccount } from '../helpers/seed.js';
import { storeModes } from '../helpers/stores.js';
import { passwordStep } from '../helpers/two-factor.js';

/**
 * The account page's list of remembered browsers (issue 21; docs/rules.md, rule 11): every browser
 * that skips the code for the account, described from the User-Agent of the login with the code,
 * with "Vergeet deze browser" and "Vergeet alle" — through real HTTP, on both store modes.
 */

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
const nl = JSON.parse(fs.readFileSync(new URL('../../interactions/locales/nl.json', import.meta.url), 'utf8')) as Record<string, string>;
const en = JSON.parse(fs.readFileSync(new URL('../../interactions/locales/en.json', import.meta.url), 'utf8')) as Record<string, string>;

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const asksCode = (page: Page) => Boolean(page.html().querySelector('form[action$="/code"] input[name=code]'));
const alertOf = (page: Page) => page.html().querySelector('[role=alert]')?.text.trim();
const noticeOf = (page: Page) => page.html().querySelector('[role=status]')?.text.trim();
const csrfOf = (page: Page) => page.html().querySelector('input[name=csrf]')!.getAttribute('value')!;

/** The list as the page shows it. */
const listed = (page: Page) =>
  page
    .html()
    .querySelectorAll('ul.remembered-browsers li')
    .map((li) => ({
      name: li.querySelector('strong')!.text.trim(),
      current: li.classList.contains('current') && li.querySelector('.this-browser') !== null,
      id: li.querySelector('input[name=browser]')!.getAttribute('value')!,
      times: li.querySelectorAll('time').map((t) => t.getAttribute('datetime')!),
    }));

describe.each(storeModes)('remembered browsers on the account page (%s)', (mode) => {
  const s = useScenario(mode);
  const clock = new CodeClock();
  const flows = () => s.server.sleutel.flows;
  const accountPageUrl = () => `${s.server.url}/account/two-factor?client_id=${encodeURIComponent(s.portalRp.client.clientId)}`;

  const member = async () => {
    const account = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { prefix: 'lid' });
    const secret = await enable2fa(s.server, s.portalRp, account, clock);
    return { account, secret };
  };
  type Member = Awaited<ReturnType<typeof member>>;

  const signInWithCode = async (browser: Browser, m: Member) => {
    const { next } = await passwordStep(browser, s.portalRp, m.account, { prompt: 'login' });
    expect(asksCode(next)).toBe(true);
    const callback = await browser.submit(next, { code: await clock.next(m.secret) }, s.portalRp.isCallback);
    expect(s.portalRp.isCallback(callback.url)).toBe(true);
  };
  /** A fresh login in this browser: true when it went through without the code. */
  const skipsCode = async (browser: Browser, account: SeededAccount) => {
    const { next } = await passwordStep(browser, s.portalRp, account, { prompt: 'login' });
    if (s.portalRp.isCallback(next.url)) return true;
    expect(asksCode(next)).toBe(true);
    return false;
  };
  const accountPage = async (browser: Browser) => {
    const page = await browser.follow(accountPageUrl());
    expect(new URL(page.url).pathname).toBe('/account/two-factor');
    expect(page.status).toBe(200);
    return page;
  };
  const post = (browser: Browser, path: string, form: Record<string, string>) => browser.follow(`${s.server.url}/account/browsers/${path}`, undefined, { method: 'POST', form });

  /** One member remembered in two browsers, each after a code at the relying party. */
  const twoBrowsers = async () => {
    const m = await member();
    const firefox = new Browser('nl', FIREFOX_WINDOWS);
    const chrome = new Browser('nl', CHROME_ANDROID);
    await signInWithCode(firefox, m);
    await signInWithCode(chrome, m);
    const token = async (browser: Browser) => (await browserToken(browser, s.server.url, m.account.id))!;
    return { m, firefox, chrome, firefoxId: sha256(await token(firefox)), chromeId: sha256(await token(chrome)) };
  };

  test('two browsers remembered: both listed with their descriptions and times, the one looking marked; the store keeps no User-Agent', async () => {
    const { m, firefox, chrome, firefoxId, chromeId } = await twoBrowsers();

    const page = await accountPage(firefox);
    expect(page.html().querySelectorAll('h2').map((h) => h.text.trim())).toContain(nl['account.browsers_title']);
    const entries = listed(page);
    expect(entries.map(({ name, current, id }) => ({ name, current, id })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'Chrome op Android', current: false, id: chromeId },
      { name: 'Firefox op Windows', current: true, id: firefoxId },
    ]);
    expect(page.html().querySelector('li.current .this-browser')?.text).toBe(`(${nl['account.browser_current']})`);
    for (const { times } of entries) {
      const [since, until] = times.map((t) => Date.parse(t));
      expect(since).toBeLessThanOrEqual(Date.now());
      // the tenant's default 24 hours, counted from the code
      expect(until! - since!).toBeGreaterThan(24 * 3600_000 - 120_000);
      expect(until! - since!).toBeLessThanOrEqual(24 * 3600_000 + 1000);
    }
    expect(page.html().querySelectorAll('form[action="/account/browsers/forget-all"]')).toHaveLength(1);

    // the other browser sees the same list, itself marked
    expect(listed(await accountPage(chrome)).filter((e) => e.current).map((e) => e.id)).toEqual([chromeId]);

    const raw = await s.server.sleutel.stores.kv.get(`remember:{${m.account.id}}:${firefoxId}`);
    expect(JSON.parse(raw!)).toEqual({ at: expect.any(Number), browser: 'Firefox', os: 'Windows' });
    expect(raw).not.toContain('Mozilla');
    expect(raw).not.toContain('128');
  });

  test('the list in English says "Firefox on Windows" and "this browser"', async () => {
    const m = await member();
    const browser = new Browser('en', FIREFOX_WINDOWS);
    await signInWithCode(browser, m);
    const page = await accountPage(browser);
    expect(page.html().querySelectorAll('h2').map((h) => h.text.trim())).toContain(en['account.browsers_title']);
    expect(listed(page).map(({ name, current }) => ({ name, current }))).toEqual([{ name: 'Firefox on Windows', current: true }]);
    expect(page.html().querySelector('form[action="/account/browsers/forget"] button')?.text.trim()).toBe(en['account.browser_forget']);
  });

  test('"Vergeet deze browser": that browser is asked the code at its next login, the other is not', async () => {
    const { m, firefox, chrome, chromeId, firefoxId } = await twoBrowsers();
    const page = await accountPage(firefox);
    const done = await firefox.submit(page, { browser: chromeId }, undefined, '/browsers/forget');
    expect(done.status).toBe(200);
    expect(new URL(done.url).pathname).toBe('/account/two-factor');
    expect(noticeOf(done)).toBe(nl['account.notice_browser_forgotten']);
    expect(listed(done).map((e) => e.id)).toEqual([firefoxId]);
    const events = await s.server.sleutel.stores.audit.list({ tenantId: s.seeded.tenantId, accountId: m.account.id, type: 'two_factor.browser_forgotten' });
    expect(events).toEqual([expect.objectContaining({ actor: `account:${m.account.id}`, details: { all: false } })]);

    expect(await skipsCode(chrome, m.account)).toBe(false);
    expect(await skipsCode(firefox, m.account)).toBe(true);
  });

  test('"Vergeet deze browser" on the browser itself: it is asked the code next time', async () => {
    const { m, firefox, chrome, firefoxId } = await twoBrowsers();
    const done = await firefox.submit(await accountPage(firefox), { browser: firefoxId }, undefined, '/browsers/forget');
    expect(noticeOf(done)).toBe(nl['account.notice_browser_forgotten']);
    expect(listed(done).some((e) => e.current)).toBe(false);
    expect(await skipsCode(firefox, m.account)).toBe(false);
    expect(await skipsCode(chrome, m.account)).toBe(true);
  });

  test('"Vergeet alle": no browser skips the code any more', async () => {
    const { m, firefox, chrome } = await twoBrowsers();
    const done = await chrome.submit(await accountPage(chrome), {}, undefined, '/browsers/forget-all');
    expect(noticeOf(done)).toBe(nl['account.notice_browsers_forgotten']);
    expect(listed(done)).toEqual([]);
    expect(done.html().querySelector('main')?.text).toContain(nl['account.browsers_none']);
    expect(await flows().remembrances.list(m.account.id)).toEqual([]);
    const events = await s.server.sleutel.stores.audit.list({ tenantId: s.seeded.tenantId, accountId: m.account.id, type: 'two_factor.browser_forgotten' });
    expect(events).toEqual([expect.objectContaining({ details: { all: true } })]);
    expect(await skipsCode(firefox, m.account)).toBe(false);
    expect(await skipsCode(chrome, m.account)).toBe(false);
  });

  test('another account’s entry id is 404 and forgets nothing; a malformed id is 400', async () => {
    const { m, firefox } = await twoBrowsers();
    const other = await member();
    const otherBrowser = new Browser('nl', CHROME_ANDROID);
    await signInWithCode(otherBrowser, other);
    const otherId = sha256((await browserToken(otherBrowser, s.server.url, other.account.id))!);

    const page = await accountPage(firefox);
    const refused = await post(firefox, 'forget', { csrf: csrfOf(page), browser: otherId });
    expect(refused.status).toBe(404);
    expect(alertOf(refused)).toBe(nl['account.browser_not_found']);
    expect(await flows().remembrances.list(other.account.id)).toHaveLength(1);
    expect(await skipsCode(otherBrowser, other.account)).toBe(true);
    expect(await flows().remembrances.list(m.account.id)).toHaveLength(2);

    for (const browser of ['', 'abc', `${otherId}x`, `${otherId.slice(0, 42)}:`, `{${other.account.id}}`]) {
      const bad = await post(firefox, 'forget', { csrf: csrfOf(page), browser });
      expect([browser, bad.status]).toEqual([browser, 400]);
    }
    expect(await flows().remembrances.list(m.account.id)).toHaveLength(2);
    expect(await flows().remembrances.list(other.account.id)).toHaveLength(1);
  });

  test('a missing or forged CSRF token is 403 and forgets nothing', async () => {
    const { m, firefox, chromeId } = await twoBrowsers();
    await accountPage(firefox);
    for (const form of [{ browser: chromeId }, { browser: chromeId, csrf: 'forged' }] as Record<string, string>[]) {
      const refused = await post(firefox, 'forget', form);
      expect(refused.status).toBe(403);
      expect(alertOf(refused)).toBe(nl['form.csrf']);
      const all = await post(firefox, 'forget-all', { ...form, browser: '' });
      expect(all.status).toBe(403);
    }
    expect(await flows().remembrances.list(m.account.id)).toHaveLength(2);
  });

  test('without a session the actions are refused (401) and forget nothing', async () => {
    const { m, chromeId } = await twoBrowsers();
    const stranger = new Browser();
    expect((await post(stranger, 'forget', { browser: chromeId })).status).toBe(401);
    expect((await post(stranger, 'forget-all', {})).status).toBe(401);
    expect(await flows().remembrances.list(m.account.id)).toHaveLength(2);
  });

  test('an entry vanishes when it expires, and at once when the tenant lowers its hours', async () => {
    const m = await member();
    const firefox = new Browser('nl', FIREFOX_WINDOWS);
    await signInWithCode(firefox, m);
    // a second browser remembered for one second only
    await flows().remembrances.remember(m.account.id, RemembranceStore.newBrowserToken(), 1 / 3600, { browser: 'Safari', os: 'iOS' });
    expect(listed(await accountPage(firefox)).map((e) => e.name).sort()).toEqual(['Firefox op Windows', 'Safari op iOS']);

    const deadline = Date.now() + 15_000;
    while (listed(await accountPage(firefox)).length > 1) {
      if (Date.now() > deadline) throw new Error('the one-second remembrance was still listed after 15 s');
      await sleep(250);
    }
    expect(listed(await accountPage(firefox)).map((e) => e.name)).toEqual(['Firefox op Windows']);
    // its id left the index too
    expect(await s.server.sleutel.stores.kv.members(`remember:{${m.account.id}}:index`)).toHaveLength(1);

    // the tenant's current setting counts (rule 11): 0 hours, nothing is remembered any more
    const db = s.server.sleutel.stores.db;
    const before = await db('tenants').where({ id: s.seeded.tenantId }).first();
    await db('tenants').where({ id: s.seeded.tenantId }).update({ policy: JSON.stringify({ remember_two_factor_hours: { staff: 24, portal: 0 } }) });
    try {
      const page = await accountPage(firefox);
      expect(listed(page)).toEqual([]);
      expect(page.html().querySelector('main')?.text).toContain(nl['account.browsers_none']);
    } finally {
      await db('tenants').where({ id: s.seeded.tenantId }).update({ policy: typeof before.policy === 'string' ? before.policy : JSON.stringify(before.policy) });
    }
    expect(listed(await accountPage(firefox))).toHaveLength(1);
  });

  test('a remembrance of an earlier version (a bare timestamp) is listed and still counts; renew carries the description and the moment', async () => {
    const m = await member();
    const { remembrances } = flows();
    const kv = s.server.sleutel.stores.kv;
    const legacy = RemembranceStore.newBrowserToken();
    const at = Date.now() - 3600_000;
    await kv.set(`remember:{${m.account.id}}:${sha256(legacy)}`, String(at), 23 * 3600);
    await kv.addToSet(`remember:{${m.account.id}}:index`, sha256(legacy), 23 * 3600);
    expect(await remembrances.isRemembered(m.account.id, legacy, 24)).toBe(true);
    expect(await remembrances.list(m.account.id, 24)).toEqual([{ id: sha256(legacy), browser: undefined, os: undefined, rememberedAt: new Date(at), expiresAt: expect.any(Date) }]);

    const described = RemembranceStore.newBrowserToken();
    await remembrances.remember(m.account.id, described, 24, { browser: 'Firefox', os: 'Windows' });
    const [entry] = (await remembrances.list(m.account.id, 24)).filter((e) => e.id === sha256(described));
    const renewed = RemembranceStore.newBrowserToken();
    expect(await remembrances.renew(m.account.id, described, renewed)).toBeGreaterThan(0);
    const after = (await remembrances.list(m.account.id, 24)).filter((e) => e.id === sha256(renewed));
    expect(after).toEqual([{ ...entry, id: sha256(renewed), expiresAt: expect.any(Date) }]);
    expect(after[0]!.expiresAt.getTime()).toBeLessThanOrEqual(entry!.expiresAt.getTime() + 1000);
    expect((await remembrances.list(m.account.id, 24)).map((e) => e.id).sort()).toEqual([sha256(legacy), sha256(renewed)].sort());

    // a value that is neither counts as nothing
    const broken = RemembranceStore.newBrowserToken();
    await kv.set(`remember:{${m.account.id}}:${sha256(broken)}`, '{"at":"soon"}', 3600);
    expect(await remembrances.isRemembered(m.account.id, broken)).toBe(false);
  });

  test('a login that the remembrance spares keeps the description (the token moves, the entry stays the same browser)', async () => {
    const m = await member();
    const firefox = new Browser('nl', FIREFOX_WINDOWS);
    await signInWithCode(firefox, m);
    const [first] = await flows().remembrances.list(m.account.id);
    expect(await skipsCode(firefox, m.account)).toBe(true);
    const [moved] = await flows().remembrances.list(m.account.id);
    expect(moved).toMatchObject({ browser: 'Firefox', os: 'Windows', rememberedAt: first!.rememberedAt });
    expect(moved!.id).not.toBe(first!.id);
    expect(moved!.id).toBe(sha256((await browserToken(firefox, s.server.url, m.account.id))!));
  });

  test('a browser without a User-Agent bowser can name is listed as an unknown browser', async () => {
    const m = await member();
    const browser = new Browser('nl', 'curl/8.5.0');
    await signInWithCode(browser, m);
    expect(listed(await accountPage(browser)).map(({ name, current }) => ({ name, current }))).toEqual([{ name: nl['account.browser_unknown'], current: true }]);
  });
});
