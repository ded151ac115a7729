import { describe, expect, test } from '@jest/globals';
import { serialize } from 'php-serialize';
import { laravelDecrypt, LaravelDecryptError, LaravelMacError, parseAppKey } from '../../src/importers/econobis/laravel-decrypt.js';
import { alterPayload, appKeyText, laravelEncrypt, newAppKey } from '../helpers/laravel.js';

/**
 * Laravel's encrypt() payloads (AES-256-CBC, HMAC-SHA256, PHP-serialized string) are opened only
 * with the right key and only when nothing was altered.
 */

// Made once by PHP 8.2 with openssl_encrypt(serialize($v), 'aes-256-cbc', $key, 0, $iv), hash_hmac
// and json_encode as Illuminate\Encryption\Encrypter does, under the key 32 × 0x2a and fixed IVs.
const PHP_KEY = 'base64:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=';
const PHP_VECTORS: [string, string][] = [
  [
    'JBSWY3DPEHPK3PXP',
    'eyJpdiI6IkFRRUJBUUVCQVFFQkFRRUJBUUVCQVE9PSIsInZhbHVlIjoiOStpRU9pRFpRb3RqVHFBM010Y3E1ZlBOeDFxMnJNQ0lXeCtWRkFUTmxsZz0iLCJtYWMiOiI0MjgyYWI3YmZmNDIyNDIxZGJmZmNmOGVkYWU0NzRlNDM0YzBmZTI5MmIzMmE2OGYwNDk3ZDJhMDdkMTI4NWZkIiwidGFnIjoiIn0=',
  ],
  [
    '["abcdEFGH12-ijklMNOP34","ZZZZZzzzzz-0000011111"]',
    'eyJpdiI6IkFnSUNBZ0lDQWdJQ0FnSUNBZ0lDQWc9PSIsInZhbHVlIjoiN2FxOG94alBDYnpoTWx2NmxJZHJGSzdMWkh3T2lmUnJOalJkb0pkRlhta093SXljbDNFenBEVTNGaW5GZURQbFpURkRrejRoNG0waU5mZnptTUtndVE9PSIsIm1hYyI6IjYzZTczM2E5ZWFjYWIwM2Q0ZmUzMTA5OWRmNTRiMDVlMzM4YTQwNjY1ZTdiZWJlNzYyMzhhZjVjZjAxOGI4MjAiLCJ0YWciOiIifQ==',
  ],
  [
    'coöperatie',
    'eyJpdiI6IkF3TURBd01EQXdNREF3TURBd01EQXc9PSIsInZhbHVlIjoiWmd0SVNPdU56NXJCU0orUG5OcVE4RFA0MkpqM3IvYjg4RUFDM1g0MDFaUT0iLCJtYWMiOiJmYTU4ODIyMzI1OWJlMjQ5ZTEwMmJmOGM2Y2E0NjNmYzgyZTlkOTI0MjM5YzdiOGRhMzUyNTllNGM4OTA0NjgyIiwidGFnIjoiIn0=',
  ],
];

describe('laravelDecrypt', () => {
  const key = newAppKey();

  test.each(PHP_VECTORS)('opens what PHP encrypted: %s', (plaintext, encrypted) => {
    expect(laravelDecrypt(encrypted, parseAppKey(PHP_KEY))).toBe(plaintext);
  });

  test.each([
    ['a TOTP secret', 'JBSWY3DPEHPK3PXPJBSWY3DP'],
    ['a JSON list of recovery codes', JSON.stringify(['abcdEFGH12-ijklMNOP34', 'qrstUVWX56-yzABCDEF78'])],
    ['non-ASCII text (serialize counts bytes)', 'Beheerder coöperatie 🔑'],
    ['the empty string', ''],
  ])('opens %s encrypted with a random IV', (_what, plaintext) => {
    const encrypted = laravelEncrypt(plaintext, key);
    expect(laravelDecrypt(encrypted, key)).toBe(plaintext);
    // a fresh IV every time: the same value encrypts differently
    expect(laravelEncrypt(plaintext, key)).not.toBe(encrypted);
  });

  test('opens a payload without the tag field (Laravel before 9)', () => {
    expect(laravelDecrypt(laravelEncrypt('JBSWY3DPEHPK3PXP', key, { withTag: false }), key)).toBe('JBSWY3DPEHPK3PXP');
  });

  test('refuses a bad MAC', () => {
    const encrypted = laravelEncrypt('JBSWY3DPEHPK3PXP', key);
    const flipped = alterPayload(encrypted, (p) => {
      p.mac = p.mac!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    });
    expect(() => laravelDecrypt(flipped, key)).toThrow(LaravelMacError);
    expect(() => laravelDecrypt(alterPayload(encrypted, (p) => (p.mac = '')), key)).toThrow(LaravelMacError);
    expect(() => laravelDecrypt(alterPayload(encrypted, (p) => (p.mac = p.mac!.toUpperCase())), key)).toThrow(LaravelMacError);
  });

  test('refuses a tampered value or IV, even with the MAC left as it was', () => {
    const encrypted = laravelEncrypt('JBSWY3DPEHPK3PXP', key);
    const other = JSON.parse(Buffer.from(laravelEncrypt('KRSXG5CTMVRXEZLU', key), 'base64').toString()) as Record<string, string>;
    expect(() => laravelDecrypt(alterPayload(encrypted, (p) => (p.value = other.value!)), key)).toThrow(LaravelMacError);
    expect(() => laravelDecrypt(alterPayload(encrypted, (p) => (p.iv = other.iv!)), key)).toThrow(LaravelMacError);
    const bytes = Buffer.from(JSON.parse(Buffer.from(encrypted, 'base64').toString()).value as string, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    expect(() => laravelDecrypt(alterPayload(encrypted, (p) => (p.value = bytes.toString('base64'))), key)).toThrow(LaravelMacError);
  });

  test('refuses a value encrypted under another key', () => {
    expect(() => laravelDecrypt(laravelEncrypt('JBSWY3DPEHPK3PXP', newAppKey()), key)).toThrow(LaravelMacError);
    expect(() => laravelDecrypt(PHP_VECTORS[0]![1], key)).toThrow(/MAC is invalid/);
  });

  test.each([
    ['not base64 JSON', 'definitely not a payload'],
    ['JSON without a MAC', Buffer.from(JSON.stringify({ iv: 'AAAA', value: 'AAAA' })).toString('base64')],
    ['JSON with numbers', Buffer.from(JSON.stringify({ iv: 1, value: 2, mac: 3 })).toString('base64')],
    ['a JSON list', Buffer.from('[]').toString('base64')],
    ['the empty string', ''],
  ])('refuses %s', (_what, encrypted) => {
    expect(() => laravelDecrypt(encrypted, key)).toThrow(LaravelDecryptError);
  });

  test('refuses an AEAD payload (a tag present): only AES-256-CBC is taken', () => {
    const encrypted = alterPayload(laravelEncrypt('JBSWY3DPEHPK3PXP', key), (p) => (p.tag = 'AAAAAAAAAAAAAAAAAAAAAA=='));
    expect(() => laravelDecrypt(encrypted, key)).toThrow(/AES-256-CBC/);
  });

  test.each([
    ['a serialized list', serialize(['JBSWY3DPEHPK3PXP'])],
    ['a serialized integer', serialize(42)],
    ['a serialized object (never instantiated)', 'O:8:"stdClass":1:{s:1:"a";s:1:"b";}'],
    ['an unserialized string (encryptString)', 'JBSWY3DPEHPK3PXP'],
    ['a serialized string with bytes after it', `${serialize('JBSWY3DPEHPK3PXP')}junk`],
    ['a serialized string whose length is wrong', 's:3:"JBSWY3DPEHPK3PXP";'],
  ])('refuses %s as the plaintext, though the MAC is right', (_what, serialized) => {
    expect(() => laravelDecrypt(laravelEncrypt('', key, { serialized }), key)).toThrow(/not a PHP-serialized string|not PHP-serialized/);
  });
});

describe('parseAppKey', () => {
  test('takes base64: and 32 bytes, as in .env', () => {
    const key = newAppKey();
    expect(parseAppKey(appKeyText(key)).equals(key)).toBe(true);
  });

  test('takes 32 plain characters (installs from before base64: keys)', () => {
    expect(parseAppKey('0123456789abcdef0123456789abcdef')).toEqual(Buffer.from('0123456789abcdef0123456789abcdef'));
  });

  test.each([
    ['16 bytes', `base64:${Buffer.alloc(16).toString('base64')}`],
    ['base64 without its prefix', newAppKey().toString('base64')],
    ['the empty string', ''],
    ['base64: alone', 'base64:'],
  ])('refuses %s, saying what it must be', (_what, appKey) => {
    expect(() => parseAppKey(appKey)).toThrow(/must be "base64:" followed by 32 bytes/);
  });
});
