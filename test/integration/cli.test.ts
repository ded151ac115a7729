import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../src/config/environment.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { verifyPassword } from '../../src/factors/password.js';
import { ClientStore } from '../../src/stores/clients.js';
import { openDatabase, type Database } from '../../src/stores/database.js';
import { runSleutel, type CliResult } from '../helpers/cli.js';
import { TEST_KEYS } from '../helpers/server.js';
import { createDatabase } from '../helpers/stores.js';

/**
 * The `sleutel` command as an operator runs it: `node bin/sleutel.js …` in a child process, against
 * embedded PGlite under a fresh DATA_DIR and, when DATABASE_URL is set, a fresh Postgres database.
 * The tests in a mode build on each other (migrate, then tenant, then clients …) and run in order;
 * the last one opens the database itself and checks what the commands stored.
 */

// The CLI only needs the database; Redis is passed along when there is one.
const modes = process.env.DATABASE_URL ? (['embedded', 'postgres'] as const) : (['embedded'] as const);

/** A second encryption key, put in front of the first for `keys reencrypt`. */
const NEW_ENCRYPTION_KEY = `test2:${Buffer.alloc(32, 9).toString('base64')}`;
const ARGON2ID_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';
const TIMEOUT = 120_000;

/** Runs `node bin/sleutel.js args…` with exactly env (no inherited NODE_OPTIONS, NODE_ENV, DATABASE_URL…). */
const sleutel = runSleutel;

/** Success with --json: exit 0, nothing on stderr, one line of JSON on stdout. */
function jsonOutput(result: CliResult): Record<string, unknown> {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(/^[^\n]+\n$/);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/**
 * A refusal: exit code ≠ 0, nothing on stdout, and on stderr one line — `sleutel: …`, or with --json
 * `{"error": …}` — matching message.
 */
function expectRefusal(result: CliResult, message: RegExp, json: boolean): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull(); // null: killed by the timer
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^[^\n]+\n$/);
  if (json) {
    const body = JSON.parse(result.stderr) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(message);
  } else {
    expect(result.stderr).toMatch(/^sleutel: /);
    expect(result.stderr).toMatch(message);
  }
}

/** Unknown commands and options: one line saying what was wrong and pointing at --help. */
function expectUsageRefusal(result: CliResult, message: RegExp, json: boolean): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^[^\n]+\n$/);
  const line = json ? (JSON.parse(result.stderr) as { error: string }).error : result.stderr;
  if (!json) expect(line).toMatch(/^sleutel: /);
  expect(line).toMatch(message);
  expect(line).toContain('sleutel --help');
}

describe.each(modes)('the sleutel command line (%s)', (mode) => {
  let dataDir: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let env: Record<string, string>;
  const cli = (args: string[], stdin?: string, extraEnv: Record<string, string> = {}) => sleutel(args, { ...env, ...extraEnv }, stdin);

  // what the commands are given or print; the last test checks it against the database
  const staffPassword = 'correct horse battery staple';
  const portalPassword = 'lid-wachtwoord-42';
  const confidentialSecret = 'rp-secret-0123456789abcdefghijklmnopqrstuvwxyz';
  const serviceSecret = 'svc-secret-0123456789abcdefghijklmnopqrstuvwxyz';
  let tenantId = '';
  let generatedSecret = '';
  let staffAccountId = '';
  const kids: string[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-cli-'));
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      TMPDIR: os.tmpdir(),
      DATA_DIR: dataDir,
      ...TEST_KEYS,
    };
    if (mode === 'postgres') {
      database = await createDatabase();
      env.DATABASE_URL = database.url;
      if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
    }
  });
  afterAll(async () => {
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The database the CLI wrote; embedded only once every CLI process has exited (PGlite is one-process). */
  const openStored = (): Database => (database ? openDatabase({ url: database.url, poolMax: 2 }) : openDatabase({ dataDir }));

  describe('commands', () => {
    test(
      'migrate creates the schema',
      async () => {
        expect(jsonOutput(await cli(['migrate', '--json']))).toEqual({ migrated: true });
        // embedded: the database lives under DATA_DIR
        if (mode === 'embedded') expect(fs.existsSync(path.join(dataDir, 'pg'))).toBe(true);
      },
      TIMEOUT,
    );

    test(
      'tenant add',
      async () => {
        const out = jsonOutput(await cli(['tenant', 'add', 'zonnig', '--name', 'Coöperatie Zonnig', '--json']));
        expect(out).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), slug: 'zonnig', name: 'Coöperatie Zonnig' });
        tenantId = out.id as string;
      },
      TIMEOUT,
    );

    test(
      'client add: confidential with --secret, several redirect URIs and both logout URIs',
      async () => {
        const out = jsonOutput(
          await cli([
            'client', 'add', '--tenant', 'zonnig', '--pool', 'staff', '--id', 'econobis-zonnig',
            '--redirect-uri', 'https://econobis.zonnig.example/oauth/callback',
            '--redirect-uri', 'http://localhost:8080/callback',
            '--secret', confidentialSecret,
            '--post-logout-redirect-uri', 'https://econobis.zonnig.example/signed-out',
            '--backchannel-logout-uri', 'https://econobis.zonnig.example/backchannel-logout',
            '--json',
          ]),
        );
        // a secret the operator chose is never echoed
        expect(out).toEqual({ client_id: 'econobis-zonnig', tenant: 'zonnig', pool: 'staff', public: false });
      },
      TIMEOUT,
    );

    test(
      'client add: confidential without --secret prints a generated secret once',
      async () => {
        const out = jsonOutput(
          await cli(['client', 'add', '--tenant', 'zonnig', '--pool', 'staff', '--id', 'rapportage', '--redirect-uri', 'https://rapport.zonnig.example/cb', '--json']),
        );
        expect(out).toEqual({ client_id: 'rapportage', tenant: 'zonnig', pool: 'staff', public: false, client_secret: expect.any(String) });
        generatedSecret = out.client_secret as string;
        expect(generatedSecret.length).toBeGreaterThanOrEqual(32);
      },
      TIMEOUT,
    );

    test(
      'client add --public',
      async () => {
        const out = jsonOutput(
          await cli(['client', 'add', '--tenant', 'zonnig', '--pool', 'portal', '--id', 'portaal', '--redirect-uri', 'https://portaal.zonnig.example/cb', '--public', '--json']),
        );
        expect(out).toEqual({ client_id: 'portaal', tenant: 'zonnig', pool: 'portal', public: true });
      },
      TIMEOUT,
    );

    test(
      'service-client add',
      async () => {
        const out = jsonOutput(await cli(['service-client', 'add', '--tenant', 'zonnig', '--id', 'beheer', '--secret', serviceSecret, '--json']));
        expect(out).toEqual({ client_id: 'beheer', tenant: 'zonnig', service: true });
      },
      TIMEOUT,
    );

    test(
      'user add: staff with roles, the password from stdin',
      async () => {
        // a repeated role is stored once; the trailing newline of `echo pw |` is not part of the password
        const out = jsonOutput(
          await cli(
            ['user', 'add', '--tenant', 'zonnig', '--pool', 'staff', '--email', 'medewerker@zonnig.example', '--name', 'Mia Medewerker', '--role', 'key_user', '--role', 'coop_admin', '--role', 'key_user', '--json'],
            `${staffPassword}\n`,
          ),
        );
        expect(out).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), tenant: 'zonnig', pool: 'staff', email: 'medewerker@zonnig.example', roles: ['key_user', 'coop_admin'] });
        staffAccountId = out.id as string;
      },
      TIMEOUT,
    );

    test(
      'user add: portal member without roles (CRLF line end)',
      async () => {
        const out = jsonOutput(await cli(['user', 'add', '--tenant', 'zonnig', '--pool', 'portal', '--email', 'lid@zonnig.example', '--json'], `${portalPassword}\r\n`));
        expect(out).toMatchObject({ tenant: 'zonnig', pool: 'portal', email: 'lid@zonnig.example', roles: [] });
      },
      TIMEOUT,
    );

    test(
      'keys rotate: a new kid each time, the previous active key retired',
      async () => {
        const first = jsonOutput(await cli(['keys', 'rotate', '--json']));
        // the CLI made the first key: there was none to retire
        expect(first).toEqual({ kid: expect.any(String), retired: [] });
        const second = jsonOutput(await cli(['keys', 'rotate', '--json']));
        expect(second).toEqual({ kid: expect.any(String), retired: [first.kid] });
        expect(second.kid).not.toBe(first.kid);
        kids.push(first.kid as string, second.kid as string);
      },
      TIMEOUT,
    );

    test(
      'keys reencrypt: everything sealed under the old key moves to the new first key',
      async () => {
        const withNewKey = { ENCRYPTION_KEYS: `${NEW_ENCRYPTION_KEY},${TEST_KEYS.ENCRYPTION_KEYS}` };
        const out = jsonOutput(await cli(['keys', 'reencrypt', '--json'], '', withNewKey));
        // three client secrets (two confidential RPs and the service client; the public one has none) and both signing keys
        expect(out).toEqual({ key_id: 'test2', clients: 3, signing_keys: 2, totp_secrets: 0 });
        // nothing is stale any more
        expect(jsonOutput(await cli(['keys', 'reencrypt', '--json'], '', withNewKey))).toEqual({ key_id: 'test2', clients: 0, signing_keys: 0, totp_secrets: 0 });
      },
      TIMEOUT,
    );
  });

  describe('refusals', () => {
    const redirect = 'https://rp.zonnig.example/cb';

    test.each([
      ['a duplicate tenant', ['tenant', 'add', 'zonnig', '--name', 'Nog een keer', '--json'], /tenant "zonnig" already exists/, true],
      ['a bad tenant slug', ['tenant', 'add', 'Zonnig_Energie', '--name', 'X'], /<slug>: use lowercase letters/, false],
      ['an unknown tenant', ['client', 'add', '--tenant', 'bestaat-niet', '--pool', 'staff', '--id', 'x-1', '--redirect-uri', redirect, '--json'], /tenant "bestaat-niet" does not exist/, true],
      ['--pool other', ['client', 'add', '--tenant', 'zonnig', '--pool', 'other', '--id', 'x-2', '--redirect-uri', redirect], /--pool: must be staff or portal/, false],
      ['a plain-http redirect URI off localhost', ['client', 'add', '--tenant', 'zonnig', '--pool', 'staff', '--id', 'x-3', '--redirect-uri', 'http://example.com/cb', '--json'], /--redirect-uri: must be an https URL/, true],
      ['a redirect URI with a fragment', ['client', 'add', '--tenant', 'zonnig', '--pool', 'staff', '--id', 'x-4', '--redirect-uri', 'https://rp.zonnig.example/cb#top'], /--redirect-uri: must be an https URL without fragment/, false],
      ['a --secret shorter than 32', ['client', 'add', '--tenant', 'zonnig', '--pool', 'staff', '--id', 'x-5', '--redirect-uri', redirect, '--secret', 'a'.repeat(31), '--json'], /--secret: must be at least 32 characters/, true],
      ['both --secret and --public', ['client', 'add', '--tenant', 'zonnig', '--pool', 'portal', '--id', 'x-6', '--redirect-uri', redirect, '--secret', 'b'.repeat(40), '--public'], /either --secret or --public/, false],
    ])(
      'refuses %s',
      async (_what, args, message, json) => {
        expectRefusal(await cli(args as string[]), message as RegExp, json as boolean);
      },
      TIMEOUT,
    );

    test(
      'refuses --role for a portal account',
      async () => {
        const result = await cli(['user', 'add', '--tenant', 'zonnig', '--pool', 'portal', '--email', 'rol@zonnig.example', '--role', 'key_user', '--json'], 'lang-genoeg-wachtwoord\n');
        expectRefusal(result, /--role is for staff accounts only/, true);
      },
      TIMEOUT,
    );

    test(
      'refuses a password shorter than 8 characters from stdin',
      async () => {
        // seven characters plus the newline: the newline does not count
        const result = await cli(['user', 'add', '--tenant', 'zonnig', '--pool', 'staff', '--email', 'kort@zonnig.example'], '1234567\n');
        expectRefusal(result, /password .*at least 8 characters/, false);
      },
      TIMEOUT,
    );

    test(
      'refuses an unknown command',
      async () => {
        expectUsageRefusal(await cli(['frobnicate', 'everything']), /unknown command "frobnicate everything"/, false);
      },
      TIMEOUT,
    );

    test(
      'refuses an unknown option',
      async () => {
        expectUsageRefusal(await cli(['tenant', 'add', 'wind', '--name', 'Wind', '--colour', 'blue', '--json']), /Unknown option '--colour'/, true);
      },
      TIMEOUT,
    );

    test(
      'refuses a bad PORT in the environment, naming it',
      async () => {
        expectRefusal(await cli(['migrate', '--json'], '', { PORT: 'abc' }), /^configuration error: PORT: /, true);
      },
      TIMEOUT,
    );

    // `constructor` lives on every object's prototype; it must not pass for a command
    test(
      'refuses a command name inherited from Object.prototype',
      async () => {
        expectUsageRefusal(await cli(['constructor']), /unknown command "constructor"/, false);
      },
      TIMEOUT,
    );
  });

  describe('the DATA_DIR lock', () => {
    if (mode === 'embedded') {
      test(
        'refuses to open a DATA_DIR held by another live process, and touches nothing',
        async () => {
          const pidFile = path.join(dataDir, 'sleutel.pid');
          // this test process stands in for a running server: alive, and not the CLI
          fs.writeFileSync(pidFile, String(process.pid));
          const before = fs.readdirSync(dataDir).sort();
          try {
            // without keys in the environment the CLI would write DATA_DIR/secrets.json if it got that far
            const { ENCRYPTION_KEYS: _e, COOKIE_KEYS: _c, ...withoutKeys } = env;
            const result = await sleutel(['tenant', 'add', 'stiekem', '--name', 'Stiekem'], withoutKeys);
            expectRefusal(result, /DATA_DIR .* is in use/, false);
            expect(result.stderr).toContain(`pid ${process.pid}`);
            expect(fs.readdirSync(dataDir).sort()).toEqual(before);
            expect(fs.readFileSync(pidFile, 'utf8')).toBe(String(process.pid));
          } finally {
            fs.rmSync(pidFile);
          }
        },
        TIMEOUT,
      );
    } else {
      test(
        'a pid file in DATA_DIR does not stop a CLI that uses Postgres',
        async () => {
          const pidFile = path.join(dataDir, 'sleutel.pid');
          fs.writeFileSync(pidFile, String(process.pid));
          try {
            expect(jsonOutput(await cli(['migrate', '--json']))).toEqual({ migrated: true });
          } finally {
            fs.rmSync(pidFile);
          }
        },
        TIMEOUT,
      );
    }
  });

  // runs last (jest keeps declaration order): every command above has exited
  describe('what the commands stored', () => {
    test(
      'the database holds what the commands stored, and nothing from the refusals',
      async () => {
        const db = openStored();
        try {
          const tenants = await db('tenants').select('id', 'slug', 'name');
          expect(tenants).toEqual([{ id: tenantId, slug: 'zonnig', name: 'Coöperatie Zonnig' }]);

          const clients = await db('clients').orderBy('client_id');
          expect(clients.map((c: { client_id: string }) => c.client_id)).toEqual(['beheer', 'econobis-zonnig', 'portaal', 'rapportage']);
          const byId = Object.fromEntries(clients.map((c: { client_id: string }) => [c.client_id, c])) as Record<string, Record<string, unknown>>;

          // sealed, not in clear, and — after reencrypt — under the new key
          for (const [clientId, secret] of [['econobis-zonnig', confidentialSecret], ['rapportage', generatedSecret], ['beheer', serviceSecret]] as const) {
            const sealed = byId[clientId]!.secret_sealed as string;
            expect(sealed).not.toContain(secret);
            expect(sealed).not.toContain(Buffer.from(secret).toString('base64url'));
            expect(sealed.startsWith('test2.')).toBe(true);
          }
          expect(byId.portaal!.secret_sealed).toBeNull();
          expect(byId.beheer!.pool).toBeNull();
          expect(byId.beheer!.redirect_uris).toEqual([]);
          expect(byId['econobis-zonnig']).toMatchObject({
            tenant_id: tenantId,
            pool: 'staff',
            redirect_uris: ['https://econobis.zonnig.example/oauth/callback', 'http://localhost:8080/callback'],
            post_logout_redirect_uris: ['https://econobis.zonnig.example/signed-out'],
            backchannel_logout_uri: 'https://econobis.zonnig.example/backchannel-logout',
          });

          // the secrets open again with the keys (the printed generated secret is the stored one)
          const box = new SecretBox(loadConfig({ ENCRYPTION_KEYS: `${NEW_ENCRYPTION_KEY},${TEST_KEYS.ENCRYPTION_KEYS}` }).encryptionKeys!);
          const store = new ClientStore(db, box);
          expect((await store.find('econobis-zonnig'))?.secret).toBe(confidentialSecret);
          expect((await store.find('rapportage'))?.secret).toBe(generatedSecret);
          expect((await store.find('beheer'))?.secret).toBe(serviceSecret);

          const accounts = await db('accounts').orderBy('email');
          expect(accounts.map((a: { email: string }) => a.email)).toEqual(['lid@zonnig.example', 'medewerker@zonnig.example']);
          const [portal, staff] = accounts as Record<string, unknown>[];
          expect(staff).toMatchObject({ id: staffAccountId, tenant_id: tenantId, pool: 'staff', name: 'Mia Medewerker', roles: ['key_user', 'coop_admin'], email_verified: true });
          expect(portal).toMatchObject({ pool: 'portal', roles: [], email_verified: true });
          for (const [account, password] of [[staff!, staffPassword], [portal!, portalPassword]] as const) {
            const hash = account.password_hash as string;
            expect(hash.startsWith(ARGON2ID_PREFIX)).toBe(true);
            expect(hash).not.toContain(password);
            expect(await verifyPassword(hash, password)).toBe(true);
            // the line end from stdin was not hashed into the password
            expect(await verifyPassword(hash, `${password}\n`)).toBe(false);
          }

          const keys = await db('signing_keys').orderBy('created_at');
          expect(keys.map((k: { kid: string }) => k.kid)).toEqual(kids);
          expect(keys[0].retire_after).not.toBeNull();
          expect(keys[1].retire_after).toBeNull();
          for (const k of keys as { private_jwk_sealed: string }[]) expect(k.private_jwk_sealed.startsWith('test2.')).toBe(true);
        } finally {
          await db.destroy();
        }
      },
      TIMEOUT,
    );
  });
});
