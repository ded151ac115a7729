import { expect } from '@jest/globals';
import { openDatabase } from '../../src/stores/database.js';
import { RedisStore } from '../../src/stores/kv/index.js';
import type { RedisTopology } from '../../src/config/environment.js';
import { createLogger, type Logger } from '../../src/log.js';
import { Browser } from './browser.js';
import { RelyingParty } from './relying-party.js';
import type { Seeded, SeededAccount, SeededClient } from './seed.js';
import { startServer, type TestServer } from './server.js';
import { timeStepNow, totp } from './totp.js';
import { enableOnAccountPage, passwordStep } from './two-factor.js';

/**
 * Logins driven through a relying party against a Sleutel whose Redis is a Cluster or a Sentinel
 * set (the database is the embedded one: the Redis topology is what these tests are about).
 */
export async function startOnTopology(topology: RedisTopology | string, options: { log?: Logger; logger?: Logger } = {}): Promise<TestServer> {
  const kv = new RedisStore(topology, { log: options.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  const db = openDatabase({});
  const server = await startServer('embedded', { logger: options.logger, stores: { db, kv, dispose: async () => { await kv.close(); await db.destroy(); } } });
  // stores a test passes in are its own to close: here they are this server's
  return { ...server, close: async () => { await server.close(); await server.stores.dispose(); } };
}

/** Every HTTP status the test process receives (pages, redirects, token endpoint), to find a 500. */
export function recordStatuses(): { statuses: number[]; restore(): void } {
  const real = globalThis.fetch;
  const statuses: number[] = [];
  globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
    const response = await real(...args);
    statuses.push(response.status);
    return response;
  }) as typeof fetch;
  return { statuses, restore: () => (globalThis.fetch = real) };
}

export const basicAuth = (client: SeededClient) => `Basic ${Buffer.from(`${client.clientId}:${client.secret}`).toString('base64')}`;

export async function refresh(issuer: string, client: SeededClient, refreshToken: string): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
}

/** Redeems a code with the raw token endpoint (so a refusal is a status, not an exception). */
export async function redeem(issuer: string, rp: RelyingParty, callbackUrl: string, verifier: string): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(rp.client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: new URL(callbackUrl).searchParams.get('code')!, redirect_uri: rp.client.redirectUri, code_verifier: verifier }),
  });
}

/**
 * A password login → code exchange → the same code again (refused) → refresh → the old refresh
 * token again (refused). Returns what it saw; throws only on an unexpected answer.
 */
export async function passwordLoginRound(issuer: string, rp: RelyingParty, account: SeededAccount) {
  const browser = new Browser();
  const request = await rp.authorization();
  const login = await browser.follow(request.url, rp.isCallback);
  if (!login.html().querySelector('form')) return { ok: false as const, status: login.status, at: 'authorization', url: login.url };
  const next = await browser.submit(login, { email: account.email, password: account.password }, rp.isCallback);
  if (!rp.isCallback(next.url) || !new URL(next.url).searchParams.get('code')) return { ok: false as const, status: next.status, at: 'password', url: next.url };
  const first = await redeem(issuer, rp, next.url, request.verifier);
  if (first.status !== 200) return { ok: false as const, status: first.status, at: 'code' };
  const tokens = (await first.json()) as { refresh_token: string };
  // the rotated refresh token again, then the code again: each reuse refused (and each revokes the grant)
  const rotated = await refresh(issuer, rp.client, tokens.refresh_token);
  const reused = rotated.status === 200 ? await refresh(issuer, rp.client, tokens.refresh_token) : undefined;
  const again = await redeem(issuer, rp, next.url, request.verifier);
  return { ok: true as const, refreshed: rotated.status, refreshAgain: reused?.status, codeAgain: again.status };
}

/**
 * The whole 2FA login: 2FA switched on at the account page, then password + TOTP code, code
 * exchange, refresh; the same TOTP code in a second login is refused, as are the reused code and
 * the rotated refresh token.
 */
export async function twoFactorLogin(server: { url: string }, rp: RelyingParty, account: SeededAccount) {
  const { secret } = await enableOnAccountPage(new Browser(), server.url, rp, account);
  // a code of a step that no confirmation used
  const step = timeStepNow();
  const code = totp(secret, 0, step * 30);
  const browser = new Browser();
  const { request, next } = await passwordStep(browser, rp, account);
  expect(next.html().querySelector('input[name=code]')).not.toBeNull();
  const callback = await browser.submit(next, { code }, rp.isCallback);
  expect(rp.isCallback(callback.url)).toBe(true);
  const tokens = await rp.exchange(callback.url, request);
  expect(tokens.claims()!.sub).toBe(account.id);
  expect(tokens.claims()!.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));

  // the same TOTP code in another browser's login: a replay, refused
  const other = new Browser();
  const second = await passwordStep(other, rp, account);
  const replay = await other.submit(second.next, { code }, rp.isCallback);
  expect(rp.isCallback(replay.url)).toBe(false);
  expect(replay.status).toBeLessThan(500);

  const rotated = await refresh(server.url, rp.client, tokens.refresh_token!);
  expect(rotated.status).toBe(200);
  const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${((await rotated.json()) as { access_token: string }).access_token}` } });
  expect(me.status).toBe(200);
  // reuse of the rotated refresh token, then of the code: refused
  expect((await refresh(server.url, rp.client, tokens.refresh_token!)).status).toBe(400);
  expect((await redeem(server.url, rp, callback.url, request.verifier)).status).toBe(400);
}

/**
 * Races between instances behind a round-robin proxy (two requests sent at once go to two
 * instances): the same code redeemed twice, the same refresh token used twice, one TOTP code in
 * two logins; each time exactly one wins. `tenant`'s accounts start without 2FA.
 */
export async function racesWinOnce(issuer: string, tenant: Seeded) {
  const staffRp = await RelyingParty.discover(issuer, tenant.staffClient);
  const { request, next } = await passwordStep(new Browser(), staffRp, tenant.staff);
  expect(staffRp.isCallback(next.url)).toBe(true);
  const codeRace = await Promise.all([redeem(issuer, staffRp, next.url, request.verifier), redeem(issuer, staffRp, next.url, request.verifier)]);
  expect(codeRace.map((r) => r.status).sort()).toEqual([200, 400]);
  // the loser revoked the grant; a fresh login for the refresh race
  const fresh = await passwordStep(new Browser(), staffRp, tenant.staff);
  const issued = (await (await redeem(issuer, staffRp, fresh.next.url, fresh.request.verifier)).json()) as { refresh_token: string };
  const refreshRace = await Promise.all([refresh(issuer, staffRp.client, issued.refresh_token), refresh(issuer, staffRp.client, issued.refresh_token)]);
  expect(refreshRace.map((r) => r.status).sort()).toEqual([200, 400]);

  // one TOTP code in two logins at the same moment: at most one passes
  const account = tenant.portal;
  const portalRp = await RelyingParty.discover(issuer, tenant.portalClient);
  const { secret } = await enableOnAccountPage(new Browser(), issuer, portalRp, account);
  const code = totp(secret, 0, timeStepNow() * 30);
  const [a, b] = [new Browser(), new Browser()];
  const [stepA, stepB] = await Promise.all([passwordStep(a, portalRp, account), passwordStep(b, portalRp, account)]);
  const results = await Promise.all([a.submit(stepA.next, { code }, portalRp.isCallback), b.submit(stepB.next, { code }, portalRp.isCallback)]);
  expect(results.filter((p) => portalRp.isCallback(p.url) && new URL(p.url).searchParams.get('code'))).toHaveLength(1);
  expect(results.every((p) => p.status < 500)).toBe(true);
}
