import { describe, expect, test } from '@jest/globals';
import { Browser, messageOf, type Page } from '../helpers/browser.js';
import { credentials } from '../helpers/seed.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';

/**
 * docs/rules.md § Security bar: bad input gets a 4xx page with a clear message, never a 500. Each
 * case posts to a live login interaction; afterwards the same interaction still accepts the right
 * password.
 */
describe.each(storeModes)('bad input on the login form (%s)', (mode) => {
  const s = useScenario(mode);

  const openLogin = async () => {
    const browser = new Browser();
    const page = await browser.follow((await s.staffRp.authorization()).url, s.staffRp.isCallback);
    const action = new URL(page.html().querySelector('form')!.getAttribute('action')!, s.server.url).href;
    const csrf = page.html().querySelector('input[name=csrf]')!.getAttribute('value')!;
    return { browser, page, action, csrf };
  };

  const expectStillWorks = async (browser: Browser, page: Page) => {
    const done = await browser.submit(page, credentials(s.seeded.staff), s.staffRp.isCallback);
    expect(s.staffRp.isCallback(done.url)).toBe(true);
  };

  const nl = {
    emailMissing: 'Vul uw e-mailadres in.',
    emailInvalid: 'Dit is geen geldig e-mailadres.',
    passwordMissing: 'Vul uw wachtwoord in.',
    tooLong: 'Het wachtwoord is te lang (maximaal 256 tekens).',
    invalidField: 'Het formulier bevat een ongeldige waarde. Vul het opnieuw in.',
    encoding: 'Het formulier bevat tekens die niet gelezen kunnen worden. Vul het opnieuw in.',
    tooLarge: 'Het formulier is te groot.',
    csrf: 'Het formulier is verlopen of ongeldig. Laad de pagina opnieuw en probeer het nog eens.',
  };

  test.each([
    ['an empty e-mail', (csrf: string) => `csrf=${csrf}&email=&password=x`, 400, nl.emailMissing],
    ['an empty password', (csrf: string) => `csrf=${csrf}&email=a%40b.nl&password=`, 400, nl.passwordMissing],
    ['no fields at all', (csrf: string) => `csrf=${csrf}`, 400, nl.invalidField],
    ['an e-mail without @', (csrf: string) => `csrf=${csrf}&email=abc&password=x`, 400, nl.emailInvalid],
    ['an array instead of a string', (csrf: string) => `csrf=${csrf}&email=a%40b.nl&email=c%40d.nl&password=x`, 400, nl.invalidField],
    ['a nested field', (csrf: string) => `csrf=${csrf}&email[x]=a%40b.nl&password=x`, 400, nl.invalidField],
    ['a password over 256 characters', (csrf: string) => `csrf=${csrf}&email=a%40b.nl&password=${'x'.repeat(257)}`, 400, nl.tooLong],
    ['a 1 MB password', (csrf: string) => `csrf=${csrf}&email=a%40b.nl&password=${'x'.repeat(1024 * 1024)}`, 413, nl.tooLarge],
    ['broken percent-encoding', (csrf: string) => `csrf=${csrf}&email=a%40b.nl&password=%FF%FE`, 400, nl.encoding],
    ['a NUL byte', (csrf: string) => `csrf=${csrf}&email=a%40b.nl&password=ab%00cd`, 400, nl.encoding],
    ['a missing CSRF token', () => 'email=a%40b.nl&password=x', 403, nl.csrf],
    ['a wrong CSRF token', () => 'csrf=forged&email=a%40b.nl&password=x', 403, nl.csrf],
  ])('%s', async (_name, body, status, message) => {
    const { browser, action, csrf } = await openLogin();
    const answer = await browser.request(action, { method: 'POST', body: body(encodeURIComponent(csrf)) });
    expect(answer.status).toBe(status);
    expect(messageOf(answer)).toBe(message);
    // the page offers the form again, with a fresh CSRF token
    expect(answer.html().querySelector('input[name=csrf]')?.getAttribute('value')).toBeTruthy();
    await expectStillWorks(browser, answer);
  });

  test('raw bytes that are not UTF-8', async () => {
    const { browser, action, csrf } = await openLogin();
    const body = Buffer.concat([Buffer.from(`csrf=${encodeURIComponent(csrf)}&email=a%40b.nl&password=`), Buffer.from([0xff, 0xfe, 0xc3])]);
    const answer = await browser.request(action, { method: 'POST', body });
    expect(answer.status).toBe(400);
    expect(messageOf(answer)).toBe(nl.encoding);
  });

  test('JSON instead of a form', async () => {
    const { browser, action } = await openLogin();
    const answer = await browser.request(action, { method: 'POST', body: '{"email":"a@b.nl"}', contentType: 'application/json' });
    expect(answer.status).toBe(415);
  });

  test('a CSRF token from another browser is refused', async () => {
    const first = await openLogin();
    const second = await openLogin();
    const answer = await second.browser.request(second.action, {
      method: 'POST',
      form: { csrf: first.csrf, email: s.seeded.staff.email, password: s.seeded.staff.password },
    });
    expect(answer.status).toBe(403);
  });

  test('a login form of an unknown or finished interaction answers a clear 400 page', async () => {
    const browser = new Browser();
    const answer = await browser.request(`${s.server.url}/interaction/does-not-exist/login`, { method: 'POST', form: { email: 'a@b.nl', password: 'x' } });
    expect(answer.status).toBe(400);
    expect(messageOf(answer)).toContain('Deze inlogpoging is verlopen of al afgerond');

    const { browser: b2, page } = await openLogin();
    await b2.submit(page, credentials(s.seeded.staff), s.staffRp.isCallback);
    const replay = await b2.submit(page, credentials(s.seeded.staff), s.staffRp.isCallback);
    expect(replay.status).toBe(400);
    expect(messageOf(replay)).toContain('Deze inlogpoging is verlopen of al afgerond');
  });

  test('the screens carry a CSP without inline script, frame-ancestors none and no caching', async () => {
    const { page } = await openLogin();
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).not.toMatch(/<script/i);
    expect(page.html().querySelector('meta[name=viewport]')).not.toBeNull();
  });
});
