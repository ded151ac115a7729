import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AccountStore } from '../../src/stores/accounts.js';
import { migrate, openDatabase, type Database } from '../../src/stores/database.js';
import { PasskeyStore, type NewPasskey } from '../../src/stores/passkeys.js';
import { TenantStore, type Tenant } from '../../src/stores/tenants.js';
import { openTestStores, storeModes, type TestStores } from '../helpers/stores.js';

/**
 * The passkey credentials table and its store (issue 21), on PGlite and on Postgres: the same
 * migration, bytes and bigint read back the same, a credential id belongs to one account, and the
 * counter is recorded with a conditional update that refuses a counter that does not go up — also
 * when two instances race.
 */
describe.each(storeModes)('PasskeyStore (%s)', (mode) => {
  let stores: TestStores;
  /** Postgres mode: a second knex instance on the same database, as a second Sleutel instance has. */
  let other: Database | undefined;
  let tenant: Tenant;
  let emails = 0;
  const store = (db: Database = stores.db) => new PasskeyStore(db);
  const newAccount = async (): Promise<string> =>
    (await new AccountStore(stores.db).create({ tenantId: tenant.id, pool: 'portal', email: `lid${(emails += 1)}@example.nl` })).id;
  const passkey = (accountId: string, over: Partial<NewPasskey> = {}): NewPasskey => ({
    accountId,
    credentialId: randomBytes(32).toString('base64url'),
    publicKey: new Uint8Array(randomBytes(77)),
    counter: 0,
    transports: ['usb', 'nfc'],
    deviceType: 'singleDevice',
    backedUp: false,
    name: 'YubiKey Anna',
    ...over,
  });

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

  test('add, list, find and count read back exactly what was stored', async () => {
    const accountId = await newAccount();
    const input = passkey(accountId, { counter: 4_000_000_000, deviceType: 'multiDevice', backedUp: true, name: '🔑 iPhone Anna' });
    const added = await store().add(input);
    expect(added).toMatchObject({ ...input, lastUsedAt: null });
    expect(added!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(added!.createdAt).toBeInstanceOf(Date);

    const found = await store().findByCredentialId(input.credentialId);
    expect(found).toEqual(added);
    // the key as bytes, the same on pg (Buffer) and PGlite (Uint8Array)
    expect(found!.publicKey).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(found!.publicKey).equals(Buffer.from(input.publicKey))).toBe(true);
    expect(found!.counter).toBe(4_000_000_000);

    const second = await store().add(passkey(accountId, { name: 'Laptop' }));
    expect((await store().listByAccount(accountId)).map((p) => p.name)).toEqual(['🔑 iPhone Anna', 'Laptop']);
    expect(await store().countByAccount(accountId)).toBe(2);
    expect(await store().countByAccount(await newAccount())).toBe(0);
    expect(second!.id).not.toBe(added!.id);
  });

  test('a credential id is registered once, across accounts; nothing is overwritten', async () => {
    const anna = await newAccount();
    const bert = await newAccount();
    const first = passkey(anna);
    expect(await store().add(first)).toBeDefined();
    expect(await store().add({ ...passkey(bert), credentialId: first.credentialId })).toBeUndefined();
    expect(await store().add({ ...passkey(anna, { name: 'again' }), credentialId: first.credentialId })).toBeUndefined();
    expect((await store().findByCredentialId(first.credentialId))!.accountId).toBe(anna);
    expect(await store().countByAccount(bert)).toBe(0);
  });

  test('the database refuses what the columns do not allow', async () => {
    const accountId = await newAccount();
    await expect(store().add(passkey(accountId, { name: 'x'.repeat(101) }))).rejects.toThrow();
    await expect(store().add(passkey(accountId, { deviceType: 'otherDevice' as never }))).rejects.toThrow();
    expect(await store().countByAccount(accountId)).toBe(0);
  });

  test('rename and remove act only on the account’s own passkey', async () => {
    const anna = await newAccount();
    const bert = await newAccount();
    const hers = (await store().add(passkey(anna)))!;
    expect(await store().rename(bert, hers.id, 'stolen')).toBe(false);
    expect(await store().remove(bert, hers.id)).toBe(false);
    expect(await store().rename(anna, hers.id, 'Sleutelbos')).toBe(true);
    expect((await store().findByCredentialId(hers.credentialId))!.name).toBe('Sleutelbos');
    expect(await store().remove(anna, hers.id)).toBe(true);
    expect(await store().remove(anna, hers.id)).toBe(false);
    expect(await store().findByCredentialId(hers.credentialId)).toBeUndefined();
  });

  test('removeAll removes every passkey of one account, and deleting the account removes them too', async () => {
    const anna = await newAccount();
    const bert = await newAccount();
    await store().add(passkey(anna));
    await store().add(passkey(anna));
    await store().add(passkey(bert));
    expect(await store().removeAll(anna)).toBe(2);
    expect(await store().removeAll(anna)).toBe(0);
    expect(await store().countByAccount(bert)).toBe(1);
    await stores.db('accounts').where({ id: bert }).delete();
    expect(await store().countByAccount(bert)).toBe(0);
  });

  test('recordUse: the counter must go up; lower or equal is refused and changes nothing', async () => {
    const accountId = await newAccount();
    const p = (await store().add(passkey(accountId, { counter: 5 })))!;
    expect(await store().recordUse(accountId, p.credentialId, 4, false)).toBe('not_increased');
    expect(await store().recordUse(accountId, p.credentialId, 5, false)).toBe('not_increased');
    expect(await store().recordUse(accountId, p.credentialId, 0, false)).toBe('not_increased');
    const unchanged = await store().findByCredentialId(p.credentialId);
    expect(unchanged).toMatchObject({ counter: 5, lastUsedAt: null });

    expect(await store().recordUse(accountId, p.credentialId, 6, true)).toBe('accepted');
    const used = (await store().findByCredentialId(p.credentialId))!;
    expect(used).toMatchObject({ counter: 6, backedUp: true });
    expect(used.lastUsedAt).toBeInstanceOf(Date);
    expect(await store().recordUse(accountId, p.credentialId, 6, true)).toBe('not_increased');
    // another account cannot move it; an unknown one is missing
    expect(await store().recordUse(await newAccount(), p.credentialId, 100, false)).toBe('missing');
    expect(await store().recordUse(accountId, 'AAAA', 100, false)).toBe('missing');
    expect((await store().findByCredentialId(p.credentialId))!.counter).toBe(6);
  });

  test('recordUse: an authenticator without a counter (both 0) is accepted every time; once counting, 0 is refused', async () => {
    const accountId = await newAccount();
    const p = (await store().add(passkey(accountId, { counter: 0, deviceType: 'multiDevice', backedUp: true })))!;
    expect(await store().recordUse(accountId, p.credentialId, 0, true)).toBe('accepted');
    expect(await store().recordUse(accountId, p.credentialId, 0, true)).toBe('accepted');
    expect(await store().recordUse(accountId, p.credentialId, 1, true)).toBe('accepted');
    expect(await store().recordUse(accountId, p.credentialId, 0, true)).toBe('not_increased');
  });

  test('recordUse: of many racing uses of one counter value, on two instances, exactly one is accepted', async () => {
    const accountId = await newAccount();
    const p = (await store().add(passkey(accountId, { counter: 10 })))!;
    const instances = other ? [store(stores.db), store(other)] : [store()];
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => instances[i % instances.length]!.recordUse(accountId, p.credentialId, 11, false)));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'not_increased')).toHaveLength(7);
    expect((await store().findByCredentialId(p.credentialId))!.counter).toBe(11);
  });
});
