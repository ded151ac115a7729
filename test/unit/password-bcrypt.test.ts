import { describe, expect, test } from '@jest/globals';
import { hashPassword, isBcryptHash, needsRehash, verifyPassword } from '../../src/factors/password.js';
import { laravelBcrypt } from '../helpers/laravel.js';

/**
 * Passwords imported from Econobis keep their bcrypt hash (Laravel's `$2y$`, cost 10) until the first
 * successful login replaces it with argon2id; argon2id stays what Sleutel itself writes.
 */

// made by PHP 8.2: password_hash('wachtwoord-uit-econobis', PASSWORD_BCRYPT, ['cost' => 10])
const PHP_HASH = '$2y$10$uDvA.4lGWX08sHRAZ9TYfOhkaE.R7fDGDPI9VcCUUS/NErSjIm1ni';

describe('bcrypt hashes from Econobis', () => {
  test('a hash PHP made verifies with the right password only, and is marked for replacement', async () => {
    expect(isBcryptHash(PHP_HASH)).toBe(true);
    expect(await verifyPassword(PHP_HASH, 'wachtwoord-uit-econobis')).toBe(true);
    expect(await verifyPassword(PHP_HASH, 'wachtwoord-uit-econobis ')).toBe(false);
    expect(await verifyPassword(PHP_HASH, 'Wachtwoord-uit-econobis')).toBe(false);
    expect(needsRehash(PHP_HASH)).toBe(true);
  });

  test('$2y$, $2b$ and $2a$ are the same hash', async () => {
    const hash = laravelBcrypt('correct horse battery staple');
    expect(hash).toMatch(/^\$2y\$10\$/);
    for (const marker of ['$2y$', '$2b$', '$2a$']) {
      const variant = marker + hash.slice(4);
      expect(await verifyPassword(variant, 'correct horse battery staple')).toBe(true);
      expect(await verifyPassword(variant, 'correct horse battery stapler')).toBe(false);
    }
  });

  test('non-ASCII passwords verify', async () => {
    const hash = laravelBcrypt('wachtwoord-één-ü-🔑');
    expect(await verifyPassword(hash, 'wachtwoord-één-ü-🔑')).toBe(true);
    expect(await verifyPassword(hash, 'wachtwoord-een-u-🔑')).toBe(false);
  });

  test('a cost above 12 is not a hash Sleutel verifies: refused at once, not computed', async () => {
    const slow = `$2y$31$${PHP_HASH.slice(7)}`;
    expect(isBcryptHash(slow)).toBe(false);
    expect(isBcryptHash(`$2y$13$${PHP_HASH.slice(7)}`)).toBe(false);
    expect(isBcryptHash(`$2y$12$${PHP_HASH.slice(7)}`)).toBe(true);
    const started = Date.now();
    expect(await verifyPassword(slow, 'wachtwoord-uit-econobis')).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test.each([
    ['too short', '$2y$10$uDvA.4lGWX08sHRAZ9TYfO'],
    ['a character outside bcrypt base64', `${PHP_HASH.slice(0, -1)}!`],
    ['another scheme', '$1$abcdefgh$abcdefghijklmnopqrstuv'],
    ['the empty string', ''],
  ])('%s is not a bcrypt hash and never verifies', async (_what, hash) => {
    expect(isBcryptHash(hash)).toBe(false);
    expect(await verifyPassword(hash, 'wachtwoord-uit-econobis')).toBe(false);
  });

  test('argon2id stays the hash Sleutel writes, and is not marked for replacement', async () => {
    const hash = await hashPassword('wachtwoord-uit-econobis');
    expect(isBcryptHash(hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
    expect(await verifyPassword(hash, 'wachtwoord-uit-econobis')).toBe(true);
  });
});
