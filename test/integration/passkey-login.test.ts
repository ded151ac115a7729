import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { Browser, type Page } from '../helpers/browser.js';
import { isChallenge } from '../helpers/login-screens.js';
import { givePasskey, optionsOf, postForm, startPasskeyServer } from '../helpers/passkey-screens.js';
import type { RelyingParty } from '../helpers/relying-party.js';
import type { SeededAccount } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { SoftwareAuthenticator, type SoftwareCredential } from '../helpers/software-authenticator.js';
import { storeModes } from '../helpers/stores.js';
import { totp } from '../helpers/totp.js';
import { call, createServiceClient, serviceToken } from '../helpers/manage.js';
import { hashRecoveryCode } from '../../src/factors/recovery-code.js';

/**
 * Signing in with a passkey (issue 21) through the real screens, with a software authenticator:
 * offered first after the password, amr hwk/swk and acr 2fa, the browser remembered; the code and
 * the recovery code still reachable; every bad answer a 4xx with nothing signed in, counted like a
 * wrong code; a counter that goes back refused and audited as a clone.
 */
const ACR_2FA = 'urn:sleutel:acr:2fa';

describe.each(storeModes)('signing in with a passkey (%s)', (mode) => {
  let server: TestServer;
  let base: string;
  let portalRp: RelyingParty;
  let member: SeededAccount;
  let staff: SeededAccount;
  let tenantId: string;

  beforeAll(async () => {
    const started = await startPasskeyServer(mode);
    ({ server, base, portalRp } = started);
    member = started.seeded.portal;
    staff = started.seeded.staff;
    tenantId = started.seeded.tenantId;
  });
  afterAll(() => server?.close());

  const flows = () => server.sleutel.flows;
  const auditTypes = async (accountId: string) => (await server.sleutel.stores.db('audit_events').where({ account_id: accountId }).orderBy('id').select('type')).map((r: { type: string }) => r.type);
  const action = (page: Page, suffix: string) => page.html().querySelectorAll('form').find((f) => f.getAttribute('action')?.endsWith(suffix))?.getAttribute('action') ?? '';
  const isPasskeyScreen = (page: Page) => Boolean(page.html().querySelector('form[data-passkey-authenticate]'));

  async function passwordStep(browser: Browser, params: Record<string, string> = {}) {
    const request = await portalRp.authorization(params);
    const login = await browser.follow(request.url, portalRp.isCallback);
    const next = await browser.submit(login, { email: member.email, password: member.password }, portalRp.isCallback);
    return { request, next };
  }

  async function answer(browser: Browser, page: Page, credential: SoftwareCredential, overrides: Parameters<SoftwareAuthenticator['assert']>[3] = {}, authenticator = new SoftwareAuthenticator()) {
    const passkeyAction = action(page, '/passkey');
    const options = optionsOf(page, passkeyAction, 'data-passkey-authenticate');
    const response = authenticator.assert(credential, options, base, overrides);
    return { response, page: await postForm(browser, page, passkeyAction, { webauthn_response: JSON.stringify(response) }, portalRp.isCallback) };
  }

  let credential: SoftwareCredential;
  beforeEach(async () => {
    await flows().secondFactors.remove(member.id);
    await flows().remembrances.forgetAll(member.id);
    await flows().lockout.clear(member.id);
    credential = await givePasskey(server, base, member.id, new SoftwareAuthenticator());
  });

  test('offered first after the password; passed, the login has amr hwk and acr 2fa, and the browser is remembered', async () => {
    const browser = new Browser();
    const { request, next } = await passwordStep(browser);
    expect(next.status).toBe(200);
    expect(isPasskeyScreen(next)).toBe(true);
    // no TOTP: no code link; without JavaScript the page says a passkey needs it
    expect(next.html().querySelector('a[href$="/code"]')).toBeNull();
    expect(next.html().querySelector('[data-passkey-needs-script]')).not.toBeNull();
    expect(next.html().querySelector('a[href$="/recovery"]')).not.toBeNull();

    const { page: callback } = await answer(browser, next, credential);
    expect(portalRp.isCallback(callback.url)).toBe(true);
    const claims = (await portalRp.exchange(callback.url, request)).claims()!;
    expect(claims.acr).toBe(ACR_2FA);
    expect(new Set(claims.amr as string[])).toEqual(new Set(['pwd', 'hwk']));
    expect(await auditTypes(member.id)).toEqual(expect.arrayContaining(['passkey.used', 'second_factor.succeeded']));
    expect((await flows().passkeys.listByAccount(member.id))[0]!.lastUsedAt).not.toBeNull();

    // remembered like after a code: the next login of this browser (the password asked again) asks no second factor
    const again = await passwordStep(browser, { prompt: 'login' });
    expect(portalRp.isCallback(again.next.url)).toBe(true);
  });

  test('a synced passkey earns swk', async () => {
    await flows().secondFactors.remove(member.id);
    const synced = new SoftwareAuthenticator({ backupEligible: true, backedUp: true, counterStep: 0 });
    const syncedCredential = await givePasskey(server, base, member.id, synced);
    const browser = new Browser();
    const { request, next } = await passwordStep(browser);
    const { page: callback } = await answer(browser, next, syncedCredential, {}, synced);
    expect(new Set((await portalRp.exchange(callback.url, request)).claims()!.amr as string[])).toEqual(new Set(['pwd', 'swk']));
  });

  test('bad answers are 401 with nothing signed in, and count toward the challenge: wrong origin, wrong challenge, a replay, another account’s credential', async () => {
    const staffCredential = await givePasskey(server, base, staff.id, new SoftwareAuthenticator(), 'staff key');
    const browser = new Browser();
    let { next: page } = await passwordStep(browser);

    let result = await answer(browser, page, credential, { origin: 'https://evil.example' });
    expect(result.page.status).toBe(401);
    expect(isPasskeyScreen(result.page)).toBe(true);
    page = result.page;

    result = await answer(browser, page, credential, { challenge: Buffer.from('not ours').toString('base64url') });
    expect(result.page.status).toBe(401);
    page = result.page;

    result = await answer(browser, page, staffCredential);
    expect(result.page.status).toBe(401);
    page = result.page;

    // a replay: the same assertion again (its challenge is used up)
    const accepted = await answer(browser, page, credential);
    expect(portalRp.isCallback(accepted.page.url)).toBe(true);
    const second = new Browser();
    const other = await passwordStep(second);
    const replay = await postForm(second, other.next, action(other.next, '/passkey'), { webauthn_response: JSON.stringify(accepted.response) }, portalRp.isCallback);
    expect(replay.status).toBe(401);
    expect(portalRp.isCallback(replay.url)).toBe(false);

    const failed = (await auditTypes(member.id)).filter((t) => t === 'second_factor.failed').length;
    expect(failed).toBe(4);
    expect((await auditTypes(member.id)).filter((t) => t === 'passkey.refused').length).toBe(4);
    // the staff account's credential was not touched
    expect((await flows().passkeys.listByAccount(staff.id))[0]!.lastUsedAt).toBeNull();
  });

  test('refused answers count toward the account lockout like wrong codes: the fifth locks it (429), and then nothing is signed in', async () => {
    const browser = new Browser();
    let { next: page } = await passwordStep(browser);
    for (let i = 0; i < 5; i += 1) page = (await answer(browser, page, credential, { origin: 'https://evil.example' })).page;
    expect(page.status).toBe(429);
    expect(await flows().lockout.lockedFor(member.id)).toBeGreaterThan(0);
    expect(await auditTypes(member.id)).toContain('account.locked');
  });

  test('a counter that goes back (a cloned authenticator) is refused and audited as passkey.cloned', async () => {
    const browser = new Browser();
    const first = await passwordStep(browser);
    const ok = await answer(browser, first.next, credential);
    expect(portalRp.isCallback(ok.page.url)).toBe(true);
    await flows().remembrances.forgetAll(member.id);
    const clone = new Browser();
    const { next } = await passwordStep(clone);
    const cloned = await answer(clone, next, credential, { counter: 1 });
    expect(cloned.page.status).toBe(401);
    expect(await auditTypes(member.id)).toContain('passkey.cloned');
  });

  test('an account with TOTP too: "Gebruik code uit de app" and the code form without JavaScript; the code still signs in', async () => {
    const secret = 'JBSWY3DPEHPK3PXP'.repeat(2);
    await server.sleutel.stores.secondFactors.putImported(member.id, { secret, confirmedAt: new Date(), lastTimeStep: 0, recoveryCodeHash: hashRecoveryCode('ABCD-EFGH-JKLM-NPQR') });
    const browser = new Browser();
    const { request, next } = await passwordStep(browser);
    expect(isPasskeyScreen(next)).toBe(true);
    const link = next.html().querySelector('a[href$="/code"]');
    expect(link?.text.trim()).toBe('Gebruik code uit de app');
    expect(next.html().querySelector('noscript')?.innerHTML).toContain('name="code"');
    const codePage = await browser.follow(new URL(link!.getAttribute('href')!, next.url).href);
    expect(isChallenge(codePage)).toBe(true);
    const callback = await browser.submit(codePage, { code: totp(secret, 0) }, portalRp.isCallback, '/code');
    expect(portalRp.isCallback(callback.url)).toBe(true);
    expect(new Set((await portalRp.exchange(callback.url, request)).claims()!.amr as string[])).toEqual(new Set(['pwd', 'otp']));
  });

  test('the management API shows which factors an account has (passkeys by name and dates, never a key); a reset removes the passkeys too', async () => {
    const api = { ...server, url: base };
    const token = await serviceToken(api, await createServiceClient(api, tenantId));
    const path = `/tenants/zonnig/accounts/${member.id}`;
    const view = await call(api, token, 'GET', path);
    expect(view.status).toBe(200);
    expect(view.body.two_factor.enabled).toBe(true);
    expect(view.body.second_factors.kinds).toEqual(['passkey']);
    expect(view.body.second_factors.passkeys).toEqual([{ id: expect.any(String), name: 'Sleutelbos', created_at: expect.any(String), last_used_at: null }]);
    expect(JSON.stringify(view.body)).not.toMatch(/public_?key|credential_?id/i);

    const reset = await call(api, token, 'DELETE', `${path}/two-factor`);
    expect(reset.status).toBe(200);
    expect(reset.body.two_factor.enabled).toBe(false);
    expect(reset.body.second_factors).toEqual({ kinds: [], passkeys: [] });
    expect(await flows().passkeys.countByAccount(member.id)).toBe(0);
  });
});
