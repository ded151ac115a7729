import type { JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { migrate } from '../../src/stores/database.js';
import { SigningKeyStore } from '../../src/stores/signing-keys.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { openTestStores, storeModes, type TestStores } from '../helpers/stores.js';

const K1 = { id: 'k1', key: Buffer.alloc(32, 1) };
const K2 = { id: 'k2', key: Buffer.alloc(32, 2) };
const HOUR = 3600_000;
const PRIVATE_PARTS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

interface Row {
  kid: string;
  private_jwk_sealed: string;
  retire_after: Date | null;
}

describe.each(storeModes)('signing keys in the database (%s)', (mode) => {
  let stores: TestStores;
  const keyStore = (box = new SecretBox([K1])) => new SigningKeyStore(stores.db, box);
  const rows = () => stores.db<Row>('signing_keys').select('kid', 'private_jwk_sealed', 'retire_after');

  beforeAll(async () => {
    stores = await openTestStores(mode);
    await migrate(stores.db);
  });
  afterAll(() => stores.dispose());
  // every test starts from an empty table, as a fresh installation would
  beforeEach(async () => {
    await stores.db('signing_keys').delete();
  });

  test('ensureActiveKey called 5 times concurrently leaves exactly one active key', async () => {
    // separate store objects, as separate starting instances would have
    await Promise.all(Array.from({ length: 5 }, () => keyStore().ensureActiveKey()));
    const all = await rows();
    expect(all).toHaveLength(1);
    expect(all[0]!.retire_after).toBeNull();

    const jwks = await keyStore().load();
    expect(jwks.map((k) => k.kid)).toEqual([all[0]!.kid]);
    expect(jwks[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });

    // with an active key present it is a no-op
    await keyStore().ensureActiveKey();
    expect(await rows()).toHaveLength(1);
  });

  test('the private key is stored sealed: its "d" appears nowhere in the row, not even base64url-decoded', async () => {
    await keyStore().ensureActiveKey();
    const [jwk] = (await keyStore().load()) as [JsonWebKey];
    const [row] = await rows();
    expect(typeof jwk.d).toBe('string');
    expect(jwk.d!.length).toBeGreaterThan(100);

    const sealed = row!.private_jwk_sealed;
    expect(sealed.startsWith('k1.')).toBe(true);
    expect(sealed).not.toContain(jwk.d!);
    expect(sealed).not.toContain('"d"');
    // a merely encoded (not encrypted) JWK would show up once its parts are decoded
    for (const part of sealed.split('.')) {
      const decoded = Buffer.from(part, 'base64url').toString('latin1');
      expect(decoded).not.toContain(jwk.d!);
      expect(decoded).not.toContain('"kty"');
    }
  });

  test('rotate puts the new key first and keeps the old one listed until retire_after', async () => {
    await keyStore().ensureActiveKey();
    const [old] = (await keyStore().load()) as [JsonWebKey];
    const now = new Date();

    const { kid, retired } = await keyStore().rotate(now);

    expect(retired).toEqual([old.kid]);
    expect(kid).not.toBe(old.kid);
    expect((await keyStore().load(now)).map((k) => k.kid)).toEqual([kid, old.kid]);
    expect((await keyStore().load(new Date(now.getTime() + 23 * HOUR))).map((k) => k.kid)).toEqual([kid, old.kid]);
    expect((await keyStore().load(new Date(now.getTime() + 25 * HOUR))).map((k) => k.kid)).toEqual([kid]);

    const active = (await rows()).filter((r) => r.retire_after === null);
    expect(active.map((r) => r.kid)).toEqual([kid]);

    // a second rotation retires the then-active key; the newest is first again
    const later = new Date(now.getTime() + HOUR);
    const third = await keyStore().rotate(later);
    expect(third.retired).toEqual([kid]);
    const listed = (await keyStore().load(later)).map((k) => k.kid);
    expect(listed[0]).toBe(third.kid);
    expect([...listed].sort()).toEqual([third.kid, kid, old.kid].sort());
  });

  test('keys sealed with one box cannot be opened with another key, nor moved to another row', async () => {
    await keyStore().ensureActiveKey();
    await keyStore().rotate();

    // an unknown key id
    await expect(keyStore(new SecretBox([K2])).load()).rejects.toThrow();
    // the same key id with other key material: the GCM tag does not verify
    await expect(keyStore(new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 9) }])).load()).rejects.toThrow();

    // the kid is bound as associated data: swapping the sealed values of two rows is detected
    const [a, b] = await rows();
    await stores.db('signing_keys').where({ kid: a!.kid }).update({ private_jwk_sealed: b!.private_jwk_sealed });
    await stores.db('signing_keys').where({ kid: b!.kid }).update({ private_jwk_sealed: a!.private_jwk_sealed });
    await expect(keyStore().load()).rejects.toThrow();
  });

  test('reencrypt re-seals every key with the new first key; the new key alone then opens them', async () => {
    await keyStore().ensureActiveKey();
    await keyStore().rotate();
    const before = await keyStore().load();
    expect(before).toHaveLength(2);

    const rotatedBox = new SecretBox([K2, K1]);
    expect((await rows()).every((r) => rotatedBox.isStale(r.private_jwk_sealed))).toBe(true);

    expect(await keyStore(rotatedBox).reencrypt()).toBe(2);

    const after = await rows();
    expect(after.every((r) => !rotatedBox.isStale(r.private_jwk_sealed))).toBe(true);
    expect(after.every((r) => r.private_jwk_sealed.startsWith('k2.'))).toBe(true);
    // nothing left to do the second time
    expect(await keyStore(rotatedBox).reencrypt()).toBe(0);

    expect(await keyStore(new SecretBox([K2])).load()).toEqual(before);
    // and the old key alone no longer opens them
    await expect(keyStore(new SecretBox([K1])).load()).rejects.toThrow();
  });
});

describe.each(storeModes)('the served JWKS (%s)', (mode) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(mode);
  });
  afterAll(() => server.close());

  test('GET /jwks lists the active key, public parts only', async () => {
    const response = await fetch(`${server.url}/jwks`);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };

    const [active] = (await server.sleutel.stores.signingKeys.load()) as [JsonWebKey];
    expect(typeof active.d).toBe('string'); // the stored key is private: the JWKS must strip it
    expect(keys.map((k) => k.kid)).toContain(active.kid);
    expect(keys.find((k) => k.kid === active.kid)).toMatchObject({ kty: 'RSA', n: active.n, e: active.e });

    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      for (const part of PRIVATE_PARTS) expect(key).not.toHaveProperty(part);
    }
    expect(JSON.stringify(keys)).not.toContain(active.d!);
  });
});
