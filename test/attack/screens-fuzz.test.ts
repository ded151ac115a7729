import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { canonicalEmailOrUndefined } from '../../src/policy/email-address.js';
import { Browser, type Page } from '../helpers/browser.js';
import { CodeClock, createAccount, enable2fa } from '../helpers/manage.js';
import { useScenario } from '../helpers/scenario.js';
import type { SeededAccount } from '../helpers/seed.js';
import { storeModes } from '../helpers/stores.js';
import { check, extraKeys, fieldForm, formBody, hostileEmail, hostileString, notACode, PROPERTY_TIMEOUT, runs, seed, type FieldForm } from './hostile.js';

/**
 * Property-based fuzzing of every form field of the screens (issue 20, docs/rules.md § Security
 * bar): login e-mail and password, forgotten password, password reset, code and recovery code, the account page's forms,
 * and the CSRF field of each. Whatever is sent: never a 5xx; a refused login signs nobody in; the
 * accounts' password, 2FA and e-mail are unchanged at the end.
 */

const counter = { inputs: 0 };

/** A POST with a raw body from the browser's cookies; X-Forwarded-For varies so the per-IP lockout does not end the run early. */
async function post(browser: Browser, url: string, body: Buffer, ip: string): Promise<Page & { setCookies: string[] }> {
  const cookie = await browser.jar.getCookieString(url);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', 'accept-language': 'nl', cookie, 'x-forwarded-for': ip },
    body,
    redirect: 'manual',
  });
  const setCookies = response.headers.getSetCookie();
  for (const c of setCookies) await browser.jar.setCookie(c, url, { ignoreError: true });
  const text = await response.text();
  const { parse } = await import('node-html-parser');
  return { status: response.status, url, headers: response.headers, body: text, html: () => parse(text), setCookies };
}

const ipOf = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map(([a, b, c]) => `10.${a}.${b}.${c}`);
const csrfOf = (page: Page) => page.html().querySelector('input[name=csrf]')?.getAttribute('value') ?? undefined;
/** the CSRF field: mostly the right token (so the fields behind it are reached), else hostile */
const csrfField = (good: () => string) => fc.oneof({ weight: 6, arbitrary: fc.constant<FieldForm>({ kind: 'value', value: '' }).map(() => ({ kind: 'value', value: good() }) as FieldForm) }, { weight: 1, arbitrary: fieldForm(hostileString) });

describe.each(storeModes)('fuzzing the screens (%s)', (mode) => {
  const s = useScenario(mode, { env: () => ({ TRUST_PROXY: 'true' }) });
  let twoFactor: SeededAccount;
  let secret: string;
  const before = new Map<string, unknown>();

  const snapshot = async (id: string) => {
    const account = await s.server.sleutel.stores.accounts.findById(id);
    return { email: account?.email, passwordHash: account?.passwordHash, disabled: account?.disabled, twoFactor: await s.server.sleutel.stores.secondFactors.isEnabled(id) };
  };

  beforeAll(async () => {
    twoFactor = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'fuzz-2fa' });
    secret = await enable2fa(s.server, s.staffRp, twoFactor, new CodeClock());
    for (const account of [s.seeded.staff, s.seeded.portal, twoFactor]) before.set(account.id, await snapshot(account.id));
  });

  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`screens (${mode}): ${counter.inputs} generated inputs, seed ${seed}`);
  });

  /** An open login interaction of the staff client in a browser of its own. */
  const openLogin = async () => {
    const browser = new Browser();
    const page = await browser.follow((await s.staffRp.authorization()).url, s.staffRp.isCallback);
    const uid = new URL(page.html().querySelector('form')!.getAttribute('action')!, s.server.url).pathname.split('/')[2]!;
    return { browser, uid, csrf: csrfOf(page)! };
  };

  const expectNoSignIn = (answer: Page & { setCookies: string[] }) => {
    expect(answer.status).toBeLessThan(500);
    if (answer.status >= 300 && answer.status < 400) throw new Error(`refused input redirected to ${answer.headers.get('location')}`);
    expect(answer.setCookies.filter((c) => /^sleutel\.session=[^;]/.test(c))).toEqual([]);
  };

  test('login: e-mail, password and CSRF', async () => {
    let login = await openLogin();
    const variants = fc.oneof(
      hostileEmail,
      fc.constantFrom(s.seeded.staff.email, s.seeded.staff.email.toUpperCase(), s.seeded.staff.email.replace('e', 'ｅ'), s.seeded.staff.email.replace('@', '@\u200B'), `${s.seeded.staff.email}\u0000`, s.seeded.staff.email.replace('m', 'ｍ')),
    );
    const passwords = fc.oneof(hostileString, fc.constantFrom(s.seeded.staff.password, `${s.seeded.staff.password}\u0000`, s.seeded.staff.password.toUpperCase(), ` ${s.seeded.staff.password}`));
    await check(
      fc.asyncProperty(fc.record({ csrf: csrfField(() => login.csrf), email: fieldForm(variants), password: fieldForm(passwords), extra: extraKeys, ip: ipOf }), async (input) => {
        const answer = await post(login.browser, `${s.server.url}/interaction/${login.uid}/login`, formBody({ csrf: input.csrf, email: input.email, password: input.password }, input.extra), input.ip);
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 300 && answer.status < 400) {
          // only the right password for the seeded address (in any form the canonical form maps to it) signs in
          expect(input.email.kind).toBe('value');
          expect(input.password).toEqual({ kind: 'value', value: s.seeded.staff.password });
          expect(canonicalEmailOrUndefined((input.email as { value: string }).value)).toBe(s.seeded.staff.email);
          login = await openLogin();
          return;
        }
        expectNoSignIn(answer);
        const csrf = csrfOf(answer);
        if (csrf && answer.html().querySelector('form[action$="/login"]')) login.csrf = csrf;
        else login = await openLogin();
      }),
      runs(600),
      counter,
    );
  }, PROPERTY_TIMEOUT);

  test('forgotten password: e-mail and CSRF', async () => {
    let login = await openLogin();
    await check(
      fc.asyncProperty(fc.record({ csrf: csrfField(() => login.csrf), email: fieldForm(hostileEmail), extra: extraKeys, ip: ipOf }), async (input) => {
        const answer = await post(login.browser, `${s.server.url}/interaction/${login.uid}/forgot`, formBody({ csrf: input.csrf, email: input.email }, input.extra), input.ip);
        expectNoSignIn(answer);
        if (answer.status === 400 && !answer.html().querySelector('form')) login = await openLogin();
      }),
      runs(1200),
      counter,
    );
  }, PROPERTY_TIMEOUT);

  test('password reset: token, password and CSRF', async () => {
    const { browser, csrf } = await openLogin();
    await check(
      fc.asyncProperty(fc.record({ csrf: csrfField(() => csrf), token: fieldForm(hostileString), password: fieldForm(hostileString), extra: extraKeys, ip: ipOf }), async (input) => {
        const answer = await post(browser, `${s.server.url}/password/reset`, formBody({ csrf: input.csrf, token: input.token, password: input.password }, input.extra), input.ip);
        expectNoSignIn(answer);
        expect(answer.status).toBeGreaterThanOrEqual(400);
      }),
      runs(1200),
      counter,
    );
  }, PROPERTY_TIMEOUT);

  describe('at the code challenge', () => {
    let challenge: { browser: Browser; uid: string; csrf: string };
    const openChallenge = async () => {
      const { browser, uid, csrf } = await openLogin();
      const page = await post(browser, `${s.server.url}/interaction/${uid}/login`, formBody({ csrf: { kind: 'value', value: csrf }, email: { kind: 'value', value: twoFactor.email }, password: { kind: 'value', value: twoFactor.password } }), '10.0.0.1');
      const next = await browser.follow(new URL(page.headers.get('location')!, s.server.url).href, s.staffRp.isCallback);
      if (!next.html().querySelector('form[action$="/code"]')) throw new Error(`expected the code challenge: ${next.status} ${next.body.slice(0, 300)}`);
      return { browser, uid, csrf: csrfOf(next)! };
    };
    beforeAll(async () => {
      challenge = await openChallenge();
    });

    test.each([
      ['code', '/code'],
      ['recovery_code', '/recovery'],
    ])('%s and CSRF', async (field, path) => {
      await check(
        fc.asyncProperty(fc.record({ csrf: csrfField(() => challenge.csrf), value: fieldForm(hostileString.filter(notACode)), extra: extraKeys, ip: ipOf }), async (input) => {
          const answer = await post(challenge.browser, `${s.server.url}/interaction/${challenge.uid}${path}`, formBody({ csrf: input.csrf, [field]: input.value }, input.extra), input.ip);
          expectNoSignIn(answer);
          if (!answer.html().querySelector(`form[action$="${path}"]`)) challenge = await openChallenge();
        }),
        runs(900),
        counter,
      );
    }, PROPERTY_TIMEOUT);

    test('the second factor still works after the fuzzing', async () => {
      const { totp } = await import('../helpers/totp.js');
      const fresh = await openChallenge();
      const answer = await post(fresh.browser, `${s.server.url}/interaction/${fresh.uid}/code`, formBody({ csrf: { kind: 'value', value: fresh.csrf }, code: { kind: 'value', value: totp(secret, 1) } }), '10.0.0.2');
      expect(answer.status).toBe(303);
    });
  });

  describe('on the account page', () => {
    let browser: Browser;
    let csrf: string;
    beforeAll(async () => {
      browser = new Browser();
      let page = await browser.follow(`${s.server.url}/account/two-factor?client_id=${s.seeded.portalClient.clientId}`);
      page = await browser.submit(page, { email: s.seeded.portal.email, password: s.seeded.portal.password });
      if (!page.html().querySelector('input[name=current_password]')) throw new Error(`no account page: ${page.status} ${page.body.slice(0, 300)}`);
      csrf = csrfOf(page)!;
    });

    const fields: [string, number, Record<string, fc.Arbitrary<FieldForm>>][] = [
      ['/account/two-factor/unlock', 250, { current_password: fieldForm(hostileString) }],
      ['/account/password', 250, { current_password: fieldForm(hostileString), password: fieldForm(hostileString) }],
      ['/account/two-factor/confirm', 400, { code: fieldForm(hostileString.filter(notACode)) }],
      ['/account/two-factor/enable', 200, {}],
      ['/account/two-factor/cancel', 150, {}],
      ['/account/two-factor/disable', 200, {}],
      ['/account/two-factor/disable/confirm', 200, {}],
    ];
    test.each(fields)('%s', async (path, total, shape) => {
      await check(
        fc.asyncProperty(fc.record({ csrf: csrfField(() => csrf), fields: fc.record(shape), extra: extraKeys, ip: ipOf }), async (input) => {
          const answer = await post(browser, `${s.server.url}${path}`, formBody({ csrf: input.csrf, ...input.fields }, input.extra), input.ip);
          expect(answer.status).toBeLessThan(500);
          // the page is never unlocked by a hostile password (the right one is not generated): no action goes through
          expect(answer.status === 303 && answer.headers.get('location')?.includes('notice=')).toBe(false);
        }),
        runs(total),
        counter,
      );
    }, PROPERTY_TIMEOUT);
  });

  test('no account changed', async () => {
    for (const [id, snap] of before) expect(await snapshot(id)).toEqual(snap);
  });
});
