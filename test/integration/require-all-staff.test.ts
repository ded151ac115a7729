import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Browser } from '../helpers/browser.js';
import {
  apiFor,
  CodeClock,
  createAccount,
  createServiceClient,
  enable2fa,
  hasSkip,
  isChallenge,
  isEnrollment,
  logoutAtSleutel,
  refresh,
  serviceToken,
} from '../helpers/manage.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { useScenario, type Scenario } from '../helpers/scenario.js';
import type { SeededAccount, SeededClient } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { storeModes } from '../helpers/stores.js';
import { passwordStep } from '../helpers/two-factor.js';

/**
 * docs/rules.md, rule 4: requiring 2FA for all staff takes effect at once, also for staff signed
 * in right now — their sessions, grants and refresh tokens end, relying parties with a back-channel
 * logout URI are told, and the next login goes through enrollment. The same for requiring it of one
 * account.
 * The relying party here has a real back-channel logout endpoint (a node:http server of the test).
 */

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A relying party's back-channel logout endpoint: records every logout_token POSTed to it. */
async function startBackchannelReceiver() {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/backchannel-logout') {
        const token = new URLSearchParams(body).get('logout_token');
        if (token) received.push(token);
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/backchannel-logout`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The logout token, verified against Sleutel's JWKS as a relying party would (OpenID Back-Channel Logout 1.0 §2.6). */
async function verifyLogoutToken(server: TestServer, token: string, clientId: string) {
  const jwks = createLocalJWKSet((await (await fetch(`${server.url}/jwks`)).json()) as JSONWebKeySet);
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: server.url, audience: clientId, typ: 'logout+jwt' });
  expect(protectedHeader.typ).toBe('logout+jwt');
  expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
  expect(payload).not.toHaveProperty('nonce');
  expect(typeof payload.iat).toBe('number');
  expect(typeof payload.jti).toBe('string');
  return payload;
}

describe.each(storeModes)('2FA required at once, also for staff signed in right now (%s)', (mode) => {
  const s: Scenario = useScenario(mode);
  const clock = new CodeClock();
  let backchannel: Awaited<ReturnType<typeof startBackchannelReceiver>>;
  let econobis: RelyingParty;
  let svc: ReturnType<typeof apiFor>;
  let userinfoUrl: string;

  beforeAll(async () => {
    backchannel = await startBackchannelReceiver();
    const client: SeededClient = {
      clientId: `${s.seeded.slug}-econobis-bcl`,
      secret: `secret-${s.seeded.slug}-backchannel-0123456789abcdef`,
      redirectUri: 'https://econobis.example/bcl/callback',
      postLogoutRedirectUri: 'https://econobis.example/bcl/signed-out',
    };
    await s.server.sleutel.stores.clients.create({
      clientId: client.clientId,
      tenantId: s.seeded.tenantId,
      pool: 'staff',
      secret: client.secret,
      redirectUris: [client.redirectUri],
      postLogoutRedirectUris: [client.postLogoutRedirectUri],
      backchannelLogoutUri: backchannel.uri,
    });
    econobis = await RelyingParty.discover(s.server.url, client);
    userinfoUrl = econobis.config.serverMetadata().userinfo_endpoint!;
    svc = apiFor(s.server, await serviceToken(s.server, await createServiceClient(s.server, s.seeded.tenantId, `${s.seeded.slug}-service`)));
  });
  afterAll(() => backchannel?.close());

  const userinfo = (accessToken: string) => fetch(userinfoUrl, { headers: { authorization: `Bearer ${accessToken}` } }).then((r) => r.status);

  /** Signs in at Econobis with the password (and the code when the account has 2FA); the browser and the tokens. */
  async function signIn(account: SeededAccount, secret?: string) {
    const browser = new Browser();
    const { request, next } = await passwordStep(browser, econobis, account);
    let page = next;
    if (secret) {
      expect(isChallenge(page)).toBe(true);
      page = await browser.submit(page, { code: await clock.next(secret) }, econobis.isCallback, '/code');
    }
    expect(econobis.isCallback(page.url)).toBe(true);
    const tokens = await econobis.exchange(page.url, request);
    expect(tokens.refresh_token).toBeDefined();
    return { browser, tokens, refreshToken: tokens.refresh_token!, sid: tokens.claims()!.sid as string | undefined };
  }

  /** Uses a refresh token and returns the rotated one (asserting it worked). */
  async function stillWorks(refreshToken: string, client = econobis.client) {
    const answer = await refresh(s.server, client, refreshToken);
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 200, error: undefined });
    return answer.body.refresh_token as string;
  }

  async function ended(refreshToken: string, client = econobis.client) {
    const answer = await refresh(s.server, client, refreshToken);
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
  }

  /** A silent authorization in the browser: the Sleutel session is gone when it answers login_required. */
  async function sleutelSessionAlive(browser: Browser): Promise<boolean> {
    const request = await econobis.authorization({ prompt: 'none' });
    const page = await browser.follow(request.url, econobis.isCallback);
    expect(econobis.isCallback(page.url)).toBe(true);
    const params = new URL(page.url).searchParams;
    if (params.get('error')) {
      expect(params.get('error')).toBe('login_required');
      return false;
    }
    expect(params.get('code')).toBeTruthy();
    return true;
  }

  test('PUT …/policy {require_two_factor_for_all_staff: true}: preview first; the staff member without 2FA is logged out everywhere and enrolls next time', async () => {
    const staff = s.seeded.staff; // no 2FA: the one account a tenant-wide requirement affects
    const withTwoFactor = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { prefix: 'al-2fa' });
    const secret = await enable2fa(s.server, s.staffRp, withTwoFactor, clock);
    const member = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { prefix: 'lid' });

    const affected = await signIn(staff);
    expect(affected.sid).toEqual(expect.any(String));
    // the same browser also signs in (single sign-on, no form) at the seeded staff client, which has no back-channel URI
    const sso = await s.staffRp.authorization();
    const ssoCallback = await affected.browser.follow(sso.url, s.staffRp.isCallback);
    expect(s.staffRp.isCallback(ssoCallback.url)).toBe(true);
    let ssoRefresh = (await s.staffRp.exchange(ssoCallback.url, sso)).refresh_token!;
    const unaffected = await signIn(withTwoFactor, secret);
    let unaffectedRefresh = unaffected.refreshToken;
    const memberLogin = await s.portalRp.login(new Browser(), member);
    let affectedRefresh = affected.refreshToken;
    expect(await userinfo(affected.tokens.access_token)).toBe(200);
    expect(await sleutelSessionAlive(affected.browser)).toBe(true);

    const policyPath = `/tenants/${s.seeded.slug}/policy`;
    try {
      // the preview says 1 and changes nothing
      const preview = await svc('GET', `${policyPath}?preview=require_two_factor_for_all_staff`);
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({ policy: { require_two_factor_for_all_staff: false }, affected_accounts: 1 });
      expect((await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy.require_two_factor_for_all_staff).toBe(false);
      affectedRefresh = await stillWorks(affectedRefresh);
      ssoRefresh = await stillWorks(ssoRefresh, s.seeded.staffClient);
      expect(backchannel.received).toEqual([]);
      expect((await svc('GET', `/tenants/${s.seeded.slug}/accounts/${staff.id}`)).body.two_factor).toEqual({ enabled: false, required: false, required_by: 'none' });

      const answer = await svc('PUT', policyPath, { require_two_factor_for_all_staff: true });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ policy: { require_two_factor_for_all_staff: true }, affected_accounts: 1 });

      // refresh token, access token and the Sleutel session of the affected staff member are gone
      await ended(affectedRefresh);
      await ended(ssoRefresh, s.seeded.staffClient);
      expect(await userinfo(affected.tokens.access_token)).toBe(401);
      expect(await sleutelSessionAlive(affected.browser)).toBe(false);

      // Econobis was told over the back channel, with a logout token it can verify (the other client has no back-channel URI)
      expect(backchannel.received).toHaveLength(1);
      const logout = await verifyLogoutToken(s.server, backchannel.received[0]!, econobis.client.clientId);
      expect(logout.sub).toBe(staff.id);
      expect(logout.sid).toEqual(expect.any(String));
      expect(logout.sid).toBe(affected.sid);

      // staff with 2FA and portal members are not affected
      unaffectedRefresh = await stillWorks(unaffectedRefresh);
      await stillWorks(memberLogin.tokens.refresh_token!, s.seeded.portalClient);
      expect(await sleutelSessionAlive(unaffected.browser)).toBe(true);

      // the account shows why; the audit has the change with the count
      expect((await svc('GET', `/tenants/${s.seeded.slug}/accounts/${staff.id}`)).body.two_factor).toEqual({ enabled: false, required: true, required_by: 'tenant' });
      const [event] = await s.server.sleutel.stores.audit.list({ tenantId: s.seeded.tenantId, type: 'tenant.policy_changed' });
      expect(event).toMatchObject({ details: { affected_accounts: 1, after: { require_two_factor_for_all_staff: true } } });

      // switching it on again affects nobody and logs nobody out
      const again = await svc('PUT', policyPath, { require_two_factor_for_all_staff: true });
      expect(again.body.affected_accounts).toBe(0);
      expect((await svc('GET', `${policyPath}?preview=require_two_factor_for_all_staff`)).body.affected_accounts).toBe(0);
      expect(backchannel.received).toHaveLength(1);

      // the next login (in the same browser, and in a new one) goes through enrollment: the QR, no skip
      for (const browser of [affected.browser, new Browser()]) {
        const { next } = await passwordStep(browser, econobis, staff);
        expect(isEnrollment(next)).toBe(true);
        expect(hasSkip(next)).toBe(false);
      }
      // the staff member with 2FA is asked for the code, as before
      const { next: challenge } = await passwordStep(new Browser(), econobis, withTwoFactor);
      expect(isChallenge(challenge)).toBe(true);
    } finally {
      expect((await svc('PUT', policyPath, { require_two_factor_for_all_staff: false })).status).toBe(200);
    }
    // switching it off changes nothing for anyone signed in
    await stillWorks(unaffectedRefresh);
    expect(backchannel.received).toHaveLength(1);
  });

  test('PUT …/two-factor/requirement {required: true} for one staff member without 2FA ends their sessions the same way; with 2FA nothing ends', async () => {
    backchannel.received.length = 0;
    const without = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'zonder' });
    const withTwoFactor = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'met' });
    const secret = await enable2fa(s.server, s.staffRp, withTwoFactor, clock);
    const bystander = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'omstander' });

    const target = await signIn(without);
    const other = await signIn(withTwoFactor, secret);
    const bystanderLogin = await signIn(bystander);
    const accounts = `/tenants/${s.seeded.slug}/accounts`;

    const answer = await svc('PUT', `${accounts}/${without.id}/two-factor/requirement`, { required: true });
    expect(answer.status).toBe(200);
    expect(answer.body.two_factor).toEqual({ enabled: false, required: true, required_by: 'account' });

    await ended(target.refreshToken);
    expect(await userinfo(target.tokens.access_token)).toBe(401);
    expect(await sleutelSessionAlive(target.browser)).toBe(false);
    expect(backchannel.received).toHaveLength(1);
    const logout = await verifyLogoutToken(s.server, backchannel.received[0]!, econobis.client.clientId);
    expect(logout.sub).toBe(without.id);
    expect(logout.sid).toBe(target.sid);
    const [event] = await s.server.sleutel.stores.audit.list({ accountId: without.id, type: 'two_factor.requirement_changed' });
    expect(event).toMatchObject({ details: { required: true, ended_sessions: 1 } });

    // nobody else was logged out
    await stillWorks(bystanderLogin.refreshToken);
    let otherRefresh = await stillWorks(other.refreshToken);

    // requiring it of someone who has 2FA ends nothing
    const withAnswer = await svc('PUT', `${accounts}/${withTwoFactor.id}/two-factor/requirement`, { required: true });
    expect(withAnswer.body.two_factor).toEqual({ enabled: true, required: true, required_by: 'account' });
    otherRefresh = await stillWorks(otherRefresh);
    expect(await sleutelSessionAlive(other.browser)).toBe(true);
    expect(backchannel.received).toHaveLength(1);
    expect(decodeJwt(backchannel.received[0]!).sub).toBe(without.id);

    // the next login of the required account: enrollment, no skip
    const { next } = await passwordStep(new Browser(), econobis, without);
    expect(isEnrollment(next)).toBe(true);
    expect(hasSkip(next)).toBe(false);

    // un-requiring ends nothing either, and the login is optional again
    expect((await svc('PUT', `${accounts}/${withTwoFactor.id}/two-factor/requirement`, { required: false })).status).toBe(200);
    await stillWorks(otherRefresh);
    expect((await svc('PUT', `${accounts}/${without.id}/two-factor/requirement`, { required: false })).status).toBe(200);
    const { next: optional } = await passwordStep(new Browser(), econobis, without);
    expect(econobis.isCallback(optional.url)).toBe(true);
    expect(backchannel.received).toHaveLength(1);
  });

  test('an offline refresh token of an affected staff member whose Sleutel session has ended is ended too', async () => {
    const staff = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'offline' });
    const browser = new Browser();
    const { tokens } = await econobis.login(browser, staff, { scope: 'openid offline_access', prompt: 'consent' });
    expect(tokens.scope?.split(' ')).toContain('offline_access');
    await logoutAtSleutel(browser, econobis, tokens.id_token!);
    const refreshToken = await stillWorks(tokens.refresh_token!); // offline: it survives the logout, as it should
    const policyPath = `/tenants/${s.seeded.slug}/policy`;
    try {
      const answer = await svc('PUT', policyPath, { require_two_factor_for_all_staff: true });
      expect(answer.body.affected_accounts).toBeGreaterThanOrEqual(1);
      await ended(refreshToken);
    } finally {
      await svc('PUT', policyPath, { require_two_factor_for_all_staff: false });
    }
  });
});
