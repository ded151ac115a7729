import { describe, expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';

describe.each(storeModes)('sign-in with the authorization-code flow and PKCE (%s)', (mode) => {
  const s = useScenario(mode);

  test('discovery advertises the code flow only, S256, our acr values and iss in the response', () => {
    const meta = s.staffRp.config.serverMetadata();
    expect(meta.issuer).toBe(s.server.url);
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
    const { tokens, callback, loginPage } = await s.staffRp.login(browser, s.seeded.staff);

    expect(loginPage.status).toBe(200);
    expect(loginPage.body).toContain('Inloggen');
    expect(new URL(callback.url).searchParams.get('iss')).toBe(s.server.url);

    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: s.server.url,
      aud: s.seeded.staffClient.clientId,
      sub: s.seeded.staff.id,
      email: s.seeded.staff.email,
      email_verified: true,
      tenant: s.seeded.slug,
      pool: 'staff',
      roles: ['key_user'],
      acr: 'urn:sleutel:acr:pwd',
      amr: ['pwd'],
    });

    const userinfo = await oidc.fetchUserInfo(s.staffRp.config, tokens.access_token, s.seeded.staff.id);
    expect(userinfo).toMatchObject({ sub: s.seeded.staff.id, email: s.seeded.staff.email, name: 'Naam staff', tenant: s.seeded.slug, pool: 'staff', roles: ['key_user'] });

    expect(tokens.refresh_token).toBeDefined();
    const refreshed = await oidc.refreshTokenGrant(s.staffRp.config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // the rotated-away token is refused (and, being reuse, revokes the family)
    await expect(oidc.refreshTokenGrant(s.staffRp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(s.staffRp.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // a fresh login (same browser: single sign-on, no form) then RP-initiated logout
    const again = await s.staffRp.authorization();
    const sso = await browser.follow(again.url, s.staffRp.isCallback);
    expect(s.staffRp.isCallback(sso.url)).toBe(true);
    const second = await s.staffRp.exchange(sso.url, again);

    const endSession = oidc.buildEndSessionUrl(s.staffRp.config, {
      id_token_hint: second.id_token!,
      post_logout_redirect_uri: s.seeded.staffClient.postLogoutRedirectUri,
    });
    const confirm = await browser.follow(endSession.href);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Wilt u uitloggen?');
    const signedOut = await browser.submit(confirm, { logout: 'yes' }, (l) => l.startsWith(s.seeded.staffClient.postLogoutRedirectUri));
    expect(signedOut.url.startsWith(s.seeded.staffClient.postLogoutRedirectUri)).toBe(true);

    // the session is gone: the refresh token dies with it and the next authorization shows the form
    await expect(oidc.refreshTokenGrant(s.staffRp.config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const after = await s.staffRp.authorization();
    const page = await browser.follow(after.url, s.staffRp.isCallback);
    expect(page.status).toBe(200);
    expect(page.html().querySelector('input[name=password]')).not.toBeNull();
  });

  test('portal (public client): login with PKCE only; no staff roles in the claims', async () => {
    const { tokens } = await s.portalRp.login(new Browser(), s.seeded.portal);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ sub: s.seeded.portal.id, pool: 'portal', tenant: s.seeded.slug, amr: ['pwd'] });
    expect(claims.roles).toBeUndefined();
  });

  test('an account of one pool cannot sign in at the other pool\'s client, and a session does not cross pools', async () => {
    const browser = new Browser();
    const request = await s.portalRp.authorization();
    const page = await browser.follow(request.url, s.portalRp.isCallback);
    const refused = await browser.submit(page, { email: s.seeded.staff.email, password: s.seeded.staff.password }, s.portalRp.isCallback);
    expect(refused.status).toBe(401);

    await s.staffRp.login(browser, s.seeded.staff);
    const portalAgain = await browser.follow((await s.portalRp.authorization()).url, s.portalRp.isCallback);
    expect(s.portalRp.isCallback(portalAgain.url)).toBe(false);
    expect(portalAgain.html().querySelector('input[name=password]')).not.toBeNull();
  });

  test('prompt=consent is approved without a screen (first-party clients), and offline_access is granted', async () => {
    const browser = new Browser();
    await s.staffRp.login(browser, s.seeded.staff);
    const request = await s.staffRp.authorization({ prompt: 'consent', scope: 'openid email offline_access' });
    const page = await browser.follow(request.url, s.staffRp.isCallback);
    expect(s.staffRp.isCallback(page.url)).toBe(true);
    const tokens = await s.staffRp.exchange(page.url, request);
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email', 'offline_access']));
    expect(tokens.refresh_token).toBeDefined();
  });

  test('prompt=none without a session answers login_required to the client', async () => {
    const request = await s.staffRp.authorization({ prompt: 'none' });
    const page = await new Browser().follow(request.url, s.staffRp.isCallback);
    expect(new URL(page.url).searchParams.get('error')).toBe('login_required');
  });

  test('English screens with ui_locales=en or Accept-Language', async () => {
    const viaParam = await new Browser().follow((await s.staffRp.authorization({ ui_locales: 'en' })).url, s.staffRp.isCallback);
    expect(viaParam.html().querySelector('h1')?.text).toBe('Sign in');
    const viaHeader = await new Browser('en-GB,en;q=0.9').follow((await s.staffRp.authorization()).url, s.staffRp.isCallback);
    expect(viaHeader.html().querySelector('h1')?.text).toBe('Sign in');
    expect(viaHeader.html().querySelector('html')?.getAttribute('lang')).toBe('en');
  });

  test('cancelling the login returns access_denied to the relying party', async () => {
    const browser = new Browser();
    const page = await browser.follow((await s.staffRp.authorization()).url, s.staffRp.isCallback);
    const cancel = page.html().querySelector('a[href$="/abort"]')!.getAttribute('href')!;
    const back = await browser.follow(new URL(cancel, s.server.url).href, s.staffRp.isCallback);
    expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
  });
});
