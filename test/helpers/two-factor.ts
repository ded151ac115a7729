import { expect } from '@jest/globals';
import type { Browser, Page } from './browser.js';
import type { RelyingParty } from './relying-party.js';
import type { SeededAccount } from './seed.js';
import { previousStepCode } from './totp.js';

/** The key the enrollment screen shows as text, without its spaces. */
export function secretOnScreen(page: Page): string {
  const key = page.html().querySelector('.key code')?.text;
  if (!key) throw new Error(`no key on the page: ${page.body.slice(0, 400)}`);
  return key.replace(/\s/g, '');
}

export function recoveryCodeOnScreen(page: Page): string {
  const code = page.html().querySelector('#recovery-code')?.text;
  if (!code) throw new Error(`no recovery code on the page: ${page.body.slice(0, 400)}`);
  return code.trim();
}

/**
 * Turns 2FA on through the account page, as a person would: sign in (via the relying party's
 * client_id), unlock with the password, enable, confirm with a code, read the recovery code.
 * The confirming code is the previous step's (accepted: ±1), so the next login's code of "now" is no replay.
 */
export async function enableOnAccountPage(browser: Browser, baseUrl: string, rp: RelyingParty, account: SeededAccount) {
  let page = await browser.follow(`${baseUrl}/account/two-factor?client_id=${rp.client.clientId}`);
  if (page.html().querySelector('input[name=email]')) {
    page = await browser.submit(page, { email: account.email, password: account.password });
  }
  expect(page.html().querySelector('input[name=current_password]')).not.toBeNull();
  page = await browser.submit(page, { current_password: account.password });
  page = await browser.submit(page, {}, undefined, '/enable');
  const secret = secretOnScreen(page);
  expect(page.html().querySelector('img.qr')?.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
  const shown = await browser.submit(page, { code: await previousStepCode(secret) }, undefined, '/confirm');
  expect(shown.status).toBe(200);
  return { secret, recoveryCode: recoveryCodeOnScreen(shown), page: shown };
}

/** Authorization → password → (the screen after it). Stops at the callback when no code is asked. */
export async function passwordStep(browser: Browser, rp: RelyingParty, account: SeededAccount, params: Record<string, string> = {}) {
  const request = await rp.authorization(params);
  const login = await browser.follow(request.url, rp.isCallback);
  const next = await browser.submit(login, { email: account.email, password: account.password }, rp.isCallback);
  return { request, next };
}
