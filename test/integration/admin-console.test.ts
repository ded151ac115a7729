import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { Browser, messageOf, type Page } from '../helpers/browser.js';
import { consolePage, csrfOf, post, postForm, signInToConsole } from '../helpers/admin-console.js';
import { apiFor, CodeClock, createAccount, enable2fa, isChallenge, isEnrollment, loginForManage, outboxFiles } from '../helpers/manage.js';
import { passwordStep } from '../helpers/two-factor.js';
import { keys } from '../../src/oidc/adapter.js';
import { useScenario } from '../helpers/scenario.js';
import { seedTenant, type SeededAccount } from '../helpers/seed.js';
import { storeModes } from '../helpers/stores.js';
import { CONSOLE_IDLE_SECONDS } from '../../src/http/admin/console-session.js';
import { clientId } from '../../src/cli/validation.js';
import { DEMO, seedDemo } from '../../src/demo/seed.js';
import { ADMIN_CLIENT_PREFIX } from '../../src/oidc/admin-client.js';
import { startServer } from '../helpers/server.js';

/**
 * The admin console (issue 15) through the real login with real TOTP codes: who gets in, every
 * screen action of the admin manual, the role table and tenant isolation as the use cases enforce
 * them, and bad input answered with a 4xx page.
 */

const texts = (page: Page) => page.html().querySelector('main')?.text.replace(/\s+/g, ' ') ?? '';
const rowOf = (page: Page, email: string) => page.html().querySelectorAll('tr').find((tr) => tr.text.includes(email))?.text.replace(/\s+/g, ' ') ?? '';

describe.each(storeModes)('the admin console (%s)', (mode) => {
  const s = useScenario(mode);
  const clock = new CodeClock();
  /** a key user (who is also the one signed in for most tests), and a coop_admin */
  let keyUser: SeededAccount;
  let keyUserBrowser: Browser;
  let coopAdmin: SeededAccount;
  let coopAdminBrowser: Browser;
  /** the TOTP secrets the two enrolled during their first console sign-in */
  const secrets = new Map<string, string>();
  const slug = () => s.seeded.slug;
  const accounts = () => s.server.sleutel.stores.accounts;
  const audit = (type: string) => s.server.sleutel.stores.audit.list({ tenantId: s.seeded.tenantId, type });

  beforeAll(async () => {
    keyUser = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'keyuser' });
    coopAdmin = await createAccount(s.server, s.seeded.tenantId, 'staff', ['coop_admin'], { prefix: 'coopadmin' });
    const [k, c] = await Promise.all([signInToConsole(s.server, slug(), keyUser, { clock }), signInToConsole(s.server, slug(), coopAdmin, { clock })]);
    expect(k.page.status).toBe(200);
    expect(c.page.status).toBe(200);
    keyUserBrowser = k.browser;
    coopAdminBrowser = c.browser;
    secrets.set(keyUser.id, k.secret!);
    secrets.set(coopAdmin.id, c.secret!);
  });

  describe('signing in', () => {
    test('a key user without 2FA enrolls inside the console login (acr 2fa is asked), then sees the users; the screen has CSP, no script', async () => {
      const fresh = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'newkey' });
      const { page, secret } = await signInToConsole(s.server, slug(), fresh, { clock });
      expect(secret).toMatch(/^[A-Z2-7]+$/);
      expect(await s.server.sleutel.stores.secondFactors.isEnabled(fresh.id)).toBe(true);
      expect(page.status).toBe(200);
      expect(page.html().querySelector('h1')?.text).toBe('Gebruikers');
      expect(rowOf(page, s.seeded.staff.email)).toContain(s.seeded.staff.email);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      expect(page.body).not.toContain('<script');
    });

    test('a key user with 2FA is asked a fresh code at every console sign-in, also with a Sleutel session in this browser', async () => {
      const admin = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'again' });
      const first = await signInToConsole(s.server, slug(), admin, { clock });
      const secret = first.secret!;
      await post(first.browser, first.page, '/sign-out');
      // the Sleutel session is still there, but the console's acr_values ask a fresh password and code
      const challenge = await first.browser.follow(`${s.server.url}/admin/${slug()}/users`);
      expect(isChallenge(challenge)).toBe(true);
      const second = await signInToConsole(s.server, slug(), admin, { clock, secret, browser: first.browser });
      expect(second.page.status).toBe(200);
      expect(texts(second.page)).toContain(admin.email);
    });

    test('the sign-in is an authorization request of the console’s own client: code + PKCE S256, acr_values 2fa, state', async () => {
      const start = await new Browser().request(`${s.server.url}/admin/${slug()}/sign-in`);
      expect(start.status).toBe(302);
      const auth = new URL(start.headers.get('location')!, s.server.url);
      expect(auth.pathname).toBe('/auth');
      expect(Object.fromEntries(auth.searchParams)).toMatchObject({
        client_id: `sleutel-admin-${slug()}`,
        response_type: 'code',
        redirect_uri: `${s.server.url}/admin/${slug()}/callback`,
        code_challenge_method: 'S256',
        acr_values: 'urn:sleutel:acr:2fa',
      });
      expect(auth.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(auth.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const client = await s.server.sleutel.stores.clients.find(`sleutel-admin-${slug()}`);
      expect(client).toMatchObject({ tenantId: s.seeded.tenantId, pool: 'staff', secret: undefined });
    });

    test('in English with Accept-Language: en', async () => {
      const admin = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'english' });
      const { page } = await signInToConsole(s.server, slug(), admin, { clock, browser: new Browser('en') });
      expect(page.html().querySelector('h1')?.text).toBe('Users');
      expect(page.html().querySelectorAll('nav a').map((a) => a.text)).toEqual(['Users', 'Portal users', 'Overview']);
    });

    test('staff without a role are refused with a clear page and get no console session', async () => {
      const plain = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'plain' });
      const { browser, page } = await signInToConsole(s.server, slug(), plain, { clock });
      expect(page.status).toBe(403);
      expect(messageOf(page)).toContain('geen toegang tot het beheer');
      const again = await browser.request(`${s.server.url}/admin/${slug()}/users`);
      expect(again.status).toBe(302);
      expect(again.headers.get('location')).toContain(`/admin/${slug()}/sign-in`);
    });

    test('a portal member cannot sign in: the console login is the staff login of this cooperative', async () => {
      const browser = new Browser();
      const login = await browser.follow(`${s.server.url}/admin/${slug()}/users`);
      const answer = await browser.submit(login, { email: s.seeded.portal.email, password: s.seeded.portal.password });
      expect(answer.html().querySelector('input[name=password]')).not.toBeNull();
      expect(messageOf(answer)).toContain('onjuist');
    });

    test('another cooperative’s admin: 404 on this cooperative’s screens and accounts, with their own session', async () => {
      const other = await seedTenant(s.server.sleutel.stores, `ander-${mode === 'embedded' ? 'e' : 'p'}`);
      const theirAdmin = await createAccount(s.server, other.tenantId, 'staff', ['key_user', 'coop_admin'], { prefix: 'ander' });
      const { browser, page } = await signInToConsole(s.server, other.slug, theirAdmin, { clock });
      expect(page.status).toBe(200);
      for (const path of ['/users', `/users/${s.seeded.staff.id}`, '/portal', '/cooperation', '/overview']) {
        expect((await consolePage(s.server, browser, slug(), path)).status).toBe(404);
      }
      // an id of this cooperative in the other cooperative's forms
      const token = csrfOf(page);
      const forged = await postForm(s.server, browser, other.slug, `/users/${s.seeded.staff.id}/required`, { csrf: token, required: 'yes' });
      expect(forged.status).toBe(404);
      expect((await postForm(s.server, browser, other.slug, `/portal/${s.seeded.portal.id}/reset`, { csrf: token })).status).toBe(404);
      expect((await accounts().findById(s.seeded.staff.id))!.twoFactorRequired).toBe(false);
    });

    test('an unknown cooperative is a 404; a callback without the sign-in state is a 400', async () => {
      expect((await new Browser().request(`${s.server.url}/admin/bestaat-niet/users`)).status).toBe(404);
      const callback = await new Browser().request(`${s.server.url}/admin/${slug()}/callback?code=abc&state=xyz`);
      expect(callback.status).toBe(400);
    });

    test('the console session lives in the store with a 15-minute idle timeout; once gone, the next screen signs in again; sign-out ends it', async () => {
      const admin = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'idle' });
      const { browser, page } = await signInToConsole(s.server, slug(), admin, { clock });
      const cookie = (await browser.jar.getCookies(s.server.url)).find((c) => c.key === 'sleutel.admin')!;
      expect(cookie.httpOnly).toBe(true);
      const key = `admin-console:${createHash('sha256').update(cookie.value).digest('base64url')}`;
      const ttl = await s.server.sleutel.stores.kv.ttl(key);
      expect(ttl).toBeGreaterThan(CONSOLE_IDLE_SECONDS - 60);
      expect(ttl).toBeLessThanOrEqual(CONSOLE_IDLE_SECONDS);
      const signedOut = await post(browser, page, '/sign-out');
      expect(signedOut.status).toBe(200);
      expect(messageOf(signedOut)).toContain('uitgelogd');
      expect(await s.server.sleutel.stores.kv.get(key)).toBeNull();
      expect((await browser.request(`${s.server.url}/admin/${slug()}/users`)).status).toBe(302);
      // a form posted after the session ended: 401, not an action
      expect((await postForm(s.server, browser, slug(), `/users/${s.seeded.staff.id}/required`, { csrf: csrfOf(page), required: 'yes' })).status).toBe(401);
    });

    test('losing the role ends the console at the next request (roles are read fresh)', async () => {
      const admin = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'demoted' });
      const { browser } = await signInToConsole(s.server, slug(), admin, { clock });
      await accounts().update(admin.id, { roles: [] });
      const page = await consolePage(s.server, browser, slug(), '/users');
      expect(page.status).toBe(403);
      expect(messageOf(page)).toContain('geen toegang');
    });
  });

  describe('Gebruikers (key user)', () => {
    test('verplicht voor deze gebruiker: on, then off; the list says why; audited with the admin as actor', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'verplicht' });
      let page = await consolePage(s.server, keyUserBrowser, slug(), `/users/${target.id}`);
      expect(texts(page)).toContain('Verplicht voor deze gebruiker');
      page = await post(keyUserBrowser, page, '/required');
      expect(messageOf(page)).toBe('Twee factor authenticatie is nu verplicht voor deze gebruiker.');
      expect((await accounts().findById(target.id))!.twoFactorRequired).toBe(true);
      const list = await consolePage(s.server, keyUserBrowser, slug(), `/users?q=${encodeURIComponent(target.email)}`);
      expect(rowOf(list, target.email)).toContain('Ja (voor deze gebruiker)');
      const events = (await audit('two_factor.requirement_changed')).filter((e) => e.accountId === target.id);
      expect(events[0]).toMatchObject({ actor: `account:${keyUser.id}`, details: { required: true } });
      page = await post(keyUserBrowser, page, '/required');
      expect(messageOf(page)).toContain('niet meer verplicht');
      expect((await accounts().findById(target.id))!.twoFactorRequired).toBe(false);
    });

    test('reset: the confirmation says what happens, then the secret is gone and the user enrolls again at the next login', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'reset' });
      await enable2fa(s.server, s.staffRp, target, clock);
      await accounts().update(target.id, { twoFactorRequired: true });
      let page = await consolePage(s.server, keyUserBrowser, slug(), `/users/${target.id}`);
      page = await keyUserBrowser.follow(`${s.server.url}${page.html().querySelectorAll('a').find((a) => a.text.trim() === 'reset')!.getAttribute('href')}`);
      expect(page.html().querySelector('h1')?.text).toBe('Twee factor authenticatie resetten');
      expect(texts(page)).toContain('QR-code');
      // looking at the confirmation changes nothing
      expect(await s.server.sleutel.stores.secondFactors.isEnabled(target.id)).toBe(true);
      page = await post(keyUserBrowser, page, '/reset');
      expect(messageOf(page)).toBe('Twee factor authenticatie is gereset.');
      expect(await s.server.sleutel.stores.secondFactors.isEnabled(target.id)).toBe(false);
      expect((await audit('two_factor.reset')).some((e) => e.accountId === target.id && e.actor === `account:${keyUser.id}`)).toBe(true);
      // required for them: the next login shows the QR code
      const { next } = await passwordStep(new Browser(), s.staffRp, target);
      expect(isEnrollment(next)).toBe(true);
    });

    test('unblock after a lockout, disable and enable', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'blocked' });
      const { lockout } = s.server.sleutel.flows;
      for (let i = 0; i < 5; i += 1) await lockout.registerFailure(target.id);
      expect(await lockout.lockedFor(target.id)).toBeGreaterThan(0);
      let page = await consolePage(s.server, keyUserBrowser, slug(), `/users?q=${encodeURIComponent(target.email)}`);
      expect(rowOf(page, target.email)).toContain('Geblokkeerd');
      page = await consolePage(s.server, keyUserBrowser, slug(), `/users/${target.id}`);
      page = await post(keyUserBrowser, page, '/unblock');
      expect(messageOf(page)).toBe('De blokkade is opgeheven.');
      expect(await lockout.lockedFor(target.id)).toBe(0);
      page = await post(keyUserBrowser, page, '/disabled');
      expect(messageOf(page)).toContain('uitgeschakeld');
      expect((await accounts().findById(target.id))!.disabled).toBe(true);
      page = await post(keyUserBrowser, page, '/disabled');
      expect((await accounts().findById(target.id))!.disabled).toBe(false);
    });

    test('roles: a key user grants key_user; granting coop_admin is refused (403)', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'roles' });
      let page = await consolePage(s.server, keyUserBrowser, slug(), `/users/${target.id}`);
      page = await post(keyUserBrowser, page, '/roles', { key_user: 'on' });
      expect(messageOf(page)).toBe('De rollen zijn opgeslagen.');
      expect((await accounts().findById(target.id))!.roles).toEqual(['key_user']);
      const refused = await post(keyUserBrowser, page, '/roles', { key_user: 'on', coop_admin: 'on' });
      expect(refused.status).toBe(403);
      // shown inside the console: its navigation, why, and a way back
      expect(messageOf(refused)).toContain('U mag dit niet doen');
      expect(refused.html().querySelector('nav.admin-nav')).not.toBeNull();
      expect(refused.html().querySelector(`a[href="/admin/${slug()}/users"]`)).not.toBeNull();
      expect((await accounts().findById(target.id))!.roles).toEqual(['key_user']);
    });

    test('the dominance rule: a coop_admin’s page is read-only for a key user (no controls), and their own page offers no role, disable or 2FA controls', async () => {
      const outranking = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user', 'coop_admin'], { prefix: 'hoger', hashed: false });
      const forms = (page: Page) => page.html().querySelectorAll('form').map((f) => f.getAttribute('action')!.replace(`/admin/${slug()}`, ''));
      const theirs = await consolePage(s.server, keyUserBrowser, slug(), `/users/${outranking.id}`);
      expect(texts(theirs)).toContain('u kunt het bekijken, maar niet wijzigen');
      expect(forms(theirs)).toEqual(['/sign-out']);
      // the forms exist nevertheless for a forger: refused by the use case, 403 inside the console
      expect((await postForm(s.server, keyUserBrowser, slug(), `/users/${outranking.id}/disabled`, { csrf: csrfOf(theirs), disabled: 'yes' })).status).toBe(403);
      expect((await accounts().findById(outranking.id))!.disabled).toBe(false);
      const own = await consolePage(s.server, keyUserBrowser, slug(), `/users/${keyUser.id}`);
      expect(forms(own)).toEqual(['/sign-out', `/users/${keyUser.id}/details`]);
    });

    test('name change, and an invitation of a new user (the existing invitation mail)', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'named' });
      let page = await consolePage(s.server, keyUserBrowser, slug(), `/users/${target.id}`);
      page = await post(keyUserBrowser, page, '/details', { name: 'Nieuwe Naam', email: target.email });
      expect(messageOf(page)).toBe('De gegevens zijn opgeslagen.');
      expect((await accounts().findById(target.id))!.name).toBe('Nieuwe Naam');
      // a new address counts only once it is confirmed by the link mailed to it
      const newAddress = `nieuw-${target.email}`;
      page = await post(keyUserBrowser, page, '/details', { name: 'Nieuwe Naam', email: newAddress });
      expect(messageOf(page)).toContain('zodra de gebruiker het bevestigt');
      expect(texts(page)).toContain(`wacht op bevestiging: ${newAddress}`);
      expect((await accounts().findById(target.id))!.email).toBe(target.email);

      const invite = await consolePage(s.server, keyUserBrowser, slug(), '/users/new');
      const email = `uitgenodigd-${mode === 'embedded' ? 'e' : 'p'}@example.nl`;
      const created = await post(keyUserBrowser, invite, '/users', { email, name: 'Uitgenodigd' });
      expect(messageOf(created)).toContain('uitnodiging');
      const account = await accounts().findByEmail(s.seeded.tenantId, 'staff', email);
      expect(account).toMatchObject({ pool: 'staff', name: 'Uitgenodigd', roles: [] });
      expect(outboxFiles(s.server, 'invitation').some((f) => fs.readFileSync(f, 'utf8').includes(email))).toBe(true);
    });

    test('search and paging: matches by name or e-mail, "%" is literal, page past the end 404, over-long or broken input 400, another tenant’s or a malformed id 404', async () => {
      const tag = `zoek${mode === 'embedded' ? 'e' : 'p'}`;
      for (let i = 0; i < 21; i += 1) await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: tag, hashed: false });
      const first = await consolePage(s.server, keyUserBrowser, slug(), `/users?q=${tag}`);
      expect(texts(first)).toContain('21 gevonden');
      expect(first.html().querySelectorAll('tbody tr')).toHaveLength(20);
      expect(texts(first)).toContain('Pagina 1 van 2');
      const second = await consolePage(s.server, keyUserBrowser, slug(), `/users?q=${tag}&page=2`);
      expect(second.html().querySelectorAll('tbody tr')).toHaveLength(1);
      expect((await consolePage(s.server, keyUserBrowser, slug(), `/users?q=${tag}&page=3`)).status).toBe(404);
      expect(texts(await consolePage(s.server, keyUserBrowser, slug(), '/users?q=%25'))).toContain('0 gevonden');
      expect((await consolePage(s.server, keyUserBrowser, slug(), `/users?q=${'x'.repeat(101)}`)).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/users?q=%FF%FE')).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/users?q=%E0%A4')).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/users?page=-1')).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/users?page=99999999999')).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/users/not-a-uuid')).status).toBe(404);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
      // a portal account is not on the staff screen
      expect((await consolePage(s.server, keyUserBrowser, slug(), `/users/${s.seeded.portal.id}`)).status).toBe(404);
    });

    test('forms: without the CSRF token 403, with a broken field 400, broken UTF-8 in a form 400 — nothing changes', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'csrf' });
      const page = await consolePage(s.server, keyUserBrowser, slug(), `/users/${target.id}`);
      expect((await postForm(s.server, keyUserBrowser, slug(), `/users/${target.id}/required`, { required: 'yes' })).status).toBe(403);
      expect((await postForm(s.server, keyUserBrowser, slug(), `/users/${target.id}/required`, { csrf: 'x'.repeat(43), required: 'yes' })).status).toBe(403);
      expect((await postForm(s.server, keyUserBrowser, slug(), `/users/${target.id}/required`, { csrf: csrfOf(page), required: 'maybe' })).status).toBe(400);
      const broken = await keyUserBrowser.request(`${s.server.url}/admin/${slug()}/users/${target.id}/details`, {
        method: 'POST',
        body: `csrf=${csrfOf(page)}&name=%FF&email=${encodeURIComponent(target.email)}`,
      });
      expect(broken.status).toBe(400);
      // a GET never acts
      expect((await keyUserBrowser.request(`${s.server.url}/admin/${slug()}/users/${target.id}/required?required=yes`)).status).toBe(404);
      expect((await accounts().findById(target.id))!).toMatchObject({ twoFactorRequired: false, name: 'csrf staff' });
    });

    test('a key user has no cooperation screen, and a forged "require for all" form is refused with 403 and an audit event', async () => {
      const users = await consolePage(s.server, keyUserBrowser, slug(), '/users');
      expect(users.html().querySelectorAll('nav a').map((a) => a.text)).not.toContain('Coöperatie');
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/cooperation')).status).toBe(403);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/cooperation/require-all')).status).toBe(403);
      const forged = await postForm(s.server, keyUserBrowser, slug(), '/cooperation/require-all', { csrf: csrfOf(users), require_all: 'yes' });
      expect(forged.status).toBe(403);
      const settings = await postForm(s.server, keyUserBrowser, slug(), '/cooperation/settings', {
        csrf: csrfOf(users), remember_staff: '0', remember_portal: '0', issuer_staff: '', issuer_portal: '',
      });
      expect(settings.status).toBe(403);
      expect((await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy).toMatchObject({ require_two_factor_for_all_staff: false, remember_two_factor_hours: { staff: 24 } });
      const refusals = (await audit('admin.refused')).filter((e) => e.actor === `account:${keyUser.id}`);
      expect(refusals.length).toBeGreaterThanOrEqual(2);
    });
  });

  describe('Portal gebruikers', () => {
    test('status and reset only: the confirmation says the member logs in with the password alone; no require control anywhere', async () => {
      const member = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { prefix: 'lid' });
      await enable2fa(s.server, s.portalRp, member, clock);
      let page = await consolePage(s.server, coopAdminBrowser, slug(), `/portal?q=${encodeURIComponent(member.email)}`);
      expect(rowOf(page, member.email)).toContain('Ja');
      expect(page.html().querySelectorAll('form').filter((f) => f.getAttribute('method') === 'post').map((f) => f.getAttribute('action'))).toEqual([`/admin/${slug()}/sign-out`]);
      const link = page.html().querySelectorAll('a').find((a) => a.getAttribute('href')?.endsWith(`/portal/${member.id}/reset`));
      page = await coopAdminBrowser.follow(`${s.server.url}${link!.getAttribute('href')}`);
      expect(texts(page)).toContain('weer inloggen met alleen wachtwoord');
      page = await post(coopAdminBrowser, page, '/reset');
      expect(messageOf(page)).toBe('Twee factor authenticatie is gereset.');
      expect(await s.server.sleutel.stores.secondFactors.isEnabled(member.id)).toBe(false);
      expect(rowOf(page, member.email)).toContain('Nee');
      // requiring 2FA of a member through the staff screen's form: not a staff account (404)
      const keyUserPage = await consolePage(s.server, keyUserBrowser, slug(), '/portal');
      const forged = await postForm(s.server, keyUserBrowser, slug(), `/users/${member.id}/required`, { csrf: csrfOf(keyUserPage), required: 'yes' });
      expect(forged.status).toBe(404);
      expect((await accounts().findById(member.id))!.twoFactorRequired).toBe(false);
    });
  });

  describe('Coöperatie (coop_admin)', () => {
    test('settings: remember hours per pool, forget on logout, issuer labels; out-of-range hours 400', async () => {
      let page = await consolePage(s.server, coopAdminBrowser, slug(), '/cooperation');
      expect(page.status).toBe(200);
      page = await post(coopAdminBrowser, page, '/settings', { remember_staff: '8', remember_portal: '0', issuer_staff: 'Econobis Zon', issuer_portal: '' });
      expect(messageOf(page)).toBe('De instellingen zijn opgeslagen.');
      const policy = (await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy;
      expect(policy).toMatchObject({ remember_two_factor_hours: { staff: 8, portal: 0 }, forget_two_factor_on_logout: false, totp_issuer: { staff: 'Econobis Zon' } });
      expect(policy.totp_issuer.portal).toBeUndefined();
      const bad = await post(coopAdminBrowser, page, '/settings', { remember_staff: '721', remember_portal: '0', issuer_staff: '', issuer_portal: '' });
      expect(bad.status).toBe(400);
      page = await post(coopAdminBrowser, page, '/settings', { remember_staff: '24', remember_portal: '24', forget_on_logout: 'on', issuer_staff: '', issuer_portal: '' });
      expect((await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy).toMatchObject({ remember_two_factor_hours: { staff: 24, portal: 24 }, forget_two_factor_on_logout: true, totp_issuer: {} });
    });

    test('a coop_admin sees the staff but cannot require or reset for them (no controls; a forged form 403)', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'coopview' });
      const page = await consolePage(s.server, coopAdminBrowser, slug(), `/users/${target.id}`);
      expect(page.status).toBe(200);
      expect(page.html().querySelectorAll('form').map((f) => f.getAttribute('action'))).toEqual([`/admin/${slug()}/sign-out`]);
      expect((await postForm(s.server, coopAdminBrowser, slug(), `/users/${target.id}/required`, { csrf: csrfOf(page), required: 'yes' })).status).toBe(403);
      expect((await accounts().findById(target.id))!.twoFactorRequired).toBe(false);
    });

    // last in this suite: it changes the whole cooperation
    test('verplichten voor alle gebruikers: the warning and the number of staff it affects now, then on (those staff signed out), then off', async () => {
      // the seeded staff member (no 2FA) is signed in at Econobis right now
      const signedIn = await passwordStep(new Browser(), s.staffRp, s.seeded.staff);
      expect(s.staffRp.isCallback(signedIn.next.url)).toBe(true);
      const sessionsOf = (id: string) => s.server.sleutel.stores.kv.members(keys.accountSessions(id));
      expect((await sessionsOf(s.seeded.staff.id)).length).toBeGreaterThan(0);
      const unenrolled = await accounts().staffWithoutTwoFactor(s.seeded.tenantId);
      let page = await consolePage(s.server, coopAdminBrowser, slug(), '/cooperation');
      page = await coopAdminBrowser.follow(`${s.server.url}${page.html().querySelectorAll('a').find((a) => a.getAttribute('href')?.endsWith('/cooperation/require-all'))!.getAttribute('href')}`);
      expect(texts(page)).toContain('Waarschuwing');
      expect(texts(page)).toContain('alle gebruikers per direct verplicht');
      expect(texts(page)).toContain(`Dit raakt nu ${unenrolled.length} gebruiker(s)`);
      expect(unenrolled.length).toBeGreaterThan(0);
      expect((await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy.require_two_factor_for_all_staff).toBe(false);
      page = await post(coopAdminBrowser, page, '/require-all');
      expect(messageOf(page)).toBe('Twee factor authenticatie is nu verplicht voor alle gebruikers.');
      expect((await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy.require_two_factor_for_all_staff).toBe(true);
      const [event] = await audit('tenant.policy_changed');
      expect(event).toMatchObject({ actor: `account:${coopAdmin.id}`, details: { affected_accounts: unenrolled.length } });
      expect(await sessionsOf(s.seeded.staff.id)).toEqual([]);
      const users = await consolePage(s.server, coopAdminBrowser, slug(), `/users?q=${encodeURIComponent(s.seeded.staff.email)}`);
      expect(rowOf(users, s.seeded.staff.email)).toContain('Ja (coöperatie)');
      page = await post(coopAdminBrowser, page, '/require-all');
      expect(messageOf(page)).toContain('niet meer verplicht');
      expect((await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy.require_two_factor_for_all_staff).toBe(false);
    });
  });

  describe('one set of rules: the console and /manage/v1 answer alike', () => {
    test.each(['key_user', 'coop_admin'] as const)('%s: allowed and refused the same actions on both', async (role) => {
      const actor = role === 'key_user' ? keyUser : coopAdmin;
      const browser = role === 'key_user' ? keyUserBrowser : coopAdminBrowser;
      const { tokens } = await loginForManage(s.server, s.staffRp, actor, () => clock.next(secrets.get(actor.id)!));
      const api = apiFor(s.server, tokens.access_token);
      const csrf = csrfOf(await consolePage(s.server, browser, slug(), '/users'));
      /** the console's answer to a form, without following its redirect: 303 (done) counts as 200 */
      const consoleAnswer = async (path: string, form: Record<string, string>) => {
        const page = await browser.request(`${s.server.url}/admin/${slug()}${path}`, { method: 'POST', form: { csrf, ...form } });
        return page.status === 303 ? 200 : page.status;
      };
      const staff = () => createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: `same-${role}`, hashed: false });
      const portal = () => createAccount(s.server, s.seeded.tenantId, 'portal', [], { prefix: `same-${role}`, hashed: false });
      const cases: [string, (id: string) => Promise<number>, (id: string) => Promise<number>, () => Promise<SeededAccount>][] = [
        ['require 2FA of a staff member', (id) => consoleAnswer(`/users/${id}/required`, { required: 'yes' }), async (id) => (await api('PUT', `/tenants/${slug()}/accounts/${id}/two-factor/requirement`, { required: true })).status, staff],
        ['reset a staff member', (id) => consoleAnswer(`/users/${id}/reset`, {}), async (id) => (await api('DELETE', `/tenants/${slug()}/accounts/${id}/two-factor`)).status, staff],
        ['reset a portal member', (id) => consoleAnswer(`/portal/${id}/reset`, {}), async (id) => (await api('DELETE', `/tenants/${slug()}/accounts/${id}/two-factor`)).status, portal],
        ['unblock a staff member', (id) => consoleAnswer(`/users/${id}/unblock`, {}), async (id) => (await api('POST', `/tenants/${slug()}/accounts/${id}/unblock`)).status, staff],
        ['disable a staff member', (id) => consoleAnswer(`/users/${id}/disabled`, { disabled: 'yes' }), async (id) => (await api('PATCH', `/tenants/${slug()}/accounts/${id}`, { disabled: true })).status, staff],
        ['set the tenant policy', () => consoleAnswer('/cooperation/require-all', { require_all: 'no' }), async () => (await api('PUT', `/tenants/${slug()}/policy`, { require_two_factor_for_all_staff: false })).status, staff],
      ];
      const answers: Record<string, { console: number; api: number }> = {};
      for (const [name, viaConsole, viaApi, target] of cases) {
        answers[name] = { console: await viaConsole((await target()).id), api: await viaApi((await target()).id) };
      }
      for (const [name, answer] of Object.entries(answers)) expect({ name, ...answer }).toEqual({ name, console: answer.api, api: answer.api });
      // the role table itself (DESIGN §2), as both surfaces apply it
      const allowed = Object.fromEntries(Object.entries(answers).map(([name, a]) => [name, a.api < 300]));
      expect(allowed).toEqual(
        role === 'key_user'
          ? { 'require 2FA of a staff member': true, 'reset a staff member': true, 'reset a portal member': true, 'unblock a staff member': true, 'disable a staff member': true, 'set the tenant policy': false }
          : { 'require 2FA of a staff member': false, 'reset a staff member': false, 'reset a portal member': true, 'unblock a staff member': false, 'disable a staff member': false, 'set the tenant policy': true },
      );
    });
  });

  describe('Overzicht', () => {
    test('adoption per pool as the stats say, and the audit log filtered by type, account and period, paged; bad filters 400', async () => {
      const stats = await s.server.sleutel.stores.accounts.twoFactorStats(s.seeded.tenantId);
      let page = await consolePage(s.server, keyUserBrowser, slug(), '/overview');
      expect(page.status).toBe(200);
      const staffRow = rowOf(page, 'Econobis gebruikers');
      expect(staffRow).toContain(String(stats.staff.with_two_factor));
      expect(staffRow).toContain(String(stats.staff.without_two_factor));
      page = await consolePage(s.server, keyUserBrowser, slug(), '/overview?type=two_factor.reset&period=1');
      const resets = await audit('two_factor.reset');
      expect(texts(page)).toContain(`${resets.length} gebeurtenis(sen)`);
      expect(page.html().querySelectorAll('tbody tr').filter((tr) => tr.text.includes('two_factor.reset'))).toHaveLength(Math.min(resets.length, 25));
      page = await consolePage(s.server, keyUserBrowser, slug(), `/overview?account=${encodeURIComponent(keyUser.email)}`);
      const own = await s.server.sleutel.stores.audit.list({ tenantId: s.seeded.tenantId, accountId: keyUser.id });
      expect(texts(page)).toContain(`${own.length} gebeurtenis(sen)`);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/overview?account=nobody@nowhere.example')).status).toBe(200);
      expect((await consolePage(s.server, keyUserBrowser, slug(), "/overview?account=';drop")).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/overview?type=DROP%20TABLE')).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/overview?period=2')).status).toBe(400);
      expect((await consolePage(s.server, keyUserBrowser, slug(), '/overview?page=999')).status).toBe(404);
    });
  });
});

describe('the demo (npm start)', () => {
  test('the demo’s staff account opens /admin/demo at once: key user and coop_admin, 2FA set up at the first sign-in', async () => {
    const server = await startServer('embedded');
    try {
      const demo = await seedDemo(server.sleutel.stores, server.config);
      expect(demo?.instructions).toContain(`${server.url}/admin/demo`);
      const password = fs.readFileSync(path.join(server.config.dataDir, 'demo-credentials.txt'), 'utf8').trim();
      const staff = (await server.sleutel.stores.accounts.findByEmail((await server.sleutel.stores.tenants.findBySlug('demo'))!.id, 'staff', DEMO.staffEmail))!;
      const { page } = await signInToConsole(server, 'demo', { id: staff.id, email: DEMO.staffEmail, password }, { clock: new CodeClock() });
      expect(page.status).toBe(200);
      expect(page.html().querySelectorAll('nav a').map((a) => a.text)).toEqual(['Gebruikers', 'Portal gebruikers', 'Coöperatie', 'Overzicht']);
    } finally {
      await server.close();
    }
  });
});

test('the CLI refuses client ids of the admin console’s reserved prefix', () => {
  expect(clientId.safeParse(`${ADMIN_CLIENT_PREFIX}demo`).success).toBe(false);
  expect(clientId.safeParse('demo-econobis').success).toBe(true);
});
