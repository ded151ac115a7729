import { createHash, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { hashPassword } from '../../src/factors/password.js';
import type { Pool } from '../../src/policy/tenant-policy.js';
import type { Role } from '../../src/stores/accounts.js';
import { Browser, type Page } from './browser.js';
import type { RelyingParty } from './relying-party.js';
import type { SeededAccount, SeededClient } from './seed.js';
import { randomPassword, type TestServer } from './server.js';
import { timeStepNow, totp } from './totp.js';
import { enableOnAccountPage, passwordStep } from './two-factor.js';

/**
 * The management API from the outside: service clients and their client_credentials tokens, a
 * staff member's manage token through the code flow with 2FA, and a small JSON client.
 */

export const manageResourceOf = (server: TestServer) => `${server.url}/manage/v1`;

export interface ServiceClient {
  clientId: string;
  secret: string;
}

/** A service client (pool null) of a tenant, as `sleutel service-client add` makes one. */
export async function createServiceClient(server: TestServer, tenantId: string, clientId = `svc-${randomBytes(4).toString('hex')}`): Promise<ServiceClient> {
  const secret = `svc-secret-${randomBytes(24).toString('hex')}`;
  await server.sleutel.stores.clients.create({ clientId, tenantId, pool: null, secret, redirectUris: [], postLogoutRedirectUris: [] });
  return { clientId, secret };
}

export const basicAuth = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** POST /token with client_credentials; the raw answer. */
export async function clientCredentials(server: TestServer, client: ServiceClient, body = 'grant_type=client_credentials&scope=manage') {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client.clientId, client.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A service client's manage token (asserted to be issued). */
export async function serviceToken(server: TestServer, client: ServiceClient): Promise<string> {
  const answer = await clientCredentials(server, client);
  if (answer.status !== 200 || typeof answer.body.access_token !== 'string') throw new Error(`no service token: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.access_token;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** parsed JSON, or the text when it was not JSON */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One call of the management API; `path` is relative to /manage/v1. A string body is sent as is. */
export async function call(
  server: TestServer,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  options: { contentType?: string } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await fetch(`${server.url}/manage/v1${path}`, { method, headers, body: payload });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** `call` bound to a server and a token. */
export function apiFor(server: TestServer, token: string | undefined) {
  return (method: string, path: string, body?: unknown, options?: { contentType?: string }) => call(server, token, method, path, body, options);
}

/** A fresh account of the tenant with a password (staff get `roles`); `hashed: false` skips argon2 (no sign-in). */
export async function createAccount(
  server: TestServer,
  tenantId: string,
  pool: Pool,
  roles: Role[] = [],
  options: { prefix?: string; hashed?: boolean } = {},
): Promise<SeededAccount> {
  const prefix = options.prefix ?? pool;
  const password = randomPassword();
  const email = `${prefix}-${randomBytes(4).toString('hex')}@example.nl`;
  const account = await server.sleutel.stores.accounts.create({
    tenantId,
    pool,
    email,
    name: `${prefix} ${pool}`,
    passwordHash: options.hashed === false ? null : await hashPassword(password),
    roles,
    emailVerified: true,
  });
  return { id: account.id, email, password };
}

/**
 * TOTP codes that are never a replay: each account's accepted steps only go up, so a code is taken
 * from the current step, or the next one when the current one was used already (waiting for the
 * clock when both are used up). The previous step is never chosen: a step change between computing
 * and verifying would put it out of the accepted window.
 */
export class CodeClock {
  private readonly last = new Map<string, number>();

  /** Records a step used outside this clock (enableOnAccountPage confirms with the previous step). */
  used(secret: string, step: number): void {
    this.last.set(secret, Math.max(step, this.last.get(secret) ?? -Infinity));
  }

  async next(secret: string): Promise<string> {
    for (;;) {
      const now = timeStepNow();
      const step = Math.max(now, (this.last.get(secret) ?? -Infinity) + 1);
      if (step <= now + 1) {
        this.used(secret, step);
        return totp(secret, step - now);
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** Turns on 2FA through the account page; the confirming step is recorded in `clock`. */
export async function enable2fa(server: TestServer, rp: RelyingParty, account: SeededAccount, clock: CodeClock): Promise<string> {
  const before = timeStepNow();
  const { secret } = await enableOnAccountPage(new Browser(), server.url, rp, account);
  // the confirming code was of the step before "now" at the time it was computed
  clock.used(secret, Math.max(before, timeStepNow()) - 1);
  return secret;
}

/**
 * A staff login at `rp` asking for the management API (scope manage, resource …/manage/v1), with
 * the code when one is asked, and the code exchange with the resource. Returns the token set.
 */
export async function loginForManage(
  server: TestServer,
  rp: RelyingParty,
  account: SeededAccount,
  code?: () => Promise<string>,
  browser = new Browser(),
): Promise<{ tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers; browser: Browser; afterPassword: Page }> {
  const resource = manageResourceOf(server);
  const { request, next } = await passwordStep(browser, rp, account, { scope: 'openid manage', resource });
  let page = next;
  if (!rp.isCallback(page.url)) {
    if (!code || !page.html().querySelector('form[action$="/code"] input[name=code]')) {
      throw new Error(`expected the code challenge or the callback: ${page.status} ${page.body.slice(0, 400)}`);
    }
    page = await browser.submit(page, { code: await code() }, rp.isCallback, '/code');
  }
  if (!rp.isCallback(page.url)) throw new Error(`login did not reach the callback: ${page.status} ${page.body.slice(0, 400)}`);
  const tokens = await oidc.authorizationCodeGrant(
    rp.config,
    new URL(page.url),
    { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce },
    { resource },
  );
  return { tokens, browser, afterPassword: next };
}

// kept importable from here for the suites that already do; they live in their own modules
export { outboxFiles } from './outbox.js';
export { formWithAction, hasSkip, isChallenge, isEnrollment } from './login-screens.js';

/** A refresh_token grant at /token, as the relying party `client` makes it; the raw answer. */
export async function refresh(server: TestServer, client: SeededClient, refreshToken: string, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const form: Record<string, string> = { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra };
  if (client.secret) headers.authorization = basicAuth(client.clientId, client.secret);
  else form.client_id = client.clientId;
  const response = await fetch(`${server.url}/token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The cookie that holds an account's remembrance token in a browser (one per account; src/http/browser-cookie.ts). */
export const browserCookieName = (accountId: string) => `sleutel.browser.${createHash('sha256').update(accountId).digest('base64url').slice(0, 12)}`;

/** The browser's remembrance token for an account, if it has one. */
export async function browserToken(browser: Browser, url: string, accountId: string): Promise<string | undefined> {
  const cookies = await browser.jar.getCookies(url);
  return cookies.find((c) => c.key === browserCookieName(accountId))?.value;
}

/**
 * A staff member's manage token from the code flow, kept fresh with its refresh token (with the
 * resource again) when it gets old, so a slow machine does not outlive the 10-minute access token.
 */
export class UserToken {
  private issuedAt = Date.now();

  constructor(
    private readonly server: TestServer,
    private readonly rp: RelyingParty,
    private tokens: { access_token: string; refresh_token?: string },
  ) {}

  async get(): Promise<string> {
    if (Date.now() - this.issuedAt > 5 * 60_000 && this.tokens.refresh_token) {
      const answer = await refresh(this.server, this.rp.client, this.tokens.refresh_token, { resource: manageResourceOf(this.server) });
      if (answer.status !== 200) throw new Error(`refresh failed: ${JSON.stringify(answer.body)}`);
      this.tokens = answer.body as { access_token: string; refresh_token?: string };
      this.issuedAt = Date.now();
    }
    return this.tokens.access_token;
  }
}

/** RP-initiated logout in the browser, confirmed on Sleutel's logout screen; answers where it ended. */
export async function logoutAtSleutel(browser: Browser, rp: RelyingParty, idToken: string): Promise<Page> {
  const end = new URL(rp.config.serverMetadata().end_session_endpoint!);
  end.searchParams.set('id_token_hint', idToken);
  end.searchParams.set('post_logout_redirect_uri', rp.client.postLogoutRedirectUri);
  const confirm = await browser.follow(end.href);
  const done = await browser.submit(confirm, { logout: 'yes' }, (location) => location.startsWith(rp.client.postLogoutRedirectUri));
  if (!done.url.startsWith(rp.client.postLogoutRedirectUri)) throw new Error(`logout did not return to the relying party: ${done.status} ${done.body.slice(0, 300)}`);
  return done;
}

type JsonSchema = Record<string, unknown>;

/**
 * Checks a value against the subset of JSON Schema 2020-12 the OpenAPI document uses (type, enum,
 * const, properties, required, additionalProperties, items, anyOf/oneOf, pattern, min/max, lengths);
 * no validator package is installed, and this one is small enough to read. Returns the problems.
 */
export function schemaProblems(schema: JsonSchema, value: unknown, at = '$'): string[] {
  const problems: string[] = [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (schema.anyOf || schema.oneOf) {
    const options = (schema.anyOf ?? schema.oneOf) as JsonSchema[];
    const passing = options.filter((option) => schemaProblems(option, value, at).length === 0).length;
    if (schema.oneOf ? passing !== 1 : passing === 0) problems.push(`${at}: matches ${passing} of the ${schema.oneOf ? 'oneOf' : 'anyOf'} options`);
  }
  if (schema.type !== undefined) {
    const types = [schema.type].flat() as string[];
    const actual = typeOf(value);
    const ok = types.some((t) => t === actual || (t === 'integer' && actual === 'number' && Number.isInteger(value)) || (t === 'number' && actual === 'number'));
    if (!ok) return [...problems, `${at}: expected ${types.join('|')}, got ${actual}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).some((e) => e === value)) problems.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if ('const' in schema && schema.const !== value) problems.push(`${at}: not the constant ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${at}: does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const name of (schema.required ?? []) as string[]) if (!(name in object)) problems.push(`${at}.${name}: required but missing`);
    for (const [name, item] of Object.entries(object)) {
      if (properties[name]) problems.push(...schemaProblems(properties[name]!, item, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}.${name}: not in the schema (additionalProperties false)`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') problems.push(...schemaProblems(schema.additionalProperties as JsonSchema, item, `${at}.${name}`));
    }
  }
  if (Array.isArray(value) && schema.items && typeof schema.items === 'object') {
    value.forEach((item, i) => problems.push(...schemaProblems(schema.items as JsonSchema, item, `${at}[${i}]`)));
  }
  return problems;
}
