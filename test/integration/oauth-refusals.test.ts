import { describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { Browser, messageOf } from '../helpers/browser.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { credentials, seedTenant } from '../helpers/seed.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';

describe.each(storeModes)('what the authorization server refuses (%s)', (mode) => {
  const s = useScenario(mode);

  /** The authorization URL with some parameters changed or removed. */
  const authUrl = async (change: Record<string, string | null>) => {
    const url = new URL((await s.staffRp.authorization()).url);
    for (const [k, v] of Object.entries(change)) {
      if (v === null) url.searchParams.delete(k);
      else url.searchParams.set(k, v);
    }
    return url.href;
  };

  test('wrong password and unknown e-mail give the same answer', async () => {
    const attempt = async (email: string, password: string) => {
      const browser = new Browser();
      const page = await browser.follow((await s.staffRp.authorization()).url, s.staffRp.isCallback);
      const answer = await browser.submit(page, { email, password }, s.staffRp.isCallback);
      // the form echoes the typed address and carries per-browser tokens; the rest must be identical
      const normalised = answer.body
        .replaceAll(email, 'EMAIL')
        .replace(/\/interaction\/[^/"]+/g, '/interaction/UID')
        .replace(/name="csrf" value="[^"]*"/, 'name="csrf" value="X"');
      return { status: answer.status, body: normalised, message: messageOf(answer) };
    };
    const wrongPassword = await attempt(s.seeded.staff.email, 'not-the-password');
    const unknownEmail = await attempt('niemand@zonnig.example', 'not-the-password');
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail).toEqual(wrongPassword);
    expect(wrongPassword.message).toBe('Het e-mailadres of het wachtwoord is onjuist.');

    const events = await s.server.sleutel.stores.audit.list({ tenantId: s.seeded.tenantId, type: 'login.failed' });
    expect(events.map((e) => e.details?.reason).sort()).toEqual(expect.arrayContaining(['unknown_email', 'wrong_password']));
  });

  test('an e-mail address is matched case-insensitively', async () => {
    const { tokens } = await s.staffRp.login(new Browser(), { email: s.seeded.staff.email.toUpperCase(), password: s.seeded.staff.password });
    expect(tokens.claims()!.sub).toBe(s.seeded.staff.id);
  });

  test('a disabled account cannot sign in, with the same answer', async () => {
    await s.server.sleutel.stores.db('accounts').where({ id: s.seeded.portal.id }).update({ disabled: true });
    const portalRp = await RelyingParty.discover(s.server.url, s.seeded.portalClient);
    const browser = new Browser();
    const page = await browser.follow((await portalRp.authorization()).url, portalRp.isCallback);
    const answer = await browser.submit(page, credentials(s.seeded.portal), portalRp.isCallback);
    expect(answer.status).toBe(401);
    expect(messageOf(answer)).toBe('Het e-mailadres of het wachtwoord is onjuist.');
    await s.server.sleutel.stores.db('accounts').where({ id: s.seeded.portal.id }).update({ disabled: false });
  });

  test.each([
    ['missing PKCE', { code_challenge: null, code_challenge_method: null }],
    ['plain PKCE', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }],
    ['implicit flow', { response_type: 'id_token' }],
    ['hybrid flow', { response_type: 'code id_token' }],
  ])('%s is refused', async (_name, change) => {
    const page = await new Browser().follow(await authUrl(change), s.staffRp.isCallback);
    // refused either on an error page or back at the client with an error; never a login form
    if (s.staffRp.isCallback(page.url)) {
      const params = new URL(page.url.replace('#', '?')).searchParams;
      expect(params.get('error')).toMatch(/invalid_request|unsupported_response_type/);
      expect(params.get('code')).toBeNull();
    } else {
      expect(page.status).toBe(400);
    }
    expect(page.body).not.toContain('name="password"');
  });

  test.each([
    ['a trailing slash', (u: string) => `${u}/`],
    ['another case', (u: string) => u.replace('/staff/callback', '/Staff/Callback')],
    ['an extra query', (u: string) => `${u}?next=/admin`],
    ['another host', (u: string) => u.replace('rp.example', 'evil.example')],
  ])('a redirect URI with %s is refused without redirecting', async (_name, vary) => {
    const page = await new Browser().follow(await authUrl({ redirect_uri: vary(s.seeded.staffClient.redirectUri) }));
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
    expect(page.body).toContain('redirect_uri');
    expect(page.body).not.toContain('name="password"');
  });

  test('an authorization code used twice is refused and revokes what it issued', async () => {
    const browser = new Browser();
    const request = await s.staffRp.authorization();
    const page = await browser.follow(request.url, s.staffRp.isCallback);
    const callback = await browser.submit(page, credentials(s.seeded.staff), s.staffRp.isCallback);
    const tokens = await s.staffRp.exchange(callback.url, request);
    await expect(s.staffRp.exchange(callback.url, request)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(s.staffRp.config, tokens.access_token, s.seeded.staff.id)).rejects.toBeDefined();
    await expect(oidc.refreshTokenGrant(s.staffRp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('a code exchanged with the wrong PKCE verifier is refused', async () => {
    const browser = new Browser();
    const request = await s.staffRp.authorization();
    const page = await browser.follow(request.url, s.staffRp.isCallback);
    const callback = await browser.submit(page, credentials(s.seeded.staff), s.staffRp.isCallback);
    await expect(s.staffRp.exchange(callback.url, { ...request, verifier: oidc.randomPKCECodeVerifier() })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('a relying party cannot use client_credentials, and a wrong client secret is refused', async () => {
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const token = (auth: string, body: string) =>
      fetch(`${s.server.url}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const cc = await token(basic(s.seeded.staffClient.clientId, s.seeded.staffClient.secret!), 'grant_type=client_credentials');
    expect(cc.status).toBe(400);
    const ccBody = (await cc.json()) as object;
    expect(ccBody).toEqual({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
    const wrong = await token(basic(s.seeded.staffClient.clientId, 'wrong-secret'), 'grant_type=refresh_token&refresh_token=x');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_client');
  });

  test('introspection tells a client about its own tokens and its tenant\'s service client about the tenant\'s, nobody about another cooperative\'s', async () => {
    const { tokens } = await s.staffRp.login(new Browser(), credentials(s.seeded.staff));
    const other = await seedTenant(s.server.sleutel.stores, 'ander', 'https://ander.example');
    const stores = s.server.sleutel.stores;
    await stores.clients.create({ clientId: 'zonnig-svc', tenantId: s.seeded.tenantId, pool: null, secret: 'z'.repeat(40), redirectUris: [], postLogoutRedirectUris: [] });
    const introspect = async (clientId: string, secret: string) => {
      const answer = await fetch(`${s.server.url}/token/introspection`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token }),
      });
      return ((await answer.json()) as { active: boolean; sub?: string });
    };
    expect(await introspect(s.seeded.staffClient.clientId, s.seeded.staffClient.secret!)).toMatchObject({ active: true, sub: s.seeded.staff.id });
    expect(await introspect('zonnig-svc', 'z'.repeat(40))).toMatchObject({ active: true });
    expect(await introspect(other.staffClient.clientId, other.staffClient.secret!)).toEqual({ active: false });
  });
});
