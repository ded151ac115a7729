import { describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import type { Cookie } from 'tough-cookie';
import { hashPassword } from '../../src/factors/password.js';
import type { Pool } from '../../src/policy/tenant-policy.js';
import { Browser, type Page } from '../helpers/browser.js';
import type { RelyingParty } from '../helpers/relying-party.js';
import { useScenario, type Scenario } from '../helpers/scenario.js';
import type { SeededAccount } from '../helpers/seed.js';
import { randomPassword } from '../helpers/server.js';
import { storeModes } from '../helpers/stores.js';
import { previousStepCode, totp } from '../helpers/totp.js';
import { enableOnAccountPage, passwordStep, recoveryCodeOnScreen, secretOnScreen } from '../helpers/two-factor.js';

/**
 * The account page (docs/rules.md, rules 6 and 9), the remembered browser (rule 11) and what a
 * relying party may demand (§ What a login proves: acr_values / max_age), through real HTTP: the
 * Browser helper for the screens and openid-client for the relying parties.
 *
 * Codes: enableOnAccountPage confirms with the previous step's code (offset -1); the logins of a
 * test then use offsets 0 and 1, so the time steps are strictly increasing (no replay) even when
 * a 30 s boundary passes in between. Every test resets the accounts it uses first.
 */

const ACR_2FA = 'urn:sleutel:acr:2fa';
const ACR_PWD = 'urn:sleutel:acr:pwd';
// one cookie per account that passed its second factor in this browser (src/http/browser-cookie.ts)
const browserCookieName = (accountId: string) => `sleutel.browser.${sha256(accountId).slice(0, 12)}`;
const DAY = 24 * 3600;

const nl = JSON.parse(fs.readFileSync(new URL('../../interactions/locales/nl.json', import.meta.url), 'utf8')) as Record<string, string>;

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The login screen asks for the 6-digit code (the challenge, not the enrollment). */
const asksCode = (page: Page) => Boolean(page.html().querySelector('form[action$="/code"] input[name=code]'));
const asksPassword = (page: Page) => Boolean(page.html().querySelector('input[name=password]'));
const isEnrollment = (page: Page) => Boolean(page.html().querySelector('img.qr'));
const csrfOf = (page: Page) => {
  const value = page.html().querySelector('input[name=csrf]')?.getAttribute('value');
  if (!value) throw new Error(`no csrf token on ${page.url}: ${page.body.slice(0, 300)}`);
  return value;
};
/**
 * oidc-provider's self-submitting form (it ends the previous account's session when another
 * account signs in in the same browser); a real browser posts it with its one inline script.
 */
const isAutoPost = (page: Page) => page.status === 200 && Boolean(page.html().querySelector('form[action$="/session/end/confirm"] input[name=xsrf]')) && page.body.includes('document.forms[0].submit()');
const alertOf = (page: Page) => page.html().querySelector('[role=alert]')?.text.trim();
const noticeOf = (page: Page) => page.html().querySelector('[role=status]')?.text.trim();
const statusOf = (page: Page) => page.html().querySelector('p.status')?.text.trim();
const buttonOf = (page: Page, actionPart: string) =>
  page.html().querySelectorAll('form').find((f) => f.getAttribute('action')?.includes(actionPart))?.querySelector('button')?.text.trim();

/** A six-digit string that is not the account's code at any step the server could accept. */
function wrongCode(secret: string): string {
  const near = new Set([-2, -1, 0, 1, 2].map((offset) => totp(secret, offset)));
  for (let offset = 10; ; offset += 1) {
    const candidate = totp(secret, offset);
    if (!near.has(candidate)) return candidate;
  }
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe.each(storeModes)('two-factor on the account page, remembered browsers and step-up (%s)', (mode) => {
  const s: Scenario = useScenario(mode);

  const sleutel = () => s.server.sleutel;
  const accountPageUrl = (rp?: RelyingParty) => `${s.server.url}/account/two-factor${rp ? `?client_id=${encodeURIComponent(rp.client.clientId)}` : ''}`;
  const outbox = () => path.join(s.server.config.dataDir, 'outbox');
  const outboxFiles = (template: string) => (fs.existsSync(outbox()) ? fs.readdirSync(outbox()).filter((f) => f.endsWith(`-${template}.eml`)) : []);

  /** Tenant policy as stored (jsonb); missing fields take the defaults. */
  const setPolicy = async (policy: Record<string, unknown>) => {
    await sleutel().stores.db('tenants').where({ id: s.seeded.tenantId }).update({ policy: JSON.stringify(policy) });
  };
  const setAccountRequired = async (account: SeededAccount, required: boolean) => {
    await sleutel().stores.db('accounts').where({ id: account.id }).update({ two_factor_required: required });
  };

  /** Back to the starting point: no 2FA, no remembrances, no lockout, no flags, default policy. */
  const reset = async (...accounts: SeededAccount[]) => {
    const { flows } = sleutel();
    for (const account of accounts) {
      await flows.secondFactors.remove(account.id);
      await flows.remembrances.forgetAll(account.id);
      await flows.lockout.clear(account.id);
      await setAccountRequired(account, false);
    }
    await setPolicy({});
  };

  /** One more account of the seeded cooperative, for the tests that need two in one pool. */
  const newAccount = async (pool: Pool): Promise<SeededAccount> => {
    const email = `extra-${randomBytes(5).toString('hex')}@${s.seeded.slug}.example`;
    const password = randomPassword();
    const created = await sleutel().stores.accounts.create({
      tenantId: s.seeded.tenantId,
      pool,
      email,
      name: `Extra ${pool}`,
      passwordHash: await hashPassword(password),
      roles: pool === 'staff' ? ['key_user'] : [],
      emailVerified: true,
    });
    return { id: created.id, email, password };
  };

  const browserCookie = async (browser: Browser, accountId: string): Promise<Cookie | undefined> =>
    (await browser.jar.getCookies(s.server.url)).find((c) => c.key === browserCookieName(accountId));
  const browserToken = async (browser: Browser, accountId: string): Promise<string> => {
    const cookie = await browserCookie(browser, accountId);
    if (!cookie) throw new Error(`no ${browserCookieName(accountId)} cookie in the jar`);
    return cookie.value;
  };

  const throughAutoPost = async (browser: Browser, page: Page, rp: RelyingParty) => (isAutoPost(page) ? browser.submit(page, {}, rp.isCallback) : page);

  /** passwordStep, and through oidc-provider's self-submitting form when the account changes. */
  const passwordThen = async (browser: Browser, rp: RelyingParty, account: SeededAccount, params: Record<string, string> = {}) => {
    const { request, next } = await passwordStep(browser, rp, account, params);
    return { request, next: await throughAutoPost(browser, next, rp) };
  };

  /** Authorization → password → the code (computed right before it is sent) → tokens. */
  const signInWithCode = async (browser: Browser, rp: RelyingParty, account: SeededAccount, secret: string, offset: number, params: Record<string, string> = {}) => {
    const { request, next } = await passwordStep(browser, rp, account, params);
    expect(asksCode(next)).toBe(true);
    const callback = await throughAutoPost(browser, await browser.submit(next, { code: totp(secret, offset) }, rp.isCallback), rp);
    if (!rp.isCallback(callback.url)) throw new Error(`the code did not reach the callback: ${callback.status} ${callback.body.slice(0, 400)}`);
    return rp.exchange(callback.url, request);
  };

  /** RP-initiated logout, confirmed with "Ja, uitloggen". */
  const logout = async (browser: Browser, rp: RelyingParty, idToken: string) => {
    const endSession = oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: rp.client.postLogoutRedirectUri });
    const confirm = await browser.follow(endSession.href);
    expect(confirm.status).toBe(200);
    const done = await browser.submit(confirm, { logout: 'yes' }, (l) => l.startsWith(rp.client.postLogoutRedirectUri));
    expect(done.url.startsWith(rp.client.postLogoutRedirectUri)).toBe(true);
  };

  /** Signs in to the account page through the relying party's login (password only: no 2FA yet). */
  const accountPageSignedIn = async (browser: Browser, rp: RelyingParty, account: SeededAccount) => {
    const login = await browser.follow(accountPageUrl(rp));
    expect(asksPassword(login)).toBe(true);
    const page = await browser.submit(login, { email: account.email, password: account.password });
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toBe('/account/two-factor');
    return page;
  };

  const post = (browser: Browser, action: string, form: Record<string, string>) => browser.follow(`${s.server.url}/account/two-factor${action}`, undefined, { method: 'POST', form });

  // ---------------------------------------------------------------- remembrance (rule 11)

  describe('the remembered browser (rule 11)', () => {
    test('after a code: an HttpOnly, SameSite=Lax cookie and a store key that lives 24 hours, not extended by a later login, under a token renewed at every login', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);

      const browser = new Browser();
      expect(await browserCookie(browser, member.id)).toBeUndefined();
      const tokens = await signInWithCode(browser, s.portalRp, member, secret, 0);
      expect(tokens.claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });

      const cookie = await browserCookie(browser, member.id);
      expect(cookie).toBeDefined();
      expect(cookie!.httpOnly).toBe(true);
      expect(cookie!.sameSite).toBe('lax');
      expect(cookie!.path).toBe('/');
      expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // the account's cookie lasts as long as its remembrance; the store's 24 h is what counts
      const cookieSeconds = Number(cookie!.TTL()) / 1000;
      expect(cookieSeconds).toBeGreaterThan(24 * 3600 - 400);
      expect(cookieSeconds).toBeLessThanOrEqual(24 * 3600);

      const { flows, stores } = sleutel();
      const token = cookie!.value;
      const left = await flows.remembrances.secondsLeft(member.id, token);
      expect(left).toBeGreaterThanOrEqual(86000);
      expect(left).toBeLessThanOrEqual(86400);
      // the key is {account}:{sha256(token)}; the token itself is not what is stored
      const key = `remember:{${member.id}}:${sha256(token)}`;
      const ttl = await stores.kv.ttl(key);
      expect(ttl).toBeGreaterThanOrEqual(86000);
      expect(ttl).toBeLessThanOrEqual(86400);
      expect(await stores.kv.get(`remember:{${member.id}}:${token}`)).toBeNull();
      expect(await flows.remembrances.isRemembered(member.id, token)).toBe(true);
      const rememberedAt = await stores.kv.get(key);
      expect(rememberedAt).not.toBeNull();

      // the same browser signs in again: the password only, acr 2fa; the remembrance is not extended,
      // but it moves to a fresh token (a planted or leaked token never outlives the next login)
      const again = await passwordStep(browser, s.portalRp, member, { prompt: 'login' });
      expect(s.portalRp.isCallback(again.next.url)).toBe(true);
      const remembered = await s.portalRp.exchange(again.next.url, again.request);
      expect(remembered.claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd'] });
      const renewed = await browserToken(browser, member.id);
      expect(renewed).not.toBe(token);
      expect(await stores.kv.get(key)).toBeNull();
      expect(await flows.remembrances.isRemembered(member.id, token)).toBe(false);
      expect(await stores.kv.get(`remember:{${member.id}}:${sha256(renewed)}`)).toBe(rememberedAt);
      expect(await flows.remembrances.secondsLeft(member.id, renewed)).toBeLessThanOrEqual(left);
      expect(await stores.kv.members(`remember:{${member.id}}:index`)).toEqual([sha256(renewed)]);
    });

    test('remember_two_factor_hours 0 for the pool: the code at every login, and nothing remembered', async () => {
      const member = s.seeded.portal;
      await reset(member);
      await setPolicy({ remember_two_factor_hours: { portal: 0 } });
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);

      const browser = new Browser();
      const first = await signInWithCode(browser, s.portalRp, member, secret, 0);
      expect(first.claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });
      expect(await browserCookie(browser, member.id)).toBeUndefined();
      expect(await sleutel().stores.kv.members(`remember:{${member.id}}:index`)).toEqual([]);

      const second = await signInWithCode(browser, s.portalRp, member, secret, 1, { prompt: 'login' });
      expect(second.claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });
      expect(await browserCookie(browser, member.id)).toBeUndefined();
    });

    test('a browser remembered before remember_two_factor_hours became 0 is asked the code at its next login', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);
      const browser = new Browser();
      await signInWithCode(browser, s.portalRp, member, secret, 0);
      expect(await sleutel().flows.remembrances.isRemembered(member.id, await browserToken(browser, member.id))).toBe(true);

      await setPolicy({ remember_two_factor_hours: { portal: 0 } });
      const again = await passwordStep(browser, s.portalRp, member, { prompt: 'login' });
      expect(asksCode(again.next)).toBe(true);
    });

    test('a short remembrance runs out in the store, and the code is asked again (even if the cookie is still sent)', async () => {
      const member = s.seeded.portal;
      await reset(member);
      await setPolicy({ remember_two_factor_hours: { portal: 0.001 } }); // 3.6 s → 4 s in the store
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);

      const browser = new Browser();
      await signInWithCode(browser, s.portalRp, member, secret, 0);
      const token = await browserToken(browser, member.id);
      const { flows } = sleutel();
      const left = await flows.remembrances.secondsLeft(member.id, token);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(4);

      await waitUntil(async () => (await flows.remembrances.secondsLeft(member.id, token)) === -2, 8000, 'the remembrance to expire');
      expect(await flows.remembrances.isRemembered(member.id, token)).toBe(false);

      // the cookie's own lifetime must not be what counts: send it again after it expired in the jar
      await browser.jar.setCookie(`${browserCookieName(member.id)}=${token}; Path=/; HttpOnly; SameSite=Lax`, s.server.url);
      const again = await passwordStep(browser, s.portalRp, member, { prompt: 'login' });
      expect(asksCode(again.next)).toBe(true);
      const callback = await browser.submit(again.next, { code: totp(secret, 1) }, s.portalRp.isCallback);
      expect(s.portalRp.isCallback(callback.url)).toBe(true);
      expect((await s.portalRp.exchange(callback.url, again.request)).claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });
    });

    test('the remembrance is per account: another account in the same browser is still asked its code', async () => {
      const first = s.seeded.portal;
      await reset(first);
      const second = await newAccount('portal');
      const { secret: firstSecret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, first);
      const { secret: secondSecret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, second);

      const browser = new Browser();
      await signInWithCode(browser, s.portalRp, first, firstSecret, 0);
      const token = await browserToken(browser, first.id);
      const { flows } = sleutel();
      expect(await flows.remembrances.isRemembered(first.id, token)).toBe(true);
      expect(await flows.remembrances.isRemembered(second.id, token)).toBe(false);
      expect(await browserCookie(browser, second.id)).toBeUndefined();

      // the second account in the same browser: its code; then it is remembered under a token of its own
      const other = await signInWithCode(browser, s.portalRp, second, secondSecret, 0, { prompt: 'login' });
      expect(other.claims()).toMatchObject({ sub: second.id, acr: ACR_2FA, amr: ['pwd', 'otp'] });
      const secondToken = await browserToken(browser, second.id);
      expect(secondToken).not.toBe(token);
      expect(await flows.remembrances.isRemembered(second.id, secondToken)).toBe(true);
      expect(await flows.remembrances.isRemembered(first.id, await browserToken(browser, first.id))).toBe(true);

      // the second account again (same session): the password only
      const again = await passwordThen(browser, s.portalRp, second, { prompt: 'login' });
      expect(s.portalRp.isCallback(again.next.url)).toBe(true);
      expect((await s.portalRp.exchange(again.next.url, again.request)).claims()).toMatchObject({ sub: second.id, acr: ACR_2FA, amr: ['pwd'] });
    });

    test('switching to another account in the same browser keeps the first account remembered', async () => {
      const first = s.seeded.portal;
      await reset(first);
      const second = await newAccount('portal');
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, first);

      const browser = new Browser();
      await signInWithCode(browser, s.portalRp, first, secret, 0);
      const token = await browserToken(browser, first.id);
      // the second account (no 2FA) signs in in this browser: the password only
      const switched = await passwordThen(browser, s.portalRp, second, { prompt: 'login' });
      expect(s.portalRp.isCallback(switched.next.url)).toBe(true);
      expect((await s.portalRp.exchange(switched.next.url, switched.request)).claims()).toMatchObject({ sub: second.id });

      expect(await sleutel().flows.remembrances.isRemembered(first.id, token)).toBe(true);
    });

    test("a shorter remembrance of another account does not cut the cookie's life for the first one", async () => {
      const staff = s.seeded.staff;
      const member = s.seeded.portal;
      await reset(staff, member);
      // (forget_two_factor_on_logout off: the account switch below must not forget anything by itself)
      await setPolicy({ remember_two_factor_hours: { staff: 24, portal: 0.001 }, forget_two_factor_on_logout: false });
      const { secret: staffSecret } = await enableOnAccountPage(new Browser(), s.server.url, s.staffRp, staff);
      const { secret: memberSecret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);

      const browser = new Browser();
      await signInWithCode(browser, s.staffRp, staff, staffSecret, 0);
      const token = await browserToken(browser, staff.id);
      await signInWithCode(browser, s.portalRp, member, memberSecret, 0);
      const memberToken = await browserToken(browser, member.id);
      await waitUntil(async () => (await sleutel().flows.remembrances.secondsLeft(member.id, memberToken)) === -2, 8000, 'the short remembrance to expire');
      await sleep(500);
      expect(await sleutel().flows.remembrances.isRemembered(staff.id, token)).toBe(true);

      const again = await passwordThen(browser, s.staffRp, staff, { prompt: 'login' });
      expect(asksCode(again.next)).toBe(false);
      expect(s.staffRp.isCallback(again.next.url)).toBe(true);
    });
  });

  // ---------------------------------------------------------------- logout

  describe('RP-initiated logout and forget_two_factor_on_logout', () => {
    test('by default the logout forgets this browser: the next login asks the code', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);
      const browser = new Browser();
      const tokens = await signInWithCode(browser, s.portalRp, member, secret, 0);
      const token = await browserToken(browser, member.id);
      expect(await sleutel().flows.remembrances.isRemembered(member.id, token)).toBe(true);

      await logout(browser, s.portalRp, tokens.id_token!);
      expect(await sleutel().flows.remembrances.isRemembered(member.id, token)).toBe(false);

      const next = await signInWithCode(browser, s.portalRp, member, secret, 1);
      expect(next.claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });
    });

    test('with forget_two_factor_on_logout false the browser stays remembered after the logout', async () => {
      const member = s.seeded.portal;
      await reset(member);
      await setPolicy({ forget_two_factor_on_logout: false });
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);
      const browser = new Browser();
      const tokens = await signInWithCode(browser, s.portalRp, member, secret, 0);
      const token = await browserToken(browser, member.id);

      await logout(browser, s.portalRp, tokens.id_token!);
      expect(await sleutel().flows.remembrances.isRemembered(member.id, token)).toBe(true);
      // the session did end (the refresh token with it), but the next login needs the password only
      await expect(oidc.refreshTokenGrant(s.portalRp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      const again = await passwordStep(browser, s.portalRp, member);
      expect(s.portalRp.isCallback(again.next.url)).toBe(true);
      expect((await s.portalRp.exchange(again.next.url, again.request)).claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd'] });
    });
  });

  // ---------------------------------------------------------------- acr_values, max_age, prompt=none

  describe('what a relying party may demand (acr_values, max_age, prompt=none)', () => {
    test('acr_values=2fa in a remembered browser with a session: a fresh code without the password (step-up)', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);
      const browser = new Browser();
      await signInWithCode(browser, s.portalRp, member, secret, 0);

      // single sign-on without acr_values: no screen at all
      const sso = await s.portalRp.authorization();
      const ssoPage = await browser.follow(sso.url, s.portalRp.isCallback);
      expect(s.portalRp.isCallback(ssoPage.url)).toBe(true);

      const request = await s.portalRp.authorization({ acr_values: ACR_2FA });
      const page = await browser.follow(request.url, s.portalRp.isCallback);
      expect(page.status).toBe(200);
      expect(asksPassword(page)).toBe(false);
      expect(asksCode(page)).toBe(true);
      const callback = await browser.submit(page, { code: totp(secret, 1) }, s.portalRp.isCallback);
      expect(s.portalRp.isCallback(callback.url)).toBe(true);
      const tokens = await s.portalRp.exchange(callback.url, request);
      expect(tokens.claims()).toMatchObject({ sub: member.id, acr: ACR_2FA, amr: ['pwd', 'otp'] });
    });

    test('acr_values=2fa for an account without 2FA: enrollment, skippable for a member (acr pwd), or completed (acr 2fa)', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const browser = new Browser();
      const { request, next } = await passwordStep(browser, s.portalRp, member, { acr_values: ACR_2FA });
      expect(isEnrollment(next)).toBe(true);
      expect(next.html().querySelector('form[action$="/enroll/skip"]')).not.toBeNull();
      const skipped = await browser.submit(next, {}, s.portalRp.isCallback, '/enroll/skip');
      expect(s.portalRp.isCallback(skipped.url)).toBe(true);
      expect((await s.portalRp.exchange(skipped.url, request)).claims()).toMatchObject({ acr: ACR_PWD, amr: ['pwd'] });
      expect(await sleutel().flows.secondFactors.isEnabled(member.id)).toBe(false);

      // with the session: asked again for acr 2fa, straight to enrollment (no password); completing it gives 2fa
      const stepUp = await s.portalRp.authorization({ acr_values: ACR_2FA });
      const enroll = await browser.follow(stepUp.url, s.portalRp.isCallback);
      expect(asksPassword(enroll)).toBe(false);
      expect(isEnrollment(enroll)).toBe(true);
      const secret = secretOnScreen(enroll);
      const shown = await browser.submit(enroll, { code: totp(secret) }, s.portalRp.isCallback, '/enroll');
      expect(shown.status).toBe(200);
      expect(recoveryCodeOnScreen(shown)).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
      const callback = await browser.submit(shown, {}, s.portalRp.isCallback, '/continue');
      expect(s.portalRp.isCallback(callback.url)).toBe(true);
      expect((await s.portalRp.exchange(callback.url, stepUp)).claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });
      expect(await sleutel().flows.secondFactors.isEnabled(member.id)).toBe(true);
    });

    test('acr_values=2fa for staff who must have 2FA but have none: enrollment that cannot be skipped', async () => {
      const staff = s.seeded.staff;
      await reset(staff);
      await setAccountRequired(staff, true);
      const { next } = await passwordStep(new Browser(), s.staffRp, staff, { acr_values: ACR_2FA });
      expect(isEnrollment(next)).toBe(true);
      expect(next.html().querySelector('form[action$="/enroll/skip"]')).toBeNull();
    });

    /** Signs in with a code, waits until the session is older than `maxAge`, and asks again with max_age. */
    const maxAgeAfterRememberedLogin = async (maxAge: number) => {
      const member = s.seeded.portal;
      await reset(member);
      const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);
      const browser = new Browser();
      await signInWithCode(browser, s.portalRp, member, secret, 0);
      expect(await sleutel().flows.remembrances.isRemembered(member.id, await browserToken(browser, member.id))).toBe(true);
      await sleep((maxAge + 1) * 1000 + 300); // max_age counts whole seconds since the login

      const before = Math.floor(Date.now() / 1000);
      const request = await s.portalRp.authorization({ max_age: String(maxAge) });
      const login = await browser.follow(request.url, s.portalRp.isCallback);
      expect(asksPassword(login)).toBe(true);
      const next = await browser.submit(login, { email: member.email, password: member.password }, s.portalRp.isCallback);
      expect(asksCode(next)).toBe(true);
      const callback = await browser.submit(next, { code: totp(secret, 1) }, s.portalRp.isCallback);
      expect(s.portalRp.isCallback(callback.url)).toBe(true);
      const tokens = await oidc.authorizationCodeGrant(s.portalRp.config, new URL(callback.url), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        maxAge,
      });
      const claims = tokens.claims()!;
      expect(claims).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });
      expect(Number(claims.auth_time)).toBeGreaterThanOrEqual(before); // a new authentication
    };

    test('a small max_age, after it passed, in a remembered browser with a session: the password and a fresh code', async () => {
      await maxAgeAfterRememberedLogin(1);
    });

    test('max_age=0 in a remembered browser with a session: the password and a fresh code', async () => {
      await maxAgeAfterRememberedLogin(0);
    });

    test('prompt=none with acr_values=2fa: login_required without a session, and with a session too', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const noSession = await s.portalRp.authorization({ prompt: 'none', acr_values: ACR_2FA });
      const refused = await new Browser().follow(noSession.url, s.portalRp.isCallback);
      expect(s.portalRp.isCallback(refused.url)).toBe(true);
      expect(new URL(refused.url).searchParams.get('error')).toBe('login_required');

      const browser = new Browser();
      await s.portalRp.login(browser, member);
      const withSession = await s.portalRp.authorization({ prompt: 'none', acr_values: ACR_2FA });
      const answer = await browser.follow(withSession.url, s.portalRp.isCallback);
      expect(new URL(answer.url).searchParams.get('error')).toBe('login_required');
    });
  });

  // ---------------------------------------------------------------- the account page (rule 6)

  describe('the account page /account/two-factor (rule 6)', () => {
    test('without a session: 401 "not signed in", unless a relying party\'s client_id leads to its login', async () => {
      for (const url of [accountPageUrl(), `${accountPageUrl()}?client_id=sleutel-account`, `${accountPageUrl()}?client_id=nobody`]) {
        const page = await new Browser().follow(url);
        expect(page.status).toBe(401);
        expect(alertOf(page)).toContain('U bent niet ingelogd');
      }
      // POSTs without a session as well
      const posted = await new Browser().request(`${accountPageUrl()}/unlock`, { form: { current_password: 'x' } });
      expect(posted.status).toBe(401);

      const member = s.seeded.portal;
      await reset(member);
      const browser = new Browser();
      const login = await browser.follow(accountPageUrl(s.portalRp));
      expect(login.status).toBe(200);
      expect(new URL(login.url).pathname).toMatch(/^\/interaction\//);
      expect(asksPassword(login)).toBe(true);
      const page = await browser.submit(login, { email: member.email, password: member.password });
      expect(page.status).toBe(200);
      expect(new URL(page.url).pathname).toBe('/account/two-factor');
      expect(page.body).toContain(`Ingelogd als ${member.email}.`);
      expect(statusOf(page)).toBe(nl['account.status_off']);
      // the session is now there: the page without client_id works too
      expect((await browser.follow(accountPageUrl())).status).toBe(200);
    });

    test('unlock with current_password ("Ontgrendel"); a wrong password is 401 "Het wachtwoord is onjuist."', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const browser = new Browser();
      const page = await accountPageSignedIn(browser, s.portalRp, member);
      const form = page.html().querySelector('form[action="/account/two-factor/unlock"]');
      expect(form).not.toBeNull();
      expect(form!.querySelector('input[name=current_password]')?.getAttribute('type')).toBe('password');
      expect(form!.querySelector('button')?.text.trim()).toBe('Ontgrendel');
      expect(page.html().querySelector('form[action$="/enable"]')).toBeNull();

      const wrong = await browser.submit(page, { current_password: `${member.password}-niet` }, undefined, '/unlock');
      expect(wrong.status).toBe(401);
      expect(alertOf(wrong)).toBe('Het wachtwoord is onjuist.');
      expect(wrong.html().querySelector('form[action$="/enable"]')).toBeNull();
      const failed = await sleutel().stores.audit.list({ accountId: member.id, type: 'account_page.unlock_failed' });
      expect(failed.length).toBeGreaterThanOrEqual(1);

      const unlocked = await browser.submit(wrong, { current_password: member.password }, undefined, '/unlock');
      expect(unlocked.status).toBe(200);
      expect(noticeOf(unlocked)).toBe(nl['account.notice_unlocked']);
      expect(buttonOf(unlocked, '/enable')).toBe('Twee factor inschakelen');
      expect(unlocked.html().querySelector('form[action$="/unlock"]')).toBeNull();
    });

    test('the actions need an unlock first: 403 asking to unlock, nothing changed', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const browser = new Browser();
      const page = await accountPageSignedIn(browser, s.portalRp, member);
      const csrf = csrfOf(page);
      for (const action of ['/enable', '/cancel', '/disable', '/disable/confirm']) {
        const refused = await post(browser, action, { csrf });
        expect([action, refused.status]).toEqual([action, 403]);
        expect(alertOf(refused)).toBe(nl['account.unlock_expired']);
      }
      const confirm = await post(browser, '/confirm', { csrf, code: '123456' });
      expect(confirm.status).toBe(403);
      expect(alertOf(confirm)).toBe(nl['account.unlock_expired']);
      expect(await sleutel().flows.secondFactors.isEnabled(member.id)).toBe(false);
      expect(isEnrollment(await browser.follow(accountPageUrl()))).toBe(false);
    });

    test('a missing (or forged) CSRF token is 403 on unlock, enable, confirm, disable and disable/confirm', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const browser = new Browser();
      const page = await accountPageSignedIn(browser, s.portalRp, member);
      const { flows } = sleutel();

      for (const form of [{ current_password: member.password }, { current_password: member.password, csrf: 'forged' }] as Record<string, string>[]) {
        const unlock = await post(browser, '/unlock', form);
        expect(unlock.status).toBe(403);
        expect(alertOf(unlock)).toBe(nl['form.csrf']);
      }
      const stillLocked = await browser.follow(accountPageUrl());
      expect(stillLocked.html().querySelector('form[action$="/unlock"] input[name=current_password]')).not.toBeNull();

      const unlocked = await browser.submit(page, { current_password: member.password }, undefined, '/unlock');
      expect(buttonOf(unlocked, '/enable')).toBe('Twee factor inschakelen');

      const enable = await post(browser, '/enable', {});
      expect(enable.status).toBe(403);
      expect(alertOf(enable)).toBe(nl['form.csrf']);
      expect(isEnrollment(await browser.follow(accountPageUrl()))).toBe(false);

      const enroll = await browser.submit(unlocked, {}, undefined, '/enable');
      expect(isEnrollment(enroll)).toBe(true);
      const secret = secretOnScreen(enroll);
      const confirm = await post(browser, '/confirm', { code: totp(secret) });
      expect(confirm.status).toBe(403);
      expect(alertOf(confirm)).toBe(nl['form.csrf']);
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(false);

      const shown = await browser.submit(enroll, { code: await previousStepCode(secret) }, undefined, '/confirm');
      expect(shown.status).toBe(200);
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(true);

      for (const action of ['/disable', '/disable/confirm']) {
        const refused = await post(browser, action, {});
        expect([action, refused.status]).toEqual([action, 403]);
        expect(alertOf(refused)).toBe(nl['form.csrf']);
      }
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(true);
    });

    test('enable: QR image and key; a wrong code is 400 and stores nothing; "Annuleren" leaves nothing; the recovery code is shown once', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const { flows } = sleutel();
      const browser = new Browser();
      const page = await accountPageSignedIn(browser, s.portalRp, member);
      const unlocked = await browser.submit(page, { current_password: member.password }, undefined, '/unlock');

      const enroll = await browser.submit(unlocked, {}, undefined, '/enable');
      expect(enroll.status).toBe(200);
      expect(enroll.html().querySelector('h1')?.text.trim()).toBe('Twee factor inschakelen');
      expect(enroll.html().querySelector('img.qr')?.getAttribute('src')).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]{100,}$/);
      const secret = secretOnScreen(enroll);
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(enroll.html().querySelector('.key code')?.text).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
      expect(buttonOf(enroll, '/cancel')).toBe('Annuleren');
      // reloading the page shows the same pending enrollment
      expect(secretOnScreen(await browser.follow(accountPageUrl()))).toBe(secret);

      const wrong = await browser.submit(enroll, { code: wrongCode(secret) }, undefined, '/confirm');
      expect(wrong.status).toBe(400);
      expect(alertOf(wrong)).toBe(nl['enroll.wrong_code']);
      expect(secretOnScreen(wrong)).toBe(secret);
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(false);
      expect(await flows.secondFactors.recoveryCodeHash(member.id)).toBeUndefined();

      const cancelled = await browser.submit(wrong, {}, undefined, '/cancel');
      expect(cancelled.status).toBe(200);
      expect(new URL(cancelled.url).pathname).toBe('/account/two-factor');
      expect(isEnrollment(cancelled)).toBe(false);
      expect(statusOf(cancelled)).toBe(nl['account.status_off']);
      expect(buttonOf(cancelled, '/enable')).toBe('Twee factor inschakelen');
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(false);
      // a confirm after the cancel finds nothing pending: nothing is enabled with the abandoned secret
      const late = await post(browser, '/confirm', { csrf: csrfOf(cancelled), code: totp(secret) });
      expect(isEnrollment(late)).toBe(false);
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(false);

      const mailsBefore = outboxFiles('two_factor_enabled').length;
      const again = await browser.submit(cancelled, {}, undefined, '/enable');
      const newSecret = secretOnScreen(again);
      expect(newSecret).not.toBe(secret);
      const shown = await browser.submit(again, { code: await previousStepCode(newSecret) }, undefined, '/confirm');
      expect(shown.status).toBe(200);
      expect(shown.headers.get('cache-control')).toContain('no-store');
      const recoveryCode = recoveryCodeOnScreen(shown);
      expect(shown.body).toContain(nl['recovery_code.advice']);
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(true);
      expect(await flows.secondFactors.recoveryCodeHash(member.id)).toBeDefined();
      expect(await flows.secondFactors.recoveryCodeHash(member.id)).not.toContain(recoveryCode);
      expect(outboxFiles('two_factor_enabled').length).toBe(mailsBefore + 1);
      expect((await sleutel().stores.audit.list({ accountId: member.id, type: 'two_factor.enabled' })).length).toBeGreaterThanOrEqual(1);

      for (let i = 0; i < 2; i += 1) {
        const reload = await browser.follow(accountPageUrl());
        expect(reload.status).toBe(200);
        expect(statusOf(reload)).toBe(nl['account.status_on']);
        expect(reload.html().querySelector('#recovery-code')).toBeNull();
        expect(reload.body).not.toContain(recoveryCode);
        expect(isEnrollment(reload)).toBe(false);
      }
    });
  });

  // ---------------------------------------------------------------- disable (rule 9)

  describe('disable on the account page (rule 9)', () => {
    test('unlock → "Twee factor uitschakelen" → the question → confirmed: off, mail, audit, remembrances forgotten, other sessions ended', async () => {
      const member = s.seeded.portal;
      await reset(member);
      const { flows, stores } = sleutel();
      const enroller = new Browser();
      const { secret } = await enableOnAccountPage(enroller, s.server.url, s.portalRp, member);

      // another browser signed in at the relying party with a code: remembered, with a refresh token
      const other = new Browser();
      const otherTokens = await signInWithCode(other, s.portalRp, member, secret, 0);
      const otherToken = await browserToken(other, member.id);
      expect(await flows.remembrances.isRemembered(member.id, otherToken)).toBe(true);
      const rotated = await oidc.refreshTokenGrant(s.portalRp.config, otherTokens.refresh_token!);
      expect(rotated.refresh_token).toBeDefined();

      // this browser signs in to the account page (password and code), unlocks and disables
      const browser = new Browser();
      const login = await browser.follow(accountPageUrl(s.portalRp));
      const challenge = await browser.submit(login, { email: member.email, password: member.password });
      expect(asksCode(challenge)).toBe(true);
      const page = await browser.submit(challenge, { code: totp(secret, 1) });
      expect(new URL(page.url).pathname).toBe('/account/two-factor');
      expect(statusOf(page)).toBe(nl['account.status_on']);
      expect(page.html().querySelector('form[action$="/disable"]')).toBeNull();
      const unlocked = await browser.submit(page, { current_password: member.password }, undefined, '/unlock');
      expect(buttonOf(unlocked, '/disable')).toBe('Twee factor uitschakelen');

      const question = await browser.submit(unlocked, {}, undefined, '/disable');
      expect(question.status).toBe(200);
      const texts = question.html().querySelectorAll('main p').map((p) => p.text.trim());
      expect(texts).toContain('Weet u zeker dat u twee factor authenticatie wilt uitschakelen?');
      expect(buttonOf(question, '/disable/confirm')).toBe(nl['account.disable_confirm']);
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(true); // only asked so far

      const mailsBefore = outboxFiles('two_factor_disabled');
      const done = await browser.submit(question, {}, undefined, '/disable/confirm');
      expect(done.status).toBe(200);
      expect(new URL(done.url).pathname).toBe('/account/two-factor');
      expect(noticeOf(done)).toBe(nl['account.notice_disabled']);
      expect(statusOf(done)).toBe(nl['account.status_off']);
      expect(await flows.secondFactors.isEnabled(member.id)).toBe(false);
      expect(await flows.secondFactors.recoveryCodeHash(member.id)).toBeUndefined();

      // a mail to the holder
      const newMails = outboxFiles('two_factor_disabled').filter((f) => !mailsBefore.includes(f));
      expect(newMails).toHaveLength(1);
      const mail = fs.readFileSync(path.join(outbox(), newMails[0]!), 'utf8');
      expect(mail).toContain(member.email);
      expect(mail).toContain('Twee factor authenticatie is uitgeschakeld');

      // an audit event, by the account itself
      const [event] = await stores.audit.list({ accountId: member.id, type: 'two_factor.disabled' });
      expect(event).toMatchObject({ actor: `account:${member.id}`, tenantId: s.seeded.tenantId });
      expect(Number(event!.details?.ended_sessions)).toBeGreaterThanOrEqual(2);

      // remembered browsers forgotten; with 2FA off the other browser needs no code anyway
      expect(await flows.remembrances.isRemembered(member.id, otherToken)).toBe(false);

      // other sessions ended: the other browser's refresh token is refused, the enrolling browser is signed out
      await expect(oidc.refreshTokenGrant(s.portalRp.config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect((await enroller.follow(accountPageUrl())).status).toBe(401);

      // this browser keeps its session
      const stillHere = await browser.follow(accountPageUrl());
      expect(stillHere.status).toBe(200);
      expect(stillHere.body).toContain(`Ingelogd als ${member.email}.`);
      expect(statusOf(stillHere)).toBe(nl['account.status_off']);

      // the other browser signs in with the password alone
      const again = await passwordStep(other, s.portalRp, member);
      expect(s.portalRp.isCallback(again.next.url)).toBe(true);
      expect((await s.portalRp.exchange(again.next.url, again.request)).claims()).toMatchObject({ acr: ACR_PWD, amr: ['pwd'] });
    });

    test('refused while required (by the account, then by the tenant): the reason on the page, 409 on confirm, 2FA stays on', async () => {
      const staff = s.seeded.staff;
      await reset(staff);
      const { flows, stores } = sleutel();
      const browser = new Browser();
      await enableOnAccountPage(browser, s.server.url, s.staffRp, staff); // leaves the page unlocked
      // while required the page has no 2FA form; the CSRF token of this browser stays the same
      const csrf = csrfOf(await browser.follow(accountPageUrl()));
      const disabledBefore = (await stores.audit.list({ accountId: staff.id, type: 'two_factor.disabled' })).length;

      for (const [requiredBy, requireIt] of [
        ['account', () => setAccountRequired(staff, true)],
        ['tenant', async () => {
          await setAccountRequired(staff, false);
          await setPolicy({ require_two_factor_for_all_staff: true });
        }],
      ] as const) {
        await requireIt();
        const reason = nl[`account.required_by_${requiredBy}`]!;
        const page = await browser.follow(accountPageUrl());
        expect(page.status).toBe(200);
        expect(statusOf(page)).toBe(nl['account.status_on']);
        expect(page.body).toContain(reason);
        expect(page.html().querySelector('form[action$="/disable"]')).toBeNull();
        expect(page.html().querySelector('form[action$="/unlock"]')).toBeNull(); // still unlocked
        expect(page.html().querySelector('form[action*="/two-factor"]')).toBeNull(); // no 2FA action at all
        const refused = await post(browser, '/disable/confirm', { csrf });
        expect(refused.status).toBe(409);
        expect(alertOf(refused)).toBe(reason);
        expect(await flows.secondFactors.isEnabled(staff.id)).toBe(true);
      }
      expect((await stores.audit.list({ accountId: staff.id, type: 'two_factor.disabled' })).length).toBe(disabledBefore);
    });

    test('while required, the first step (POST /two-factor/disable) is refused with the reason instead of asking the question', async () => {
      const staff = s.seeded.staff;
      await reset(staff);
      const browser = new Browser();
      await enableOnAccountPage(browser, s.server.url, s.staffRp, staff);
      const csrf = csrfOf(await browser.follow(accountPageUrl()));
      await setAccountRequired(staff, true);
      const answer = await post(browser, '/disable', { csrf });
      expect(answer.body).not.toContain(nl['account.disable_question']);
      expect(answer.status).toBe(409);
      expect(alertOf(answer)).toBe(nl['account.required_by_account']);
    });
  });

  // ---------------------------------------------------------------- fail closed

  test('a remembrance store that fails is no remembrance: the remembered browser is asked the code', async () => {
    const member = s.seeded.portal;
    await reset(member);
    const { secret } = await enableOnAccountPage(new Browser(), s.server.url, s.portalRp, member);
    const browser = new Browser();
    await signInWithCode(browser, s.portalRp, member, secret, 0);
    const token = await browserToken(browser, member.id);
    const store = sleutel().flows.remembrances;
    expect(await store.isRemembered(member.id, token)).toBe(true);

    let failures = 0;
    const patched = store as unknown as Record<string, unknown>;
    patched.isRemembered = async () => {
      failures += 1;
      delete patched.isRemembered; // once
      throw new Error('remembrance store unavailable');
    };
    try {
      const again = await passwordStep(browser, s.portalRp, member, { prompt: 'login' });
      expect(failures).toBe(1);
      expect(again.next.status).toBe(200);
      expect(asksCode(again.next)).toBe(true);
      const callback = await browser.submit(again.next, { code: totp(secret, 1) }, s.portalRp.isCallback);
      expect(s.portalRp.isCallback(callback.url)).toBe(true);
      expect((await s.portalRp.exchange(callback.url, again.request)).claims()).toMatchObject({ acr: ACR_2FA, amr: ['pwd', 'otp'] });
    } finally {
      delete patched.isRemembered;
    }
    // the store works again: the code just entered is remembered, under a fresh token
    expect(await store.isRemembered(member.id, await browserToken(browser, member.id))).toBe(true);
    expect(await store.isRemembered(member.id, token)).toBe(false);
  });
});
