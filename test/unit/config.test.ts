import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../src/config/environment.js';
import { resolveSecrets } from '../../src/config/secrets.js';
import { ConfigError } from '../../src/errors.js';

const key32 = (fill: number) => Buffer.alloc(32, fill).toString('base64');

/** Every variable set to a good value, so a refusal can only come from the one a test spoils. */
const fullEnv: Record<string, string> = {
  PORT: '8443',
  ISSUER: 'https://id.zonnig.example/',
  DATABASE_URL: 'postgres://sleutel:pw@db.internal:5432/sleutel',
  REDIS_URL: 'rediss://cache.internal:6380',
  DATA_DIR: '/var/lib/sleutel',
  ENCRYPTION_KEYS: `k2:${key32(2)}, k1:${key32(1)}`,
  COOKIE_KEYS: `${'n'.repeat(32)},${'o'.repeat(40)}`,
  SMTP_URL: 'smtps://mailer:pw@smtp.example:465',
  MAIL_FROM: 'Zonnig <inloggen@zonnig.example>',
  LOG_LEVEL: 'warn',
  TRUST_PROXY: 'true',
};
const productionEnv = { ...fullEnv, NODE_ENV: 'production' };

/** The ConfigError loadConfig throws for env; fails the test when it accepts env or throws something else. */
function refusal(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      production: false,
      port: 3000,
      issuer: 'http://localhost:3000',
      dataDir: path.resolve('./data'),
      mailFrom: 'Sleutel <no-reply@localhost>',
      logLevel: 'info',
      trustProxy: false,
    });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    // unset: embedded PGlite, in-process KV, generated keys, mails to the log/outbox
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redis).toBeUndefined();
    expect(config.encryptionKeys).toBeUndefined();
    expect(config.cookieKeys).toBeUndefined();
    expect(config.smtpUrl).toBeUndefined();
  });

  test('the default issuer follows PORT, and empty values count as unset', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    expect(loadConfig({ PORT: '', ISSUER: '', DATA_DIR: '' })).toMatchObject({ port: 3000, issuer: 'http://localhost:3000', dataDir: path.resolve('data') });
  });

  test('a relative DATA_DIR is resolved against the working directory', () => {
    expect(loadConfig({ DATA_DIR: 'var/sleutel' }).dataDir).toBe(path.join(process.cwd(), 'var/sleutel'));
  });

  test.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('TRUST_PROXY=%s is %s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toBe(expected);
  });
});

describe('loadConfig refuses a bad value, naming the variable', () => {
  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '3000.5'],
    ['ISSUER', 'ftp://x'],
    ['ISSUER', 'https://id.example/?tenant=zonnig'],
    ['ISSUER', 'https://id.example/#top'],
    ['ISSUER', 'https://admin@id.example'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['ENCRYPTION_KEYS', `k1:${Buffer.alloc(16, 1).toString('base64')}`], // a 16-byte key
    ['ENCRYPTION_KEYS', key32(1)], // no kid: missing colon
    ['ENCRYPTION_KEYS', `k1:${key32(1)},k1:${key32(2)}`], // the same kid twice
    ['ENCRYPTION_KEYS', ','],
    ['COOKIE_KEYS', 'too-short'],
    ['COOKIE_KEYS', `${'a'.repeat(32)},short`], // every key counts, not only the first
    ['LOG_LEVEL', 'loud'],
    ['TRUST_PROXY', 'maybe'],
    ['SMTP_URL', 'http://x'],
    ['MAIL_FROM', 'x'],
  ])('%s=%s', (variable, value) => {
    const error = refusal({ ...fullEnv, [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable}: \\S`));
    // one line, so the start stops with one clear sentence
    expect(error.message).not.toContain('\n');
  });

  test('a duplicate key id is named in the message', () => {
    expect(refusal({ ENCRYPTION_KEYS: `k1:${key32(1)},k1:${key32(2)}` }).message).toContain('"k1"');
  });

  test('the message never repeats a rejected key', () => {
    const secret = Buffer.alloc(16, 5).toString('base64');
    expect(refusal({ ENCRYPTION_KEYS: `k1:${secret}` }).message).not.toContain(secret);
  });
});

describe('loadConfig: the Redis topology (docs/architecture.md § Contracts)', () => {
  const base = { ...fullEnv, REDIS_URL: undefined };

  test('REDIS_URL: one server, as given', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:pw@cache:6379/2' }).redis).toEqual({ kind: 'server', url: 'redis://:pw@cache:6379/2' });
  });

  test('REDIS_CLUSTER_NODES: seed nodes, with a password and TLS', () => {
    expect(loadConfig({ ...base, REDIS_CLUSTER_NODES: 'redis-1:7000, redis-2:7001,10.0.0.3:7002,[::1]:7003' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-1', port: 7000 },
        { host: 'redis-2', port: 7001 },
        { host: '10.0.0.3', port: 7002 },
        { host: '::1', port: 7003 },
      ],
      password: undefined,
      tls: false,
    });
    expect(loadConfig({ ...base, REDIS_CLUSTER_NODES: 'redis-1:7000', REDIS_PASSWORD: 's3cret', REDIS_TLS: 'true' }).redis).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'redis-1', port: 7000 }],
      password: 's3cret',
      tls: true,
    });
  });

  test('REDIS_SENTINELS with REDIS_SENTINEL_MASTER, passwords and TLS', () => {
    expect(
      loadConfig({ ...base, REDIS_SENTINELS: 's1:26379,s2:26379,s3:26379', REDIS_SENTINEL_MASTER: 'sleutel', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw', REDIS_TLS: 'yes' }).redis,
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26379 },
      ],
      masterName: 'sleutel',
      password: 'pw',
      sentinelPassword: 'spw',
      tls: true,
    });
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'mymaster' }).redis).toMatchObject({ kind: 'sentinel', tls: false, password: undefined });
  });

  test('REDIS_TLS=false is harmless next to any topology', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379', REDIS_TLS: 'false' }).redis).toEqual({ kind: 'server', url: 'redis://cache:6379' });
  });

  test.each([
    [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, 'REDIS_URL, REDIS_CLUSTER_NODES'],
    [{ REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_URL, REDIS_SENTINELS'],
    [{ REDIS_CLUSTER_NODES: 'b:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_CLUSTER_NODES, REDIS_SENTINELS'],
  ])('naming two topologies stops the start with one line naming both: %j', (env, named) => {
    const error = refusal(env);
    expect(error.variable).toBe(named);
    expect(error.message).toMatch(new RegExp(`^${named}: .*one Redis topology`));
    expect(error.message).not.toContain('\n');
  });

  test.each([
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'redis-1' }], // no port
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'redis-1:0' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'redis-1:70000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'redis://redis-1:7000' }], // a URL is not host:port
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'a:7000,a:7000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: ' , ' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '::1:7000' }], // IPv6 needs brackets
    ['REDIS_SENTINELS', { REDIS_SENTINELS: 's1:26379;s2:26379', REDIS_SENTINEL_MASTER: 'm' }],
    ['REDIS_SENTINEL_MASTER', { REDIS_SENTINELS: 's1:26379' }], // missing
    ['REDIS_SENTINEL_MASTER', { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'my master' }],
    ['REDIS_SENTINEL_MASTER', { REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINEL_MASTER: 'm' }], // without sentinels
    ['REDIS_SENTINEL_PASSWORD', { REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINEL_PASSWORD: 'x' }],
    ['REDIS_PASSWORD', { REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'x' }], // the URL carries it
    ['REDIS_PASSWORD', { REDIS_PASSWORD: 'x' }], // no topology
    ['REDIS_TLS', { REDIS_URL: 'redis://a:6379', REDIS_TLS: 'true' }], // rediss:// says it
    ['REDIS_TLS', { REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'maybe' }],
  ])('%s is refused in %j, naming it in one line', (variable, env) => {
    const error = refusal(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable}: \\S`));
    expect(error.message).not.toContain('\n');
  });

  test('a refused password is never repeated', () => {
    expect(refusal({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'hunter2-secret' }).message).not.toContain('hunter2');
  });
});

describe('loadConfig in production', () => {
  test('a full production environment passes and is read as given', () => {
    const config = loadConfig(productionEnv);
    expect(config).toEqual({
      production: true,
      port: 8443,
      issuer: 'https://id.zonnig.example', // trailing slash dropped: it is every token's iss
      databaseUrl: fullEnv.DATABASE_URL,
      redis: { kind: 'server', url: fullEnv.REDIS_URL },
      dataDir: '/var/lib/sleutel',
      encryptionKeys: [
        { id: 'k2', key: Buffer.alloc(32, 2) },
        { id: 'k1', key: Buffer.alloc(32, 1) },
      ],
      cookieKeys: ['n'.repeat(32), 'o'.repeat(40)],
      smtpUrl: fullEnv.SMTP_URL,
      mailFrom: fullEnv.MAIL_FROM,
      logLevel: 'warn',
      trustProxy: true,
      shutdownDrainSeconds: 5, // production default: time for the load balancer to notice
    });
  });

  test('SHUTDOWN_DRAIN_SECONDS: 0 outside production by default, set explicitly, bad values named', () => {
    expect(loadConfig({}).shutdownDrainSeconds).toBe(0);
    expect(loadConfig({ SHUTDOWN_DRAIN_SECONDS: '12' }).shutdownDrainSeconds).toBe(12);
    expect(() => loadConfig({ SHUTDOWN_DRAIN_SECONDS: 'soon' })).toThrow(/^SHUTDOWN_DRAIN_SECONDS: /);
  });

  test.each([
    ['ISSUER', { ISSUER: undefined }],
    ['ISSUER', { ISSUER: 'http://id.zonnig.example' }],
    ['ENCRYPTION_KEYS', { ENCRYPTION_KEYS: undefined }],
    ['ENCRYPTION_KEYS', { ENCRYPTION_KEYS: '' }],
    ['COOKIE_KEYS', { COOKIE_KEYS: undefined }],
  ])('refuses when %s is %j', (variable, change) => {
    const error = refusal({ ...productionEnv, ...change });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable}: .*production`));
  });

  test('the same gaps are fine outside production', () => {
    expect(() => loadConfig({ ...fullEnv, ISSUER: 'http://id.zonnig.example', ENCRYPTION_KEYS: undefined, COOKIE_KEYS: undefined })).not.toThrow();
  });
});

describe('loadConfig: ISSUER edge cases', () => {
  // a forgotten scheme is a likely mistake: it must be named, not escape as a TypeError ("Invalid URL")
  test('an ISSUER without a scheme is refused as a ConfigError naming ISSUER', () => {
    expect(refusal({ ISSUER: 'id.zonnig.example' }).variable).toBe('ISSUER');
  });

  test('an ISSUER with a password but no user name is refused (credentials)', () => {
    expect(refusal({ ISSUER: 'https://:hunter2@id.example' }).variable).toBe('ISSUER');
  });

  test('an ISSUER ending in a bare "?" is refused (issuer must not carry a query part)', () => {
    expect(refusal({ ISSUER: 'https://id.example/?' }).variable).toBe('ISSUER');
  });
});

describe('resolveSecrets', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-secrets-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('without keys outside production it generates DATA_DIR/secrets.json once, readable by the owner only', () => {
    // a directory that does not exist yet: the first start creates it
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const config = loadConfig({ DATA_DIR: dataDir });
    const file = path.join(dataDir, 'secrets.json');

    const first = resolveSecrets(config);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.encryptionKeys).toHaveLength(1);
    expect(first.encryptionKeys[0]!.key).toHaveLength(32);
    expect(first.cookieKeys).toHaveLength(1);
    expect(first.cookieKeys[0]!.length).toBeGreaterThanOrEqual(32);
    const written = fs.readFileSync(file, 'utf8');

    // a restart reads the same keys (sealed data stays readable, sessions stay valid) and writes nothing
    const second = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
    expect(second).toEqual(first);
    expect(fs.readFileSync(file, 'utf8')).toBe(written);

    // the stored keys are valid values for the variables, so they can be moved into the environment
    const stored = JSON.parse(written) as { encryption_keys: string; cookie_keys: string[] };
    const moved = loadConfig({ ENCRYPTION_KEYS: stored.encryption_keys, COOKIE_KEYS: stored.cookie_keys.join(',') });
    expect(moved.encryptionKeys).toEqual(first.encryptionKeys);
    expect(moved.cookieKeys).toEqual(first.cookieKeys);
  });

  test('two data directories get different keys', () => {
    const a = resolveSecrets(loadConfig({ DATA_DIR: tempDir() }));
    const b = resolveSecrets(loadConfig({ DATA_DIR: tempDir() }));
    expect(a.encryptionKeys[0]!.key.equals(b.encryptionKeys[0]!.key)).toBe(false);
    expect(a.cookieKeys[0]).not.toBe(b.cookieKeys[0]);
  });

  test('keys from the environment are used as given and nothing is written', () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir, ENCRYPTION_KEYS: fullEnv.ENCRYPTION_KEYS!, COOKIE_KEYS: fullEnv.COOKIE_KEYS! });
    expect(resolveSecrets(config)).toEqual({ encryptionKeys: config.encryptionKeys, cookieKeys: config.cookieKeys });
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  test('a key set in the environment wins over the generated one for that kind only', () => {
    const dataDir = tempDir();
    const generated = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
    const mixed = resolveSecrets(loadConfig({ DATA_DIR: dataDir, ENCRYPTION_KEYS: `env:${key32(9)}` }));
    expect(mixed.encryptionKeys).toEqual([{ id: 'env', key: Buffer.alloc(32, 9) }]);
    expect(mixed.cookieKeys).toEqual(generated.cookieKeys);
  });
});
