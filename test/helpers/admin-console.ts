import { Browser, type Page } from './browser.js';
import { formWithAction, isChallenge, isEnrollment, type CodeClock } from './manage.js';
import type { SeededAccount } from './seed.js';
import type { TestServer } from './server.js';
import { secretOnScreen } from './two-factor.js';

/**
 * The admin console from a browser without JavaScript: sign in at /admin/{slug} through the real
 * login (password, then the code of a real TOTP secret, or the enrollment the console's
 * acr_values asks for when the account has none), and the forms of its screens.
 */
export interface ConsoleLogin {
  browser: Browser;
  /** the page the sign-in ended on: a console screen, or the refusal */
  page: Page;
  /** the TOTP secret: the one given, or the one enrolled during this sign-in */
  secret?: string;
}

export async function signInToConsole(
  server: TestServer,
  slug: string,
  account: SeededAccount,
  options: { clock: CodeClock; secret?: string; browser?: Browser; path?: string },
): Promise<ConsoleLogin> {
  const browser = options.browser ?? new Browser();
  const login = await browser.follow(`${server.url}/admin/${slug}${options.path ?? '/users'}`);
  // with a Sleutel session in this browser, the console's acr_values ask only a fresh code
  let page = login;
  if (login.html().querySelector('input[name=password]')) page = await browser.submit(login, { email: account.email, password: account.password });
  else if (!isChallenge(login)) throw new Error(`expected the login screen: ${login.status} ${login.body.slice(0, 300)}`);
  let secret = options.secret;
  if (isChallenge(page)) {
    if (!secret) throw new Error('the login asks a code, but no secret was given');
    page = await browser.submit(page, { code: await options.clock.next(secret) }, undefined, '/code');
  } else if (isEnrollment(page)) {
    secret = secretOnScreen(page);
    page = await browser.submit(page, { code: await options.clock.next(secret) }, undefined, '/enroll');
    // the recovery code is shown once; "continue" finishes the login
    if (page.html().querySelector('#recovery-code')) page = await browser.submit(page, {});
  }
  return { browser, page, secret };
}

/** Posts the form whose action ends with `suffix` (with its hidden fields, CSRF included) and follows the redirect. */
export async function post(browser: Browser, page: Page, suffix: string, fields: Record<string, string> = {}): Promise<Page> {
  const form = formWithAction(page, suffix);
  if (!form) throw new Error(`no form ending in ${suffix} on ${page.url}: ${page.body.slice(0, 300)}`);
  return browser.submit(page, fields, undefined, form.getAttribute('action')!);
}

/** The CSRF token of a console page (for hand-made, "forged" forms). */
export function csrfOf(page: Page): string {
  const token = page.html().querySelector('input[name=csrf]')?.getAttribute('value');
  if (!token) throw new Error(`no CSRF token on ${page.url}`);
  return token;
}

/** A console page by path (relative to /admin/{slug}). */
export const consolePage = (server: TestServer, browser: Browser, slug: string, path: string) => browser.follow(`${server.url}/admin/${slug}${path}`);

/** A form post made by hand (as an attacker editing a form would), following the redirect. */
export const postForm = (server: TestServer, browser: Browser, slug: string, path: string, form: Record<string, string>) =>
  browser.follow(`${server.url}/admin/${slug}${path}`, undefined, { method: 'POST', form });
