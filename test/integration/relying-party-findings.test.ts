import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { Browser, type Page } from '../helpers/browser.js';
import { basicAuth, createServiceClient, logoutAtSleutel, refresh } from '../helpers/manage.js';
import { freePort } from '../helpers/own-servers.js';
import { RelyingParty } from '../helpers/relying-party.js';
import { credentials, seedTenant, type Seeded, type SeededClient } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeModes } from '../helpers/stores.js';
import { passwordStep } from '../helpers/two-factor.js';

/**
 * Issue 18: what relying parties nobody here wrote (Apache mod_auth_openidc, Python authlib) ran
 * into. Back-channel logout failures leave a trace and are counted; discovery advertises only
 * what works; revocation and token-endpoint refusals; the pages outside the login keep the
 * cooperative; max_age vs acr_values; the runtime line at start.
 */

const ACR_2FA = 'urn:sleutel:acr:2fa';
const ACR_PWD = 'urn:sleutel:acr:pwd';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A relying party's back-channel logout endpoint answering the statuses it is given, in turn (the last one repeats). */
async function backchannelEndpoint(statuses: number[], delayMs = 0) {
  const received: string[] = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const status = statuses[Math.min(calls, statuses.length - 1)]!;
      calls += 1;
      setTimeout(() => {
        if (status === 200) received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(status).end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`,
    received,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.each(storeModes)('relying-party findings of issue 18 (%s)', (mode) => {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  let server: TestServer;
  let seeded: Seeded;
  let other: Seeded;
  let staffRp: RelyingParty;
  let counter = 0;
  const endpoints: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    server = await startServer(mode, { logger: createLogger('info', sink) });
    seeded = await seedTenant(server.sleutel.stores);
    other = await seedTenant(server.sleutel.stores, 'westwind', 'https://west.example');
    staffRp = await RelyingParty.discover(server.url, seeded.staffClient);
  });
  afterAll(async () => {
    for (const endpoint of endpoints) await endpoint.close();
    await server.close();
  });

  /** A staff client of the seeded cooperative with a back-channel logout URI; its relying party. */
  async function staffClientWith(backchannelLogoutUri?: string) {
    counter += 1;
    const client: SeededClient = {
      clientId: `${seeded.slug}-rp-${counter}`,
      secret: `secret-${seeded.slug}-rp-${counter}-0123456789abcdef`,
      redirectUri: `https://rp${counter}.example/callback`,
      postLogoutRedirectUri: `https://rp${counter}.example/signed-out`,
    };
    await server.sleutel.stores.clients.create({
      clientId: client.clientId,
      tenantId: seeded.tenantId,
      pool: 'staff',
      secret: client.secret,
      redirectUris: [client.redirectUri],
      postLogoutRedirectUris: [client.postLogoutRedirectUri],
      backchannelLogoutUri,
    });
    return RelyingParty.discover(server.url, client);
  }

  const failures = (clientId: string) => lines.filter((l) => l.msg === 'back-channel logout failed' && l.client_id === clientId);
  const metric = async (name: string, labels: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  // ---------------------------------------------------------------- 1. back-channel logout failures

  describe('1. a back-channel logout that fails is logged once, with what an operator needs, and counted', () => {
    test('RP-initiated logout while another relying party is down: one warning with client, URL, cause and account', async () => {
      const downUri = `http://127.0.0.1:${await freePort()}/backchannel-logout`;
      const down = await staffClientWith(downUri);
      const failedBefore = await metric('sleutel_backchannel_logouts_total', 'result="failed"');
      const browser = new Browser();
      const { tokens } = await down.login(browser, credentials(seeded.staff));
      await logoutAtSleutel(browser, down, tokens.id_token!);

      const [line] = await waitFor(() => (failures(down.client.clientId).length ? failures(down.client.clientId) : undefined), 'the failure line');
      expect(line).toMatchObject({ client_id: down.client.clientId, url: downUri, sub: seeded.staff.id, cause: 'ECONNREFUSED', attempts: 3 });
      expect(line!.level).toBe(40);
      expect(JSON.stringify(line)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no logout token, no ID token
      expect(failures(down.client.clientId)).toHaveLength(1);
      expect(await metric('sleutel_backchannel_logouts_total', 'result="failed"')).toBe(failedBefore + 1);
    });

    test('an admin ending the sessions while the relying party answers 500: one warning with the status, after the retries', async () => {
      const endpoint = await backchannelEndpoint([500]);
      endpoints.push(endpoint);
      const rp = await staffClientWith(endpoint.uri);
      await rp.login(new Browser(), credentials(seeded.staff));
      await server.sleutel.flows.sessions.endAll(seeded.staff.id);

      const [line] = await waitFor(() => (failures(rp.client.clientId).length ? failures(rp.client.clientId) : undefined), 'the failure line');
      expect(line).toMatchObject({ client_id: rp.client.clientId, url: endpoint.uri, sub: seeded.staff.id, status: 500, attempts: 3 });
      expect(endpoint.calls()).toBe(3);
      expect(failures(rp.client.clientId)).toHaveLength(1);
    });

    test('a transient failure is retried and then delivered: no warning, counted as delivered', async () => {
      const endpoint = await backchannelEndpoint([503, 200]);
      endpoints.push(endpoint);
      const rp = await staffClientWith(endpoint.uri);
      const deliveredBefore = await metric('sleutel_backchannel_logouts_total', 'result="delivered"');
      const browser = new Browser();
      const { tokens } = await rp.login(browser, credentials(seeded.staff));
      await logoutAtSleutel(browser, rp, tokens.id_token!);
      await waitFor(() => endpoint.received[0], 'the retried logout token');
      expect(endpoint.calls()).toBe(2);
      expect(failures(rp.client.clientId)).toHaveLength(0);
      expect(await metric('sleutel_backchannel_logouts_total', 'result="delivered"')).toBe(deliveredBefore + 1);
    });

    test('a refusal (4xx) is not retried', async () => {
      const endpoint = await backchannelEndpoint([400]);
      endpoints.push(endpoint);
      const rp = await staffClientWith(endpoint.uri);
      await rp.login(new Browser(), credentials(seeded.staff));
      await server.sleutel.flows.sessions.endAll(seeded.staff.id);
      const [line] = await waitFor(() => (failures(rp.client.clientId).length ? failures(rp.client.clientId) : undefined), 'the failure line');
      expect(line).toMatchObject({ status: 400, attempts: 1 });
      expect(endpoint.calls()).toBe(1);
    });

    test('a relying party answering in 3 s is within the 5 s the documentation promises', async () => {
      const endpoint = await backchannelEndpoint([200], 3000);
      endpoints.push(endpoint);
      const rp = await staffClientWith(endpoint.uri);
      await rp.login(new Browser(), credentials(seeded.staff));
      await server.sleutel.flows.sessions.endAll(seeded.staff.id);
      expect(endpoint.received).toHaveLength(1);
      expect(failures(rp.client.clientId)).toHaveLength(0);
    });
  });

  // ---------------------------------------------------------------- 2. discovery

  describe('2. discovery advertises what is supported and tested', () => {
    test('client authentication: client_secret_basic, client_secret_post and none; no PAR, no DPoP', async () => {
      const meta = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      const methods = ['client_secret_basic', 'client_secret_post', 'none'];
      expect(meta.token_endpoint_auth_methods_supported).toEqual(methods);
      // the introspection and revocation endpoints take the same (discovery leaves them out when equal)
      for (const endpoint of ['introspection', 'revocation']) expect(meta[`${endpoint}_endpoint_auth_methods_supported`] ?? methods).toEqual(methods);
      expect(meta).not.toHaveProperty('pushed_authorization_request_endpoint');
      expect(meta).not.toHaveProperty('dpop_signing_alg_values_supported');
      const par = await fetch(`${server.url}/request`, { method: 'POST', headers: { authorization: basicAuth(seeded.staffClient.clientId, seeded.staffClient.secret!) } });
      expect(par.status).toBe(404);
    });

    test('client_secret_post works at the token endpoint', async () => {
      const { tokens } = await staffRp.login(new Browser(), credentials(seeded.staff));
      const form = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: seeded.staffClient.clientId, client_secret: seeded.staffClient.secret! };
      const answer = await fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { access_token?: string }).access_token).toBeDefined();
    });
  });

  // ---------------------------------------------------------------- 3. revocation

  describe('3. revocation: a client revokes only its own tokens', () => {
    const revoke = (client: { clientId: string; secret?: string }, token: string) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      const form: Record<string, string> = { token, token_type_hint: 'refresh_token' };
      if (client.secret) headers.authorization = basicAuth(client.clientId, client.secret);
      else form.client_id = client.clientId;
      return fetch(`${server.url}/token/revocation`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
    };

    test('another client of the cooperative, its service client, its public client and another cooperative\'s client: 200, the token stays valid', async () => {
      const { tokens } = await staffRp.login(new Browser(), credentials(seeded.staff));
      let refreshToken = tokens.refresh_token!;
      const sibling = await staffClientWith();
      const service = await createServiceClient(server, seeded.tenantId);
      for (const caller of [sibling.client, service, seeded.portalClient, other.staffClient, other.portalClient]) {
        const answer = await revoke(caller, refreshToken);
        expect({ caller: caller.clientId, status: answer.status }).toEqual({ caller: caller.clientId, status: 200 });
        const still = await refresh(server, seeded.staffClient, refreshToken);
        expect({ caller: caller.clientId, status: still.status }).toEqual({ caller: caller.clientId, status: 200 });
        refreshToken = still.body.refresh_token as string;
      }
      // its own client may
      expect((await revoke(seeded.staffClient, refreshToken)).status).toBe(200);
      expect((await refresh(server, seeded.staffClient, refreshToken)).status).toBe(400);
    });
  });

  // ---------------------------------------------------------------- 4. token-endpoint refusals

  describe('4. a refused token request is logged at info with the reason, the client and the request id', () => {
    const refusals = () => lines.filter((l) => l.msg === 'token request refused');

    test('a wrong client secret and a missing PKCE verifier', async () => {
      const before = refusals().length;
      const wrong = `wrong-${seeded.staffClient.secret}`;
      const bad = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { authorization: basicAuth(seeded.staffClient.clientId, wrong), 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'req-bad-secret-1' },
        body: 'grant_type=refresh_token&refresh_token=nothing',
      });
      expect(bad.status).toBe(401);

      const request = await staffRp.authorization();
      const browser = new Browser();
      const login = await browser.follow(request.url, staffRp.isCallback);
      const callback = await browser.submit(login, credentials(seeded.staff), staffRp.isCallback);
      const code = new URL(callback.url).searchParams.get('code')!;
      const noVerifier = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { authorization: basicAuth(seeded.staffClient.clientId, seeded.staffClient.secret!), 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'req-no-verifier-1' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: seeded.staffClient.redirectUri }).toString(),
      });
      expect(noVerifier.status).toBe(400);

      const logged = refusals().slice(before);
      const secretLine = logged.find((l) => l.request_id === 'req-bad-secret-1');
      expect(secretLine).toMatchObject({ level: 30, client_id: seeded.staffClient.clientId, error: 'invalid_client' });
      expect(String(secretLine!.error_detail)).toMatch(/secret/);
      const pkceLine = logged.find((l) => l.request_id === 'req-no-verifier-1');
      expect(pkceLine).toMatchObject({ level: 30, client_id: seeded.staffClient.clientId });
      expect(pkceLine).toMatchObject({ error: 'invalid_grant', cause: 'code_verifier must be provided' });
      const all = JSON.stringify(logged);
      for (const secret of [wrong, seeded.staffClient.secret!, code]) expect(all).not.toContain(secret);
    });
  });

  // ---------------------------------------------------------------- 5. pages outside the login

  describe('5. the logout and error pages show the cooperative, in the chosen language, without script', () => {
    const brand = (page: Page) => page.html().querySelector('.brand')?.text.trim();
    const endSession = (params: Record<string, string>) => `${staffRp.config.serverMetadata().end_session_endpoint}?${new URLSearchParams(params)}`;

    test('the logout confirmation with id_token_hint names the cooperative, in English with ui_locales=en', async () => {
      const browser = new Browser();
      const { tokens } = await staffRp.login(browser, credentials(seeded.staff));
      const page = await browser.follow(endSession({ id_token_hint: tokens.id_token!, ui_locales: 'en' }));
      expect(page.status).toBe(200);
      expect(brand(page)).toBe('Coöperatie zonnig');
      expect(page.html().querySelector('h1')?.text).toBe('Sign out');
      // confirmed without a post_logout_redirect_uri: the signed-out page is the cooperative's too
      const done = await browser.submit(page, { logout: 'yes' });
      expect(done.status).toBe(200);
      expect(brand(done)).toBe('Coöperatie zonnig');
    });

    test('GET /session/end without a session: our page, no script, one button that goes back to the relying party', async () => {
      const browser = new Browser();
      const page = await browser.follow(endSession({ client_id: seeded.staffClient.clientId, post_logout_redirect_uri: seeded.staffClient.postLogoutRedirectUri, state: 'st-1' }));
      expect(page.status).toBe(200);
      expect(page.body).not.toContain('<script');
      expect(page.body).not.toContain('Submitting Callback');
      expect(brand(page)).toBe('Coöperatie zonnig');
      expect(page.html().querySelector('html')?.getAttribute('lang')).toBe('nl');
      expect(page.html().querySelector('button')).not.toBeNull();
      const back = await browser.submit(page, {}, (location) => location.startsWith(seeded.staffClient.postLogoutRedirectUri));
      expect(back.url).toBe(`${seeded.staffClient.postLogoutRedirectUri}?state=st-1`);

      // without any client: Sleutel's own name, still our page
      const bare = await new Browser('en').follow(endSession({}));
      expect(bare.status).toBe(200);
      expect(bare.body).not.toContain('<script');
      expect(brand(bare)).toBe('Sleutel');
      expect(bare.html().querySelector('html')?.getAttribute('lang')).toBe('en');
    });

    test('an error page of a known client names its cooperative', async () => {
      const url = new URL(staffRp.config.serverMetadata().authorization_endpoint!);
      url.search = new URLSearchParams({ client_id: seeded.staffClient.clientId, redirect_uri: 'https://elsewhere.example/cb', response_type: 'code', scope: 'openid' }).toString();
      const page = await new Browser().follow(url.href);
      expect(page.status).toBe(400);
      expect(brand(page)).toBe('Coöperatie zonnig');
      const unknown = new URL(url);
      unknown.searchParams.set('client_id', 'nobody');
      expect(brand(await new Browser().follow(unknown.href))).toBe('Sleutel');
    });
  });

  // ---------------------------------------------------------------- 6. max_age vs acr_values

  describe('6. max_age=0 and prompt=login ask for the password but lead no one into enrollment; acr_values does', () => {
    test.each([[{ max_age: '0' }], [{ prompt: 'login' }]])('%j for an account without 2FA: the password, then back with acr pwd', async (params) => {
      const browser = new Browser();
      await staffRp.login(browser, credentials(seeded.staff));
      const { request, next } = await passwordStep(browser, staffRp, seeded.staff, params);
      expect(staffRp.isCallback(next.url)).toBe(true);
      expect((await staffRp.exchange(next.url, request)).claims()).toMatchObject({ acr: ACR_PWD, amr: ['pwd'] });
    });

    test('acr_values=2fa for the same account: enrollment', async () => {
      const { next } = await passwordStep(new Browser(), staffRp, seeded.staff, { acr_values: ACR_2FA });
      expect(next.html().querySelector('img.qr')).not.toBeNull();
    });
  });

  // ---------------------------------------------------------------- 8. the runtime

  describe('8. the runtime', () => {
    test('on Node 20 one info line says why oidc-provider warns and what is supported', () => {
      const line = lines.find((l) => l.msg.startsWith('Node.js '));
      if (Number(process.versions.node.split('.')[0]) < 22) {
        expect(line).toMatchObject({ level: 30, node: process.versions.node });
        expect(line!.msg).toContain('Unsupported runtime');
      } else {
        expect(line).toBeUndefined();
      }
    });
  });
});
