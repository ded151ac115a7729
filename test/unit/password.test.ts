import os from 'node:os';
import { describe, expect, test } from '@jest/globals';
import { hashPassword, needsRehash, PASSWORD_HASHING_CONCURRENCY, passwordHashingLoad, verifyPassword } from '../../src/factors/password.js';

describe('the password factor', () => {
  test('hashes with argon2id at OWASP parameters and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapler')).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  test('two hashes of one password differ (salted)', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  test('no stored hash (unknown account) never verifies, and neither does a foreign format', async () => {
    expect(await verifyPassword(undefined, 'anything')).toBe(false);
    expect(await verifyPassword(null, '')).toBe(false);
    expect(await verifyPassword('$2y$10$abcdefghijklmnopqrstuu1234567890123456789012345678901', 'x')).toBe(false);
    expect(await verifyPassword('$argon2id$garbage', 'x')).toBe(false);
  });

  test('weaker argon2 parameters are marked for replacement', () => {
    expect(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g')).toBe(true);
    expect(needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g')).toBe(true);
  });

  test('non-ASCII passwords round-trip', async () => {
    const hash = await hashPassword('wachtwoord-één-ü-🔑');
    expect(await verifyPassword(hash, 'wachtwoord-één-ü-🔑')).toBe(true);
    expect(await verifyPassword(hash, 'wachtwoord-een-u-🔑')).toBe(false);
  });

  test('runs at most PASSWORD_HASHING_CONCURRENCY (the CPUs less one) argon2 computations at once; the others wait their turn and all answer', async () => {
    const cores = os.availableParallelism();
    expect(PASSWORD_HASHING_CONCURRENCY).toBeGreaterThanOrEqual(1);
    if (cores > 1) expect(PASSWORD_HASHING_CONCURRENCY).toBeLessThan(cores);
    const hash = await hashPassword('juist');
    await verifyPassword(undefined, 'x'); // the unknown-account hash exists from here on
    expect(passwordHashingLoad()).toEqual({ running: 0, waiting: 0 });

    const extra = 3;
    const checks = Array.from({ length: PASSWORD_HASHING_CONCURRENCY + extra }, (_, i) =>
      i % 3 === 0 ? verifyPassword(hash, 'juist') : i % 3 === 1 ? verifyPassword(hash, 'fout') : verifyPassword(undefined, 'juist'),
    );
    const rehash = hashPassword('nieuw');
    await new Promise((resolve) => setImmediate(resolve)); // one argon2 run takes milliseconds, a turn of the loop far less
    expect(passwordHashingLoad()).toEqual({ running: PASSWORD_HASHING_CONCURRENCY, waiting: extra + 1 });

    expect(await Promise.all(checks)).toEqual(checks.map((_, i) => i % 3 === 0));
    expect(await verifyPassword(await rehash, 'nieuw')).toBe(true);
    expect(passwordHashingLoad()).toEqual({ running: 0, waiting: 0 });
  });
});
