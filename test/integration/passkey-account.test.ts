import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Browser, type Page } from '../helpers/browser.js';
import { outboxFiles } from '../helpers/outbox.js';
import { givePasskey, optionsOf, postForm, startPasskeyServer } from '../helpers/passkey-screens.js';
import type { RelyingParty } from '../helpers/relying-party.js';
import type { SeededAccount } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';
import { storeModes } from '../helpers/stores.js';
import { recoveryCodeOnScreen, secretOnScreen } from '../helpers/two-factor.js';
import { previousStepCode } from '../helpers/totp.js';

/**
 * Passkeys on the account page (issue 21), through the real screens with a software
 * authenticator: added after "Ontgrendel" under a name (a first factor brings a recovery code),
 * listed, removed after a confirmation — refused when it is the last factor and 2FA is required;
 * bad answers are 4xx and store nothing.
 */
describe.each(storeModes)('passkeys on the account page (%s)', (mode) => {
  let server: TestServer;
  let base: string;
  let portalRp: RelyingParty;
  let staffRp: RelyingParty;
  let member: SeededAccount;
  let staff: SeededAccount;

  beforeAll(async () => {
    const started = await startPasskeyServer(mode);
    ({ server, base, portalRp, staffRp } = started);
    member = started.seeded.portal;
    staff = started.seeded.staff;
  });
  afterAll(() => server?.close());

  const flows = () => server.sleutel.flows;
  const auditTypes = async (accountId: string) => (await server.sleutel.stores.db('audit_events').where({ account_id: accountId }).orderBy('id').select('type')).map((r: { type: string }) => r.type);

  async function unlockedPage(browser: Browser, rp: RelyingParty, account: SeededAccount): Promise<Page> {
    let page = await browser.follow(`${base}/account/two-factor?client_id=${rp.client.clientId}`);
    if (page.html().querySelector('input[name=email]')) page = await browser.submit(page, { email: account.email, password: account.password });
    page = await browser.submit(page, { current_password: account.password }, undefined, '/unlock');
    expect(page.status).toBe(200);
    return page;
  }

  test('added under a name with the browser dialog: listed, 2FA on, a recovery code once, audited and mailed; removed after a confirmation', async () => {
    const browser = new Browser();
    const authenticator = new SoftwareAuthenticator();
    let page = await unlockedPage(browser, portalRp, member);
    const options = optionsOf(page, '/account/passkeys', 'data-passkey-register');
    expect(options.rp?.id).toBe('localhost');
    // the page loads our script and the library's, nothing inline
    expect(page.html().querySelectorAll('script').map((s) => s.getAttribute('src'))).toEqual(['/assets/webauthn.js', '/assets/passkey.js']);
    const { response } = authenticator.register(options as never, base);

    const shown = await postForm(browser, page, '/account/passkeys', { passkey_name: 'iPhone Anna', webauthn_response: JSON.stringify(response) });
    expect(shown.status).toBe(200);
    expect(recoveryCodeOnScreen(shown)).toMatch(/\S{8,}/);
    expect(await flows().secondFactors.isEnabled(member.id)).toBe(true);
    expect(await flows().secondFactors.recoveryCodeHash(member.id)).toBeDefined();

    page = await browser.follow(`${base}/account/two-factor`);
    expect(page.html().querySelector('ul.passkeys')?.text).toContain('iPhone Anna');
    expect(outboxFiles(server, 'passkey_added').length).toBeGreaterThan(0);
    expect(await auditTypes(member.id)).toEqual(expect.arrayContaining(['passkey.added', 'two_factor.enabled']));

    // a second one brings no new recovery code
    const second = authenticator.register(optionsOf(page, '/account/passkeys', 'data-passkey-register') as never, base);
    const back = await postForm(browser, page, '/account/passkeys', { passkey_name: 'YubiKey', webauthn_response: JSON.stringify(second.response) });
    expect(back.url).toContain('notice=passkey_added');
    const [first] = await flows().passkeys.listByAccount(member.id);

    const question = await postForm(browser, back, `/account/passkeys/${first!.id}/remove`, {});
    expect(question.status).toBe(200);
    expect(question.body).toContain('iPhone Anna');
    const removed = await postForm(browser, question, `/account/passkeys/${first!.id}/remove/confirm`, {});
    expect(removed.url).toContain('notice=passkey_removed');
    expect((await flows().passkeys.listByAccount(member.id)).map((p) => p.name)).toEqual(['YubiKey']);
    expect(outboxFiles(server, 'passkey_removed').length).toBeGreaterThan(0);
    expect(await auditTypes(member.id)).toContain('passkey.removed');

    // the last one, where 2FA is not required: 2FA goes off with its recovery code
    const [last] = await flows().passkeys.listByAccount(member.id);
    const lastQuestion = await postForm(browser, removed, `/account/passkeys/${last!.id}/remove`, {});
    await postForm(browser, lastQuestion, `/account/passkeys/${last!.id}/remove/confirm`, {});
    expect(await flows().secondFactors.isEnabled(member.id)).toBe(false);
    expect(await flows().secondFactors.recoveryCodeHash(member.id)).toBeUndefined();
  });

  test('bad answers are 400 and store nothing: wrong origin, a replayed response, another challenge, no answer, a bad name', async () => {
    const browser = new Browser();
    const authenticator = new SoftwareAuthenticator();
    await flows().secondFactors.remove(member.id);
    let page = await unlockedPage(browser, portalRp, member);
    const options = optionsOf(page, '/account/passkeys', 'data-passkey-register');

    const wrongOrigin = authenticator.register(options as never, 'https://evil.example');
    let answer = await postForm(browser, page, '/account/passkeys', { passkey_name: 'x', webauthn_response: JSON.stringify(wrongOrigin.response) });
    expect(answer.status).toBe(400);
    // the challenge was used up by that answer: a right one for it is refused too
    const late = authenticator.register(options as never, base);
    answer = await postForm(browser, page, '/account/passkeys', { passkey_name: 'x', webauthn_response: JSON.stringify(late.response) });
    expect(answer.status).toBe(400);

    page = await browser.follow(`${base}/account/two-factor`);
    const fresh = optionsOf(page, '/account/passkeys', 'data-passkey-register');
    const otherChallenge = authenticator.register({ ...fresh, challenge: Buffer.from('not ours').toString('base64url') } as never, base);
    answer = await postForm(browser, page, '/account/passkeys', { passkey_name: 'x', webauthn_response: JSON.stringify(otherChallenge.response) });
    expect(answer.status).toBe(400);

    page = await browser.follow(`${base}/account/two-factor`);
    answer = await postForm(browser, page, '/account/passkeys', { passkey_name: 'x', webauthn_response: '' });
    expect(answer.status).toBe(400);
    answer = await postForm(browser, page, '/account/passkeys', { passkey_name: 'x'.repeat(300), webauthn_response: '{}' });
    expect(answer.status).toBe(400);
    expect(await flows().passkeys.countByAccount(member.id)).toBe(0);
    expect(await flows().secondFactors.isEnabled(member.id)).toBe(false);
    expect(await auditTypes(member.id)).toContain('passkey.refused');
  });

  test('an account whose first factor is a passkey can add an authenticator app beside it', async () => {
    await flows().secondFactors.remove(member.id);
    const browser = new Browser();
    let page = await unlockedPage(browser, portalRp, member);
    const { response } = new SoftwareAuthenticator().register(optionsOf(page, '/account/passkeys', 'data-passkey-register') as never, base);
    await postForm(browser, page, '/account/passkeys', { passkey_name: 'Laptop', webauthn_response: JSON.stringify(response) });
    page = await browser.follow(`${base}/account/two-factor`);
    const enable = page.html().querySelectorAll('form').find((f) => f.getAttribute('action') === '/account/two-factor/enable');
    expect(enable?.querySelector('button')?.text.trim()).toBe('Code uit een authenticator app toevoegen');
    page = await postForm(browser, page, '/account/two-factor/enable', {});
    const secret = secretOnScreen(page);
    const shown = await browser.submit(page, { code: await previousStepCode(secret) }, undefined, '/confirm');
    expect(recoveryCodeOnScreen(shown)).toMatch(/\S{8,}/);
    expect(await flows().secondFactors.findTotp(member.id)).toBeDefined();
    expect(await flows().passkeys.countByAccount(member.id)).toBe(1);
    page = await browser.follow(`${base}/account/two-factor`);
    expect(page.html().querySelectorAll('form').some((f) => f.getAttribute('action') === '/account/two-factor/enable')).toBe(false);
  });

  test('the last second factor cannot be removed while 2FA is required for the account; the reason is shown', async () => {
    const browser = new Browser();
    await unlockedPage(browser, staffRp, staff);
    // required once signed in (a required account without a factor would be sent into TOTP enrollment first)
    await flows().accounts.update(staff.id, { twoFactorRequired: true });
    const page = await browser.follow(`${base}/account/two-factor`);
    const { response } = new SoftwareAuthenticator().register(optionsOf(page, '/account/passkeys', 'data-passkey-register') as never, base);
    await postForm(browser, page, '/account/passkeys', { passkey_name: 'Laptop', webauthn_response: JSON.stringify(response) });
    const [only] = await flows().passkeys.listByAccount(staff.id);
    const listed = await browser.follow(`${base}/account/two-factor`);
    const question = await postForm(browser, listed, `/account/passkeys/${only!.id}/remove`, {});
    const refused = await postForm(browser, question, `/account/passkeys/${only!.id}/remove/confirm`, {});
    expect(refused.status).toBe(409);
    expect(refused.html().querySelector('[role=alert]')?.text).toMatch(/laatste tweede factor/);
    expect(await flows().passkeys.countByAccount(staff.id)).toBe(1);

    // two removals racing for the last two: one passes, the other is refused
    await givePasskey(server, base, staff.id, new SoftwareAuthenticator(), 'Telefoon');
    const both = await flows().passkeys.listByAccount(staff.id);
    const page2 = await browser.follow(`${base}/account/two-factor`);
    const questions = await Promise.all(both.map((p) => postForm(browser, page2, `/account/passkeys/${p.id}/remove`, {})));
    const answers = await Promise.all(both.map((p, i) => postForm(browser, questions[i]!, `/account/passkeys/${p.id}/remove/confirm`, {})));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await flows().passkeys.countByAccount(staff.id)).toBe(1);
  });
});
