import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Writable } from 'node:stream';
import * as oidc from 'openid-client';
import { createLogger } from '../../src/log.js';
import { Browser } from '../helpers/browser.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { credentials, seedTenant, type Seeded } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { openTestStores, storeModes, type TestStores } from '../helpers/stores.js';
import { totp } from '../helpers/totp.js';
import { enableOnAccountPage, passwordStep } from '../helpers/two-factor.js';

/**
 * docs/architecture.md § Contracts (operations), and the header, cookie and log items of
 * docs/rules.md § Security bar.
 */
describe.each(storeModes)('operations (%s)', (mode) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  let server: TestServer;
  let seeded: Seeded;
  let staffRp: RelyingParty;

  beforeAll(async () => {
    server = await startServer(mode, { logger: createLogger('trace', sink) });
    seeded = await seedTenant(server.sleutel.stores);
    staffRp = await RelyingParty.discover(server.url, seeded.staffClient);
  });
  afterAll(() => server.close());

  test('the logs of a full login with 2FA hold a request id per line and none of the secrets used', async () => {
    const account = seeded.staff;
    const setup = new Browser();
    const { secret, recoveryCode } = await enableOnAccountPage(setup, server.url, staffRp, account);
    const browser = new Browser();
    const { request, next } = await passwordStep(browser, staffRp, account);
    const code = totp(secret);
    const callback = await browser.submit(next, { code }, staffRp.isCallback);
    const tokens = await staffRp.exchange(callback.url, request);
    await oidc.fetchUserInfo(staffRp.config, tokens.access_token, account.id);
    const refreshed = await oidc.refreshTokenGrant(staffRp.config, tokens.refresh_token!);

    const cookies = (await browser.jar.getCookies(server.url)).map((c) => c.value).filter((v) => v.length >= 16);
    const secrets = [
      account.password, secret, code, recoveryCode, recoveryCode.replace(/-/g, ''), seeded.staffClient.secret!,
      tokens.access_token, tokens.refresh_token!, tokens.id_token!, refreshed.access_token, refreshed.refresh_token!,
      new URL(callback.url).searchParams.get('code')!, request.verifier, ...cookies,
    ];
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const value of secrets) expect(log).not.toContain(value);
    const requests = lines.map((l) => JSON.parse(l) as { msg: string; request_id?: string }).filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.every((l) => typeof l.request_id === 'string' && l.request_id.length >= 8)).toBe(true);
    await server.sleutel.flows.secondFactors.remove(account.id);
  });

  test('a request id sent by a proxy is kept and echoed', async () => {
    const answer = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'lb-1234567890' } });
    expect(answer.headers.get('x-request-id')).toBe('lb-1234567890');
    const junk = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(junk.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('an unknown path answers our 404 page, or JSON to an API client', async () => {
    const page = await new Browser().request(`${server.url}/nope`);
    expect(page.status).toBe(404);
    expect(page.html().querySelector('[role=alert]')?.text).toBe('Deze pagina bestaat niet.');
    const api = await fetch(`${server.url}/nope`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: 'not_found', error_description: 'no such page' });
  });

  test('/healthz and /readyz', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', kv: 'ok' } });
  });

  test('/metrics counts logins and 2FA challenges, labels requests by route, and carries no addresses or ids', async () => {
    await staffRp.login(new Browser(), credentials(seeded.staff));
    const wrong = await passwordStep(new Browser(), staffRp, { ...seeded.staff, password: 'wrong password' });
    expect(wrong.next.status).toBe(401);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/sleutel_logins_total\{result="succeeded"\} [1-9]/);
    expect(text).toMatch(/sleutel_logins_total\{result="failed"\} [1-9]/);
    expect(text).toMatch(/sleutel_second_factor_challenges_total\{kind="code",result="passed"\} [1-9]/);
    expect(text).toMatch(/sleutel_two_factor_enrollments_total [1-9]/);
    expect(text).toMatch(/sleutel_http_request_duration_seconds_count\{method="POST",route="\/interaction\/:uid\/login",status="303"\} [1-9]/);
    expect(text).toMatch(/route="\/token"/);
    expect(text).toMatch(/^sleutel_password_hashes\{state="running"\} 0$/m);
    expect(text).toMatch(/^sleutel_password_hashes\{state="waiting"\} 0$/m);
    expect(text).not.toMatch(/@/);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    await server.sleutel.flows.lockout.clear(seeded.staff.id);
  });
});

describe('production mode behind a TLS proxy', () => {
  let server: TestServer;
  let stores: TestStores;
  let seeded: Seeded;
  beforeAll(async () => {
    stores = await openTestStores('embedded');
    server = await startServer('embedded', { stores, env: { NODE_ENV: 'production', ISSUER: 'https://id.zonnig.example', TRUST_PROXY: 'true' } });
    seeded = await seedTenant(server.sleutel.stores, 'zonnig', 'https://rp.example');
  });
  afterAll(async () => {
    await server.close();
    await stores.dispose();
  });

  const viaProxy = (path: string, cookie?: string) =>
    fetch(`${server.url}${path}`, {
      redirect: 'manual',
      headers: { 'x-forwarded-host': 'id.zonnig.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9', ...(cookie ? { cookie } : {}) },
    });

  test('__Host-/__Secure- cookie names, Secure, HttpOnly, SameSite=Lax; HSTS, CSP without inline script, frame-ancestors none', async () => {
    const params = new URLSearchParams({
      client_id: seeded.staffClient.clientId,
      redirect_uri: seeded.staffClient.redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const auth = await viaProxy(`/auth?${params}`);
    expect(auth.status).toBe(303);
    const location = auth.headers.get('location')!;
    expect(location.startsWith('https://id.zonnig.example/interaction/') || location.startsWith('/interaction/')).toBe(true);
    const setCookies = auth.headers.getSetCookie();
    const interaction = setCookies.find((c) => c.startsWith('__Secure-sleutel.interaction='));
    expect(interaction).toBeDefined();
    expect(interaction!.toLowerCase()).toMatch(/; secure/);
    expect(interaction!.toLowerCase()).toMatch(/; httponly/);
    expect(interaction!.toLowerCase()).toMatch(/; samesite=lax/);
    expect(auth.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);

    const cookieHeader = setCookies.map((c) => c.split(';')[0]).join('; ');
    const page = await viaProxy(new URL(location, 'https://id.zonnig.example').pathname, cookieHeader);
    expect(page.status).toBe(200);
    const csrf = page.headers.getSetCookie().find((c) => c.startsWith('__Host-sleutel.csrf='));
    expect(csrf).toBeDefined();
    expect(csrf!.toLowerCase()).toMatch(/; path=\//);
    expect(csrf!.toLowerCase()).toMatch(/; secure/);
    expect(csrf!.toLowerCase()).not.toMatch(/; domain=/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("'unsafe-inline'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).not.toMatch(/<script/i);
  });

  test('discovery names the public https issuer; the demo relying party is not there', async () => {
    const meta = (await (await viaProxy('/.well-known/openid-configuration')).json()) as { issuer: string; token_endpoint: string };
    expect(meta.issuer).toBe('https://id.zonnig.example');
    expect(meta.token_endpoint).toBe('https://id.zonnig.example/token');
    expect((await viaProxy('/demo')).status).toBe(404);
  });
});
