import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Browser } from '../helpers/browser.js';
import { freePort } from '../helpers/own-servers.js';
import { credentials, seedTenant, type Seeded } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { totp } from '../helpers/totp.js';
import { secretOnScreen } from '../helpers/two-factor.js';

/**
 * The example configurations of docs/integration.md, run against a real Sleutel with the relying
 * party software they are for, as Debian 12 packages it: Python Authlib 1.2 (python3-authlib) and
 * Apache 2.4 with mod_auth_openidc 2.4.12 (apache2, libapache2-mod-auth-openidc). Each part is
 * skipped where its packages are not installed.
 */

const PYTHON = '/usr/bin/python3';
const haveAuthlib = spawnSync(PYTHON, ['-c', 'import authlib, requests'], { stdio: 'ignore' }).status === 0;
const authlibExample = fileURLToPath(new URL('../../docs/examples/authlib_relying_party.py', import.meta.url));

(haveAuthlib ? describe : describe.skip)('docs/examples/authlib_relying_party.py against Sleutel (Authlib 1.2)', () => {
  let server: TestServer;
  let seeded: Seeded;

  beforeAll(async () => {
    server = await startServer('embedded');
    seeded = await seedTenant(server.sleutel.stores);
  });
  afterAll(() => server?.close());

  test('code + PKCE + nonce, ID token checked, userinfo, rotating refresh, introspection, revocation', async () => {
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    await server.sleutel.stores.clients.create({
      clientId: 'authlib-app',
      tenantId: seeded.tenantId,
      pool: 'staff',
      secret: 'authlib-secret-0123456789abcdefghijkl',
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [],
    });
    const python = spawn(PYTHON, [authlibExample, server.url, 'authlib-app', 'authlib-secret-0123456789abcdefghijkl', redirectUri], {
      // the test's issuer is plain http on loopback; a deployment is https and needs no such switch
      env: { ...process.env, AUTHLIB_INSECURE_TRANSPORT: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    python.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = readline.createInterface({ input: python.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const line = await lines.next();
      if (line.done) throw new Error(`the example ended early: ${stderr}`);
      return line.value;
    };

    const authorizationUrl = new URL(await next());
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const browser = new Browser();
    const isCallback = (location: string) => location.startsWith(redirectUri);
    const login = await browser.follow(authorizationUrl.href, isCallback);
    const callback = await browser.submit(login, credentials(seeded.staff), isCallback);
    expect(isCallback(callback.url)).toBe(true);
    python.stdin.write(`${callback.url}\n`);

    const result = JSON.parse(await next()) as Record<string, unknown>;
    expect(result.claims).toMatchObject({
      iss: server.url,
      aud: 'authlib-app',
      sub: seeded.staff.id,
      email: seeded.staff.email,
      tenant: seeded.slug,
      pool: 'staff',
      acr: 'urn:sleutel:acr:pwd',
      amr: ['pwd'],
    });
    expect(result.userinfo).toMatchObject({ sub: seeded.staff.id, email: seeded.staff.email });
    expect(result.refreshed).toBe(true);
    expect(result.introspection).toMatchObject({ active: true, client_id: 'authlib-app', sub: seeded.staff.id });
    expect(result.revocation_status).toBe(200);
    expect(result.after_revocation).toBe('invalid_grant');
    expect(await new Promise((resolve) => python.on('close', resolve))).toBe(0);
  });
});

/** A request as a browser's page load makes it, answered as a fetch Response (redirects not followed). */
function pageLoad(url: string, init: RequestInit): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method ?? 'GET', headers: init.headers as Record<string, string> }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(answer.headers)) for (const item of [value ?? []].flat()) headers.append(name, item);
        const status = answer.statusCode ?? 500;
        resolve(new Response([204, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers }));
      });
    });
    request.on('error', reject);
    request.end(init.body as string | undefined);
  });
}

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const haveApache = fs.existsSync(APACHE) && fs.existsSync(`${MODULES}/mod_auth_openidc.so`);
const apacheExample = fileURLToPath(new URL('../../docs/examples/mod_auth_openidc.conf', import.meta.url));

/**
 * An Apache of the test's own (prefork, as Debian's default with PHP) on a spare port, with the
 * example included verbatim and static pages under /app; the values of the example come from
 * the environment, as they would from /etc/apache2/envvars. /app/redirect_uri?info=json shows the
 * session's ID token claims (mod_auth_openidc's info hook, added here for the test only).
 */
class OwnApache {
  private child?: ChildProcess;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(port: number, env: Record<string, string>): Promise<OwnApache> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-apache-'));
    const apache = new OwnApache(dir, port);
    for (const page of ['app', 'app/beheer', 'app/beheer/bevestigen']) {
      fs.mkdirSync(path.join(dir, 'www', page), { recursive: true });
      fs.writeFileSync(path.join(dir, 'www', page, 'index.html'), `page ${page}\n`);
    }
    fs.mkdirSync(path.join(dir, 'run'));
    const modules = ['mpm_prefork', 'authn_core', 'authz_core', 'authz_user', 'dir', 'mime', 'auth_openidc'];
    fs.writeFileSync(
      path.join(dir, 'httpd.conf'),
      [
        `ServerRoot ${dir}`,
        'ServerName 127.0.0.1',
        `Listen 127.0.0.1:${apache.port}`,
        `PidFile ${dir}/run/httpd.pid`,
        `DefaultRuntimeDir ${dir}/run`,
        `Mutex file:${dir}/run default`,
        `ErrorLog ${dir}/error.log`,
        'LogLevel warn auth_openidc:info',
        ...modules.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
        'User www-data',
        'Group www-data',
        'StartServers 2',
        'MaxRequestWorkers 8',
        `DocumentRoot ${dir}/www`,
        'DirectoryIndex index.html',
        'TypesConfig /etc/mime.types',
        `Include ${apacheExample}`,
        'OIDCInfoHook iat id_token',
        '',
      ].join('\n'),
    );
    fs.chmodSync(dir, 0o755);
    apache.child = spawn(APACHE, ['-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
      detached: true, // in the parent's process group, Apache's parent ignored SIGTERM
    });
    for (let i = 0; i < 100 && !(await apache.answers()); i += 1) await new Promise((r) => setTimeout(r, 100));
    if (!(await apache.answers())) throw new Error(`apache did not start: ${apache.errorLog()}`);
    return apache;
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
  }

  errorLog(): string {
    const file = path.join(this.dir, 'error.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  async stop(): Promise<void> {

    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

(haveApache ? describe : describe.skip)('docs/examples/mod_auth_openidc.conf against Sleutel (Apache 2.4, mod_auth_openidc 2.4)', () => {
  let server: TestServer;
  let seeded: Seeded;
  let apache: OwnApache;
  const secret = 'apache-secret-0123456789abcdefghijklmn';

  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    server = await startServer('embedded');
    seeded = await seedTenant(server.sleutel.stores);
    const port = await freePort();
    // Node's fetch always says Sec-Fetch-Mode: cors, which mod_auth_openidc answers with 401 instead
    // of a redirect to the login (it takes the request for an XHR). The Browser helper's requests
    // are page loads, so those to Apache go through node:http, which sends no such header.
    globalThis.fetch = async (input, init) => {
      const fromBrowser = (init?.headers as Record<string, string> | undefined)?.accept === 'text/html';
      return fromBrowser && String(input).startsWith(`http://127.0.0.1:${port}/`) ? pageLoad(String(input), init!) : realFetch(input, init);
    };
    const redirectUri = `http://127.0.0.1:${port}/app/redirect_uri`;
    await server.sleutel.stores.clients.create({
      clientId: 'econobis-apache',
      tenantId: seeded.tenantId,
      pool: 'staff',
      secret,
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [`http://127.0.0.1:${port}/`],
      backchannelLogoutUri: `${redirectUri}?logout=backchannel`,
    });
    apache = await OwnApache.start(port, {
      SLEUTEL_ISSUER: server.url,
      SLEUTEL_CLIENT_ID: 'econobis-apache',
      SLEUTEL_CLIENT_SECRET: secret,
      SLEUTEL_REDIRECT_URI: redirectUri,
      SLEUTEL_CRYPTO_PASSPHRASE: 'test-passphrase-0123456789',
      SLEUTEL_TENANT: seeded.slug,
      SLEUTEL_DEFAULT_URL: `http://127.0.0.1:${port}/app/`,
    });
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await apache?.stop();
    await server?.close();
  });

  test('sign in, step-up, back-channel logout, and a remembered browser\'s acr without otp', async () => {
    const browser = new Browser();
    // mod_auth_openidc sends a session that falls short of a Require to the login with a page that
    // refreshes to it (<meta http-equiv="refresh">); a browser follows that, the Browser helper is told to
    const load = async (url: string) => {
      const page = await browser.follow(url);
      const refresh = page.html().querySelector('meta[http-equiv="refresh"]')?.getAttribute('content');
      return refresh ? browser.follow(refresh.replace(/^\d+;\s*url=/i, '')) : page;
    };
    const claims = async () => JSON.parse((await browser.request(`${apache.url}/app/redirect_uri?info=json`)).body).id_token as Record<string, unknown>;

    // sign in: PKCE S256 and the four scopes
    const first = await browser.request(`${apache.url}/app/`);

    const authorization = new URL(first.headers.get('location')!);
    expect(authorization.href.startsWith(`${server.url}/auth?`)).toBe(true);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('scope')?.split(' ').sort()).toEqual(['email', 'openid', 'profile', 'tenant']);
    const login = await browser.follow(authorization.href);
    const app = await browser.submit(login, credentials(seeded.staff));
    expect({ url: app.url, status: app.status, body: app.body.trim() }).toEqual({ url: `${apache.url}/app/`, status: 200, body: "page app" });
    expect(await claims()).toMatchObject({ sub: seeded.staff.id, pool: 'staff', tenant: seeded.slug, acr: 'urn:sleutel:acr:pwd', amr: ['pwd'] });

    // step-up: acr_values leads into enrollment (this account has no 2FA yet), then back with acr 2fa
    const enroll = await load(`${apache.url}/app/beheer/`);
    const key = secretOnScreen(enroll);
    const shown = await browser.submit(enroll, { code: totp(key) }, undefined, '/enroll');
    const beheer = await browser.submit(shown, {}, undefined, '/continue');
    expect({ status: beheer.status, body: beheer.body.trim() }).toEqual({ status: 200, body: 'page app/beheer' });
    expect(await claims()).toMatchObject({ acr: 'urn:sleutel:acr:2fa', amr: ['pwd', 'otp'] });

    // back-channel logout: an admin ends the account's sessions; Apache's session is gone too
    await server.sleutel.flows.sessions.endAll(seeded.staff.id);
    const after = await browser.request(`${apache.url}/app/`);
    expect(after.status).toBe(302);
    expect(after.headers.get('location')!.startsWith(`${server.url}/auth?`)).toBe(true);

    // signing in again in this (remembered) browser: acr 2fa without a code, so amr has no otp
    const again = await browser.submit(await browser.follow(after.headers.get('location')!), credentials(seeded.staff));
    expect(again.body.trim()).toBe('page app');
    expect(await claims()).toMatchObject({ acr: 'urn:sleutel:acr:2fa', amr: ['pwd'] });
    expect((await load(`${apache.url}/app/beheer/`)).body.trim()).toBe('page app/beheer');

    // the page that checks amr: Sleutel asks the code now
    const challenge = await load(`${apache.url}/app/beheer/bevestigen/`);
    expect(challenge.html().querySelector('form[action$="/code"] input[name=code]')).not.toBeNull();
    const confirmed = await browser.submit(challenge, { code: totp(key, 1) });
    expect(confirmed.body.trim()).toBe('page app/beheer/bevestigen');
    expect(await claims()).toMatchObject({ acr: 'urn:sleutel:acr:2fa', amr: ['pwd', 'otp'] });
    expect(apache.errorLog()).not.toMatch(/backchannel|logout_token/i);
  });

  test('a cancelled sign-in (an error response with iss, which 2.4.12 takes for a discovery response) starts again at OIDCDefaultURL', async () => {
    const browser = new Browser();
    const login = await browser.follow(`${apache.url}/app/`);
    const uid = /\/interaction\/([^/?]+)/.exec(login.url)?.[1];
    expect(uid).toBeDefined();
    // the person cancels at Sleutel: back to the redirect URI with error, state and iss, no code
    const cancelled = await browser.follow(`${server.url}/interaction/${uid}/abort`, (location) => location.startsWith(`${apache.url}/`));
    const response = new URL(cancelled.url);
    expect(response.searchParams.get('error')).toBe('access_denied');
    expect(response.searchParams.get('iss')).toBe(server.url);
    // with OIDCDefaultURL (the example sets it) Apache starts a new sign-in: the person is at Sleutel's login again
    const again = await browser.follow(cancelled.url);
    expect(again.url.startsWith(`${server.url}/interaction/`)).toBe(true);
    expect(again.html().querySelector('input[name=password]')).not.toBeNull();
  });
});
