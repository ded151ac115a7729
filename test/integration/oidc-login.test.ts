import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { seedTenant, type Seeded } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeModes } from '../helpers/stores.js';

describe.each(storeModes)('sign-in with the authorization-code flow and PKCE (%s)', (mode) => {
  let server: TestServer;
  let seeded: Seeded;
  let staffRp: RelyingParty;
  let portalRp: RelyingParty;

  beforeAll(async () => {
    server = await startServer(mode);
    seeded = await seedTenant(server.sleutel.stores);
    staffRp = await RelyingParty.discover(server.url, seeded.staffClient);
    portalRp = await RelyingParty.discover(server.url, seeded.portalClient);
  });
  afterAll(() => server.close());

  test('discovery advertises the code flow only, S256, our acr values and iss in the response', () => {
    const meta = staffRp.config.serverMetadata();
    expect(meta.issuer).toBe(server.url);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.acr_values_supported).toEqual(['urn:sleutel:acr:pwd', 'urn:sleutel:acr:2fa']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.backchannel_logout_supported).toBe(true);
    expect(meta.introspection_endpoint).toBeDefined();
    expect(meta.revocation_endpoint).toBeDefined();
  });

  test('staff: login, ID token claims, userinfo, refresh rotation, RP-initiated logout', async () => {
    const browser = new Browser();
    const { tokens, callback, loginPage } = await staffRp.login(browser, seeded.staff);

    expect(loginPage.status).toBe(200);
    expect(loginPage.body).toContain('Inloggen');
    expect(new URL(callback.url).searchParams.get('iss')).toBe(server.url);

    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: server.url,
      aud: seeded.staffClient.clientId,
      sub: seeded.staff.id,
      email: seeded.staff.email,
      email_verified: true,
      tenant: seeded.slug,
      pool: 'staff',
      roles: ['key_user'],
      acr: 'urn:sleutel:acr:pwd',
      amr: ['pwd'],
    });

    const userinfo = await oidc.fetchUserInfo(staffRp.config, tokens.access_token, seeded.staff.id);
    expect(userinfo).toMatchObject({ sub: seeded.staff.id, email: seeded.staff.email, name: 'Naam staff', tenant: seeded.slug, pool: 'staff', roles: ['key_user'] });

    expect(tokens.refresh_token).toBeDefined();
    const refreshed = await oidc.refreshTokenGrant(staffRp.config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // the rotated-away token is refused (and, being reuse, revokes the family)
    await expect(oidc.refreshTokenGrant(staffRp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(staffRp.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // a fresh login (same browser: single sign-on, no form) then RP-initiated logout
    const again = await staffRp.authorization();
    const sso = await browser.follow(again.url, staffRp.isCallback);
    expect(staffRp.isCallback(sso.url)).toBe(true);
    const second = await staffRp.exchange(sso.url, again);

    const endSession = oidc.buildEndSessionUrl(staffRp.config, {
      id_token_hint: second.id_token!,
      post_logout_redirect_uri: seeded.staffClient.postLogoutRedirectUri,
    });
    const confirm = await browser.follow(endSession.href);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Wilt u uitloggen?');
    const signedOut = await browser.submit(confirm, { logout: 'yes' }, (l) => l.startsWith(seeded.staffClient.postLogoutRedirectUri));
    expect(signedOut.url.startsWith(seeded.staffClient.postLogoutRedirectUri)).toBe(true);

    // the session is gone: the refresh token dies with it and the next authorization shows the form
    await expect(oidc.refreshTokenGrant(staffRp.config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const after = await staffRp.authorization();
    const page = await browser.follow(after.url, staffRp.isCallback);
    expect(page.status).toBe(200);
    expect(page.html().querySelector('input[name=password]')).not.toBeNull();
  });

  test('portal (public client): login with PKCE only; no staff roles in the claims', async () => {
    const { tokens } = await portalRp.login(new Browser(), seeded.portal);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ sub: seeded.portal.id, pool: 'portal', tenant: seeded.slug, amr: ['pwd'] });
    expect(claims.roles).toBeUndefined();
  });

  test('an account of one pool cannot sign in at the other pool\'s client, and a session does not cross pools', async () => {
    const browser = new Browser();
    const request = await portalRp.authorization();
    const page = await browser.follow(request.url, portalRp.isCallback);
    const refused = await browser.submit(page, { email: seeded.staff.email, password: seeded.staff.password }, portalRp.isCallback);
    expect(refused.status).toBe(401);

    await staffRp.login(browser, seeded.staff);
    const portalAgain = await browser.follow((await portalRp.authorization()).url, portalRp.isCallback);
    expect(portalRp.isCallback(portalAgain.url)).toBe(false);
    expect(portalAgain.html().querySelector('input[name=password]')).not.toBeNull();
  });

  test('prompt=consent is approved without a screen (first-party clients), and offline_access is granted', async () => {
    const browser = new Browser();
    await staffRp.login(browser, seeded.staff);
    const request = await staffRp.authorization({ prompt: 'consent', scope: 'openid email offline_access' });
    const page = await browser.follow(request.url, staffRp.isCallback);
    expect(staffRp.isCallback(page.url)).toBe(true);
    const tokens = await staffRp.exchange(page.url, request);
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email', 'offline_access']));
    expect(tokens.refresh_token).toBeDefined();
  });

  test('prompt=none without a session answers login_required to the client', async () => {
    const request = await staffRp.authorization({ prompt: 'none' });
    const page = await new Browser().follow(request.url, staffRp.isCallback);
    expect(new URL(page.url).searchParams.get('error')).toBe('login_required');
  });

  test('English screens with ui_locales=en or Accept-Language', async () => {
    const viaParam = await new Browser().follow((await staffRp.authorization({ ui_locales: 'en' })).url, staffRp.isCallback);
    expect(viaParam.html().querySelector('h1')?.text).toBe('Sign in');
    const viaHeader = await new Browser('en-GB,en;q=0.9').follow((await staffRp.authorization()).url, staffRp.isCallback);
    expect(viaHeader.html().querySelector('h1')?.text).toBe('Sign in');
    expect(viaHeader.html().querySelector('html')?.getAttribute('lang')).toBe('en');
  });

  test('cancelling the login returns access_denied to the relying party', async () => {
    const browser = new Browser();
    const page = await browser.follow((await staffRp.authorization()).url, staffRp.isCallback);
    const cancel = page.html().querySelector('a[href$="/abort"]')!.getAttribute('href')!;
    const back = await browser.follow(new URL(cancel, server.url).href, staffRp.isCallback);
    expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
  });
});
