import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { hashRecoveryCode, newRecoveryCode } from '../../src/factors/recovery-code.js';
import { newTotpSecret } from '../../src/factors/totp.js';
import { chooseSecondStep } from '../../src/flows/login/choose-second-step.js';
import { FAILURE_WINDOW_SECONDS } from '../../src/policy/lockout.js';
import { withDefaults } from '../../src/policy/tenant-policy.js';
import { AccountStore, type Account } from '../../src/stores/accounts.js';
import { migrate, openDatabase, type Database } from '../../src/stores/database.js';
import { MemoryStore, RedisStore, type KeyValueStore } from '../../src/stores/kv/index.js';
import { AccountLockout } from '../../src/stores/lockouts.js';
import { RemembranceStore } from '../../src/stores/remembrances.js';
import { SecondFactorStore } from '../../src/stores/second-factors.js';
import { TenantStore, type Tenant } from '../../src/stores/tenants.js';
import { createRedisStore, openTestStores, storeModes, type TestStores } from '../helpers/stores.js';

/**
 * The stores behind the second factor (docs/rules.md § Terms and § Security bar): TOTP secrets
 * sealed at rest, the accepted time step recorded atomically (also across instances), the recovery
 * code used once, and the remembrance and lockout state in the shared key-value store.
 */
const K1 = { id: 'k1', key: Buffer.alloc(32, 3) };
const K2 = { id: 'k2', key: Buffer.alloc(32, 4) };
const STEP = 57_000_000; // a time step in 2024

interface TotpRow {
  account_id: string;
  secret_sealed: string;
  last_time_step: string | number;
}

/** A store that cannot be read, as Redis is while it is down. */
class FailingStore extends MemoryStore {
  override async get(): Promise<string | null> {
    throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  }
}

describe('a remembrance that cannot be read means the code is asked (fail closed)', () => {
  const account: Account = {
    id: '00000000-0000-4000-8000-00000000fa11',
    tenantId: '00000000-0000-4000-8000-000000000001',
    pool: 'portal',
    email: 'lid@example.nl',
    emailVerified: true,
    name: 'Lid',
    passwordHash: null,
    roles: [],
    disabled: false,
    twoFactorRequired: false,
    locale: 'nl',
  };
  const tenant: Tenant = { id: account.tenantId, slug: 'zon', name: 'Zon op Zuid', policy: withDefaults({}) };
  const enrolled = { isEnabled: async () => true } as unknown as SecondFactorStore;

  test('isRemembered rejects when the store throws', async () => {
    const failing = new FailingStore();
    await expect(new RemembranceStore(failing).isRemembered(account.id, RemembranceStore.newBrowserToken())).rejects.toThrow();
    await failing.close();
  });

  test('isRemembered rejects when Redis cannot be reached', async () => {
    // Nothing listens on port 1: ioredis fails the command after one retry. (Its disconnect leaves a
    // 2-second timer behind for an already closed socket; this block runs first so that it has
    // expired by the end of the file.)
    const unreachable = new RedisStore('redis://127.0.0.1:1');
    try {
      await expect(new RemembranceStore(unreachable).isRemembered(account.id, RemembranceStore.newBrowserToken())).rejects.toThrow();
    } finally {
      unreachable.redis.disconnect();
    }
  });

  test('the login then asks for the code instead of letting the browser through', async () => {
    const working = new MemoryStore();
    const token = RemembranceStore.newBrowserToken();
    await new RemembranceStore(working).remember(account.id, token, 24);
    const input = { account, tenant, browserToken: token, twoFactorRequested: false, maxAgeGiven: false };

    // the same browser, remembered: through
    expect(await chooseSecondStep({ secondFactors: enrolled, remembrances: new RemembranceStore(working) }, input)).toMatchObject({
      next: 'done',
      reason: 'browser_remembered',
    });
    // the store down: the code
    const failing = new FailingStore();
    expect(await chooseSecondStep({ secondFactors: enrolled, remembrances: new RemembranceStore(failing) }, input)).toMatchObject({
      next: 'challenge',
      reason: 'two_factor_enabled',
    });
    // and a client asking for acr 2fa gets a fresh code even with a remembered browser
    // (docs/rules.md § What a login proves)
    expect(
      await chooseSecondStep({ secondFactors: enrolled, remembrances: new RemembranceStore(working) }, { ...input, twoFactorRequested: true }),
    ).toMatchObject({ next: 'challenge', reason: 'fresh_code_requested' });
    expect(await chooseSecondStep({ secondFactors: enrolled, remembrances: new RemembranceStore(working) }, { ...input, maxAgeGiven: true })).toMatchObject({
      next: 'challenge',
      reason: 'fresh_code_requested',
    });
    await working.close();
    await failing.close();
  });
});

describe.each(storeModes)('SecondFactorStore (%s)', (mode) => {
  let stores: TestStores;
  /** Postgres mode: a second knex instance on the same database, as a second Sleutel instance has. */
  let other: Database | undefined;
  let tenant: Tenant;
  let emails = 0;
  const box = new SecretBox([K1]);
  const store = (db: Database = stores.db, secretBox = box) => new SecondFactorStore(db, secretBox);
  /** One store per "instance": in Postgres mode alternately on the two knex instances. */
  const instances = () => (other ? [store(stores.db), store(other)] : [store(stores.db)]);
  const newAccount = async (): Promise<string> =>
    (await new AccountStore(stores.db).create({ tenantId: tenant.id, pool: 'staff', email: `user${(emails += 1)}@example.nl` })).id;
  const row = (accountId: string) => stores.db<TotpRow>('totp_credentials').where({ account_id: accountId }).first();
  const recoveryRow = (accountId: string) => stores.db('recovery_codes').where({ account_id: accountId }).first();

  beforeAll(async () => {
    stores = await openTestStores(mode);
    await migrate(stores.db);
    if (stores.databaseUrl) other = openDatabase({ url: stores.databaseUrl, poolMax: 5 });
    tenant = await new TenantStore(stores.db).create({ slug: `t-${randomBytes(4).toString('hex')}`, name: 'Zon op Zuid' });
  });
  afterAll(async () => {
    await other?.destroy();
    await stores.dispose();
  });

  test('enable stores the secret sealed; findTotp opens it', async () => {
    const accountId = await newAccount();
    const secret = newTotpSecret();
    const code = newRecoveryCode();
    expect(await store().isEnabled(accountId)).toBe(false);
    expect(await store().findTotp(accountId)).toBeUndefined();

    expect(await store().enable(accountId, secret, STEP, hashRecoveryCode(code))).toBe(true);

    const stored = await row(accountId);
    expect(stored).toBeDefined();
    const sealed = stored!.secret_sealed;
    expect(sealed.startsWith('k1.')).toBe(true);
    expect(sealed).not.toContain(secret);
    expect(sealed.toUpperCase()).not.toContain(secret);
    // not merely encoded: no part of the sealed form decodes to the secret or its bytes
    for (const part of sealed.split('.')) {
      expect(Buffer.from(part, 'base64url').toString('latin1')).not.toContain(secret);
    }
    expect(JSON.stringify(stored)).not.toContain(secret);

    const found = await store().findTotp(accountId);
    expect(found).toMatchObject({ secret, lastTimeStep: STEP });
    expect(found!.confirmedAt).toBeInstanceOf(Date);
    expect(Number.isNaN(found!.confirmedAt.getTime())).toBe(false);
    expect(await store().isEnabled(accountId)).toBe(true);

    // the recovery code is stored as its hash only
    expect(await store().recoveryCodeHash(accountId)).toBe(hashRecoveryCode(code));
    const recovery = await recoveryRow(accountId);
    expect(JSON.stringify(recovery)).not.toContain(code);
    expect(JSON.stringify(recovery)).not.toContain(code.replace(/-/g, ''));
  });

  test('the sealed secret is bound to its account: moved to another account it does not open', async () => {
    const [a, b] = [await newAccount(), await newAccount()];
    await store().enable(a, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    await store().enable(b, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    const sealedA = (await row(a))!.secret_sealed;
    await stores.db('totp_credentials').where({ account_id: b }).update({ secret_sealed: sealedA });
    await expect(store().findTotp(b)).rejects.toThrow();
    // and another key cannot open it at all
    await expect(store(stores.db, new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 9) }])).findTotp(a)).rejects.toThrow();
  });

  test('enable a second time returns false and changes nothing', async () => {
    const accountId = await newAccount();
    const secret = newTotpSecret();
    const hash = hashRecoveryCode(newRecoveryCode());
    expect(await store().enable(accountId, secret, STEP, hash)).toBe(true);
    const before = await row(accountId);
    const recoveryBefore = await recoveryRow(accountId);

    expect(await store().enable(accountId, newTotpSecret(), STEP + 5, hashRecoveryCode(newRecoveryCode()))).toBe(false);

    expect(await row(accountId)).toEqual(before);
    expect(await recoveryRow(accountId)).toEqual(recoveryBefore);
    expect(await store().findTotp(accountId)).toMatchObject({ secret, lastTimeStep: STEP });
    expect(await store().recoveryCodeHash(accountId)).toBe(hash);
  });

  test('enable from several tabs at once: exactly one wins, and its secret and recovery code are stored together', async () => {
    const accountId = await newAccount();
    const attempts = Array.from({ length: 6 }, (_, i) => ({ secret: newTotpSecret(), hash: hashRecoveryCode(newRecoveryCode()), step: STEP + i }));
    const all = instances();
    const results = await Promise.all(attempts.map((a, i) => all[i % all.length]!.enable(accountId, a.secret, a.step, a.hash)));

    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = attempts[results.indexOf(true)]!;
    expect(await store().findTotp(accountId)).toMatchObject({ secret: winner.secret, lastTimeStep: winner.step });
    expect(await store().recoveryCodeHash(accountId)).toBe(winner.hash);
  });

  test('acceptTimeStep accepts only a later step than the last accepted one', async () => {
    const accountId = await newAccount();
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));

    expect(await store().acceptTimeStep(accountId, STEP)).toBe(false); // the confirming code's own step
    expect(await store().acceptTimeStep(accountId, STEP - 1)).toBe(false);
    expect((await store().findTotp(accountId))!.lastTimeStep).toBe(STEP);

    expect(await store().acceptTimeStep(accountId, STEP + 1)).toBe(true);
    expect((await store().findTotp(accountId))!.lastTimeStep).toBe(STEP + 1);
    expect(await store().acceptTimeStep(accountId, STEP + 1)).toBe(false);
    expect(await store().acceptTimeStep(accountId, STEP)).toBe(false);

    expect(await store().acceptTimeStep(accountId, STEP + 3)).toBe(true);
    expect((await store().findTotp(accountId))!.lastTimeStep).toBe(STEP + 3);
  });

  test('time steps beyond 32 bits are stored and compared exactly', async () => {
    const accountId = await newAccount();
    const big = 2 ** 40;
    await store().enable(accountId, newTotpSecret(), big, hashRecoveryCode(newRecoveryCode()));
    expect((await store().findTotp(accountId))!.lastTimeStep).toBe(big);
    expect(await store().acceptTimeStep(accountId, big)).toBe(false);
    expect(await store().acceptTimeStep(accountId, big + 1)).toBe(true);
    expect((await store().findTotp(accountId))!.lastTimeStep).toBe(big + 1);
  });

  test('acceptTimeStep for an account without 2FA is false and creates nothing', async () => {
    const accountId = await newAccount();
    expect(await store().acceptTimeStep(accountId, STEP)).toBe(false);
    expect(await store().isEnabled(accountId)).toBe(false);
  });

  test('20 concurrent acceptTimeStep calls with the same step (over two instances in Postgres mode): exactly one is true', async () => {
    const accountId = await newAccount();
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    const all = instances();
    if (mode === 'postgres+redis') expect(all).toHaveLength(2);

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => all[i % all.length]!.acceptTimeStep(accountId, STEP + 1)));

    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store().findTotp(accountId))!.lastTimeStep).toBe(STEP + 1);
    // and the step stays used for both instances
    for (const s of all) expect(await s.acceptTimeStep(accountId, STEP + 1)).toBe(false);
  });

  test('concurrent calls with different steps: the last accepted step is the highest, never lowered', async () => {
    const accountId = await newAccount();
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    const all = instances();
    const steps = [STEP + 2, STEP + 1, STEP + 3, STEP + 1, STEP + 2, STEP + 3, STEP - 1, STEP];

    const results = await Promise.all(steps.map((s, i) => all[i % all.length]!.acceptTimeStep(accountId, s)));

    expect((await store().findTotp(accountId))!.lastTimeStep).toBe(STEP + 3);
    // each step is accepted at most once; the stale ones never
    for (const s of new Set(steps)) expect(results.filter((r, i) => r && steps[i] === s).length).toBeLessThanOrEqual(1);
    expect(results[steps.indexOf(STEP - 1)]).toBe(false);
    expect(results[steps.indexOf(STEP)]).toBe(false);
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(1);
  });

  // knex-pglite reports no row count for deletes, so these must not rely on one (they once did:
  // with `npm start` a correct recovery code was refused and destroyed in the same step).
  test('a wrong recovery code, or another account\'s, is refused and does not use the code up', async () => {
    const [accountId, otherAccount] = [await newAccount(), await newAccount()];
    const [code, otherCode] = [newRecoveryCode(), newRecoveryCode()];
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(code));
    await store().enable(otherAccount, newTotpSecret(), STEP, hashRecoveryCode(otherCode));

    expect(await store().consumeRecoveryCode(accountId, hashRecoveryCode(newRecoveryCode()))).toBe(false);
    expect(await store().consumeRecoveryCode(accountId, hashRecoveryCode(otherCode))).toBe(false);
    expect(await store().recoveryCodeHash(accountId)).toBe(hashRecoveryCode(code));
    expect(await store().recoveryCodeHash(otherAccount)).toBe(hashRecoveryCode(otherCode));
  });

  test('using the right recovery code removes it, and only it (the row is single use)', async () => {
    const [accountId, otherAccount] = [await newAccount(), await newAccount()];
    const [code, otherCode] = [newRecoveryCode(), newRecoveryCode()];
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(code));
    await store().enable(otherAccount, newTotpSecret(), STEP, hashRecoveryCode(otherCode));

    await store().consumeRecoveryCode(accountId, hashRecoveryCode(code));

    expect(await store().recoveryCodeHash(accountId)).toBeUndefined();
    expect(await recoveryRow(accountId)).toBeUndefined();
    expect(await store().recoveryCodeHash(otherAccount)).toBe(hashRecoveryCode(otherCode));
  });

  test('consumeRecoveryCode is true for the right code once, then false', async () => {
    const accountId = await newAccount();
    const code = newRecoveryCode();
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(code));

    expect(await store().consumeRecoveryCode(accountId, hashRecoveryCode(code.toLowerCase()))).toBe(true);
    expect(await store().consumeRecoveryCode(accountId, hashRecoveryCode(code))).toBe(false);
    expect(await store().recoveryCodeHash(accountId)).toBeUndefined();
  });

  test('10 concurrent consumeRecoveryCode calls (over two instances in Postgres mode): exactly one is true', async () => {
    const accountId = await newAccount();
    const hash = hashRecoveryCode(newRecoveryCode());
    await store().enable(accountId, newTotpSecret(), STEP, hash);
    const all = instances();

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => all[i % all.length]!.consumeRecoveryCode(accountId, hash)));

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store().recoveryCodeHash(accountId)).toBeUndefined();
  });

  test('10 concurrent uses of the recovery code never accept more than one, and leave none', async () => {
    const accountId = await newAccount();
    const hash = hashRecoveryCode(newRecoveryCode());
    await store().enable(accountId, newTotpSecret(), STEP, hash);
    const all = instances();

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => all[i % all.length]!.consumeRecoveryCode(accountId, hash)));

    expect(results.filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(await store().recoveryCodeHash(accountId)).toBeUndefined();
  });

  test('remove deletes the secret and the recovery code, of that account only; enabling again works', async () => {
    const [accountId, bystander] = [await newAccount(), await newAccount()];
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    const bystanderHash = hashRecoveryCode(newRecoveryCode());
    await store().enable(bystander, newTotpSecret(), STEP, bystanderHash);

    await store().remove(accountId);

    expect(await row(accountId)).toBeUndefined();
    expect(await recoveryRow(accountId)).toBeUndefined();
    expect(await store().findTotp(accountId)).toBeUndefined();
    expect(await store().recoveryCodeHash(accountId)).toBeUndefined();
    expect(await store().isEnabled(accountId)).toBe(false);

    expect(await store().isEnabled(bystander)).toBe(true);
    expect(await store().recoveryCodeHash(bystander)).toBe(bystanderHash);

    // a fresh enrollment after a reset starts over, with its own step
    const secret = newTotpSecret();
    expect(await store().enable(accountId, secret, STEP - 10, hashRecoveryCode(newRecoveryCode()))).toBe(true);
    expect(await store().findTotp(accountId)).toMatchObject({ secret, lastTimeStep: STEP - 10 });
  });

  test('remove says whether there was a second factor to remove', async () => {
    const accountId = await newAccount();
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    expect(await store().remove(accountId)).toBe(true);
    expect(await store().remove(accountId)).toBe(false);
  });

  test('remove also clears a recovery code left without a secret', async () => {
    const accountId = await newAccount();
    await stores.db('recovery_codes').insert({ account_id: accountId, code_hash: hashRecoveryCode(newRecoveryCode()) });
    expect(await store().remove(accountId)).toBe(false); // there was no TOTP
    expect(await recoveryRow(accountId)).toBeUndefined();
  });

  test('enabledAmong lists exactly the accounts with 2FA', async () => {
    const [a, b, c] = [await newAccount(), await newAccount(), await newAccount()];
    await store().enable(a, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    await store().enable(c, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    expect(await store().enabledAmong([a, b, c])).toEqual(new Set([a, c]));
    expect(await store().enabledAmong([b])).toEqual(new Set());
    expect(await store().enabledAmong([])).toEqual(new Set());
  });

  test('deleting the account deletes its second factor', async () => {
    const accountId = await newAccount();
    await store().enable(accountId, newTotpSecret(), STEP, hashRecoveryCode(newRecoveryCode()));
    await stores.db('accounts').where({ id: accountId }).delete();
    expect(await row(accountId)).toBeUndefined();
    expect(await recoveryRow(accountId)).toBeUndefined();
  });

  test('reencrypt moves every secret to the new first key; the new key alone then opens them', async () => {
    // from an empty table (earlier tests left rows, one deliberately unopenable)
    await stores.db('totp_credentials').delete();
    const secrets = new Map<string, string>();
    for (let i = 0; i < 3; i += 1) {
      const accountId = await newAccount();
      const secret = newTotpSecret();
      await store().enable(accountId, secret, STEP + i, hashRecoveryCode(newRecoveryCode()));
      secrets.set(accountId, secret);
    }
    expect(await store().reencrypt()).toBe(0); // nothing is stale under the key that sealed it

    const rotated = new SecretBox([K2, K1]);
    expect(await store(stores.db, rotated).reencrypt()).toBe(3);

    const after = await stores.db<TotpRow>('totp_credentials').select('account_id', 'secret_sealed', 'last_time_step');
    expect(after).toHaveLength(3);
    expect(after.every((r) => r.secret_sealed.startsWith('k2.'))).toBe(true);
    expect(await store(stores.db, rotated).reencrypt()).toBe(0);

    const k2Only = store(stores.db, new SecretBox([K2]));
    for (const [accountId, secret] of secrets) {
      expect((await k2Only.findTotp(accountId))!.secret).toBe(secret);
      await expect(store(stores.db, new SecretBox([K1])).findTotp(accountId)).rejects.toThrow();
    }
    // the time steps are untouched
    expect(after.map((r) => Number(r.last_time_step)).sort()).toEqual([STEP, STEP + 1, STEP + 2]);
  });
});

/* ------------------------------------------------------------------------------------------------ */

interface KvSubject {
  kv: KeyValueStore;
  /** the same data through another connection (Redis), as another instance sees it */
  peer: KeyValueStore;
  /** MemoryStore only: move its clock */
  advance?(seconds: number): void;
  dispose(): Promise<void>;
}

function memorySubject(): KvSubject {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const kv = new MemoryStore(() => now);
  return { kv, peer: kv, advance: (s) => (now += s * 1000), dispose: () => kv.close() };
}

function redisSubject(): KvSubject {
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  const kv = createRedisStore(prefix);
  const peer = createRedisStore(prefix);
  return {
    kv,
    peer,
    dispose: async () => {
      await kv.cleanup();
      await kv.close();
      await peer.close();
    },
  };
}

const kvSubjects: [string, () => KvSubject][] = [['MemoryStore', memorySubject]];
if (process.env.REDIS_URL) kvSubjects.push(['RedisStore', redisSubject]);

let accounts = 0;
const accountId = () => `00000000-0000-4000-8000-${String((accounts += 1)).padStart(12, '0')}`;
const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

describe.each(kvSubjects)('RemembranceStore (%s)', (name, make) => {
  // Redis' clock cannot be moved: expiry is checked on MemoryStore, Redis' TTLs are checked directly
  const withClock = name === 'MemoryStore' ? test : test.skip;
  let subject: KvSubject;
  let remembrances: RemembranceStore;

  beforeAll(() => {
    subject = make();
    remembrances = new RemembranceStore(subject.kv);
  });
  afterAll(() => subject.dispose());

  test('browser tokens are 256-bit base64url and differ each time', () => {
    const tokens = Array.from({ length: 50 }, () => RemembranceStore.newBrowserToken());
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
    expect(new Set(tokens).size).toBe(50);
  });

  test('remember keeps {account}:{sha256(token)} for the hours given, not the token itself', async () => {
    const account = accountId();
    const token = RemembranceStore.newBrowserToken();
    await remembrances.remember(account, token, 24);

    expect(await remembrances.isRemembered(account, token)).toBe(true);
    const ttl = await subject.kv.ttl(`remember:{${account}}:${tokenHash(token)}`);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);
    expect(ttl).toBeGreaterThan(24 * 3600 - 120);
    expect(await remembrances.secondsLeft(account, token)).toBe(ttl);
    // the raw token is not a key (a leaked store dump does not give usable cookies)
    expect(await subject.kv.get(`remember:{${account}}:${token}`)).toBeNull();
  });

  test.each([
    [1, 3600],
    [0.5, 1800],
    [168, 168 * 3600],
  ])('remember for %d hours sets a TTL of %d s', async (hours, seconds) => {
    const account = accountId();
    const token = RemembranceStore.newBrowserToken();
    await remembrances.remember(account, token, hours);
    const ttl = await subject.kv.ttl(`remember:{${account}}:${tokenHash(token)}`);
    expect(ttl).toBeLessThanOrEqual(seconds);
    expect(ttl).toBeGreaterThan(seconds - 120);
  });

  test.each([0, -1])('remember for %d hours remembers nothing (the code is asked at every login)', async (hours) => {
    const account = accountId();
    const token = RemembranceStore.newBrowserToken();
    await remembrances.remember(account, token, hours);
    expect(await remembrances.isRemembered(account, token)).toBe(false);
    expect(await remembrances.secondsLeft(account, token)).toBe(-2);
    expect(await subject.kv.members(`remember:{${account}}:index`)).toEqual([]);
  });

  test('per account AND browser: another account, another token, or no token is not remembered', async () => {
    const [account, otherAccount] = [accountId(), accountId()];
    const [token, otherToken] = [RemembranceStore.newBrowserToken(), RemembranceStore.newBrowserToken()];
    await remembrances.remember(account, token, 24);

    expect(await remembrances.isRemembered(account, token)).toBe(true);
    expect(await remembrances.isRemembered(otherAccount, token)).toBe(false);
    expect(await remembrances.isRemembered(account, otherToken)).toBe(false);
    expect(await remembrances.isRemembered(account, undefined)).toBe(false);
    expect(await remembrances.isRemembered(account, '')).toBe(false);
  });

  test('forget forgets one browser; forgetAll every browser of the account, and no other account', async () => {
    const [account, otherAccount] = [accountId(), accountId()];
    const [phone, laptop, tablet] = [RemembranceStore.newBrowserToken(), RemembranceStore.newBrowserToken(), RemembranceStore.newBrowserToken()];
    await remembrances.remember(account, phone, 24);
    await remembrances.remember(account, laptop, 24);
    await remembrances.remember(account, tablet, 1);
    await remembrances.remember(otherAccount, phone, 24);

    await remembrances.forget(account, phone);
    expect(await remembrances.isRemembered(account, phone)).toBe(false);
    expect(await remembrances.isRemembered(account, laptop)).toBe(true);
    expect(await remembrances.isRemembered(otherAccount, phone)).toBe(true);

    await remembrances.forgetAll(account);
    expect(await remembrances.isRemembered(account, laptop)).toBe(false);
    expect(await remembrances.isRemembered(account, tablet)).toBe(false);
    expect(await subject.kv.ttl(`remember:{${account}}:${tokenHash(laptop)}`)).toBe(-2);
    expect(await subject.kv.members(`remember:{${account}}:index`)).toEqual([]);
    expect(await remembrances.isRemembered(otherAccount, phone)).toBe(true);

    // forgetting an account with nothing remembered is harmless
    await remembrances.forgetAll(accountId());
    await remembrances.forget(accountId(), phone);
  });

  test('forgetAll from another instance forgets what this one remembered', async () => {
    const account = accountId();
    const token = RemembranceStore.newBrowserToken();
    await remembrances.remember(account, token, 24);
    await new RemembranceStore(subject.peer).forgetAll(account);
    expect(await remembrances.isRemembered(account, token)).toBe(false);
  });

  test.each([
    ['too short', 'abc'],
    ['42 characters', 'a'.repeat(42)],
    ['44 characters', 'a'.repeat(44)],
    ['standard base64 characters', `${'a'.repeat(41)}+/`],
    ['padding', `${'a'.repeat(42)}=`],
    ['a NUL byte', `${'a'.repeat(42)}\u0000`],
    ['a colon (key separator)', `${'a'.repeat(42)}:`],
    ['non-ASCII', `${'a'.repeat(42)}é`],
  ])('isRemembered refuses a malformed token (%s), even one that was remembered', async (_label, token) => {
    const account = accountId();
    await remembrances.remember(account, token, 24); // remember() itself does not validate
    expect(await remembrances.isRemembered(account, token)).toBe(false);
  });

  test('isRemembered does not extend the time (counted from the code, not from activity)', async () => {
    const account = accountId();
    const token = RemembranceStore.newBrowserToken();
    await remembrances.remember(account, token, 1);
    const key = `remember:{${account}}:${tokenHash(token)}`;
    const first = await subject.kv.ttl(key);
    for (let i = 0; i < 5; i += 1) expect(await remembrances.isRemembered(account, token)).toBe(true);
    expect(await subject.kv.ttl(key)).toBeLessThanOrEqual(first);
  });

  withClock('after the hours have passed the browser is no longer remembered', async () => {
    const account = accountId();
    const token = RemembranceStore.newBrowserToken();
    await remembrances.remember(account, token, 24);
    subject.advance!(23 * 3600);
    expect(await remembrances.isRemembered(account, token)).toBe(true);
    expect(await remembrances.secondsLeft(account, token)).toBeLessThanOrEqual(3600);
    subject.advance!(3600);
    expect(await remembrances.isRemembered(account, token)).toBe(false);
    expect(await remembrances.secondsLeft(account, token)).toBe(-2);
  });
});

describe.each(kvSubjects)('AccountLockout (%s)', (name, make) => {
  const withClock = name === 'MemoryStore' ? test : test.skip;
  let subject: KvSubject;
  let lockout: AccountLockout;

  beforeAll(() => {
    subject = make();
    lockout = new AccountLockout(subject.kv);
  });
  afterAll(() => subject.dispose());

  test('failures 1–4 lock nothing; the 5th locks for about 15 minutes', async () => {
    const account = accountId();
    for (let n = 1; n <= 4; n += 1) {
      expect(await lockout.registerFailure(account)).toEqual({ failures: n, lockedForSeconds: 0 });
      expect(await lockout.lockedFor(account)).toBe(0);
    }
    expect(await lockout.registerFailure(account)).toEqual({ failures: 5, lockedForSeconds: 900 });
    const locked = await lockout.lockedFor(account);
    expect(locked).toBeLessThanOrEqual(900);
    expect(locked).toBeGreaterThan(900 - 120);
  });

  test('the 10th failure locks for an hour; failures 6–9 do not add a lock of their own', async () => {
    const account = accountId();
    const results = [];
    for (let n = 1; n <= 10; n += 1) results.push(await lockout.registerFailure(account));
    expect(results.map((r) => r.lockedForSeconds)).toEqual([0, 0, 0, 0, 900, 0, 0, 0, 0, 3600]);
    expect(await lockout.lockedFor(account)).toBeGreaterThan(900);
  });

  test('clear() unlocks and starts counting again from 1', async () => {
    const account = accountId();
    for (let n = 1; n <= 5; n += 1) await lockout.registerFailure(account);
    expect(await lockout.lockedFor(account)).toBeGreaterThan(0);

    await lockout.clear(account);

    expect(await lockout.lockedFor(account)).toBe(0);
    expect(await lockout.registerFailure(account)).toEqual({ failures: 1, lockedForSeconds: 0 });
  });

  test('failures of one account do not count for another', async () => {
    const [account, other] = [accountId(), accountId()];
    for (let n = 1; n <= 5; n += 1) await lockout.registerFailure(account);
    expect(await lockout.lockedFor(other)).toBe(0);
    expect(await lockout.registerFailure(other)).toEqual({ failures: 1, lockedForSeconds: 0 });
  });

  test('two instances count together: 3 failures here and 2 there lock the account for both', async () => {
    const here = lockout;
    const there = new AccountLockout(subject.peer);
    const account = accountId();
    for (let n = 1; n <= 3; n += 1) await here.registerFailure(account);
    expect(await there.registerFailure(account)).toEqual({ failures: 4, lockedForSeconds: 0 });
    expect(await there.registerFailure(account)).toEqual({ failures: 5, lockedForSeconds: 900 });
    expect(await here.lockedFor(account)).toBeGreaterThan(0);
    expect(await there.lockedFor(account)).toBeGreaterThan(0);

    // an unblock on one instance unlocks for the other
    await here.clear(account);
    expect(await there.lockedFor(account)).toBe(0);
  });

  test('10 concurrent failures over two instances are each counted once (1..10, one 15-minute and one 1-hour lock)', async () => {
    const instances = [lockout, new AccountLockout(subject.peer)];
    const account = accountId();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => instances[i % 2]!.registerFailure(account)));
    expect(results.map((r) => r.failures).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(results.filter((r) => r.lockedForSeconds === 900)).toEqual([{ failures: 5, lockedForSeconds: 900 }]);
    expect(results.filter((r) => r.lockedForSeconds === 3600)).toEqual([{ failures: 10, lockedForSeconds: 3600 }]);
  });

  withClock('a lock ends by itself, and the count is forgotten after the window', async () => {
    const account = accountId();
    for (let n = 1; n <= 5; n += 1) await lockout.registerFailure(account);
    subject.advance!(899);
    expect(await lockout.lockedFor(account)).toBeGreaterThan(0);
    subject.advance!(2);
    expect(await lockout.lockedFor(account)).toBe(0);
    // the count goes on within the window: the 10th failure still locks for an hour
    for (let n = 6; n <= 9; n += 1) expect((await lockout.registerFailure(account)).lockedForSeconds).toBe(0);
    expect(await lockout.registerFailure(account)).toEqual({ failures: 10, lockedForSeconds: 3600 });

    subject.advance!(FAILURE_WINDOW_SECONDS);
    expect(await lockout.lockedFor(account)).toBe(0);
    expect(await lockout.registerFailure(account)).toEqual({ failures: 1, lockedForSeconds: 0 });
  });
});
