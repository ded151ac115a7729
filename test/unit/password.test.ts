import { describe, expect, test } from '@jest/globals';
import { hashPassword, needsRehash, verifyPassword } from '../../src/factors/password.js';

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
});
