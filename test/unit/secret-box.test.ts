import { describe, expect, test } from '@jest/globals';
import { SecretBox } from '../../src/crypto/secret-box.js';

const key = (id: string, fill: number) => ({ id, key: Buffer.alloc(32, fill) });

describe('secrets at rest (AES-256-GCM)', () => {
  test('seals and opens; the sealed form names the key and hides the secret', () => {
    const box = new SecretBox([key('k1', 1)]);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp:account-1');
    expect(sealed.startsWith('k1.')).toBe(true);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'totp:account-1').toString()).toBe('JBSWY3DPEHPK3PXP');
    expect(box.seal('same', 'c')).not.toBe(box.seal('same', 'c')); // fresh IV each time
  });

  test('a sealed value cannot be opened in another context (moved to another row)', () => {
    const box = new SecretBox([key('k1', 1)]);
    expect(() => box.open(box.seal('s', 'totp:account-1'), 'totp:account-2')).toThrow();
  });

  test('a tampered value is refused', () => {
    const box = new SecretBox([key('k1', 1)]);
    const [id, iv, tag, ct] = box.seal('secret', 'c').split('.');
    const flipped = Buffer.from(ct!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => box.open([id, iv, tag, flipped.toString('base64url')].join('.'), 'c')).toThrow();
  });

  test('older keys still open; only the first seals; an unknown key id is a clear error', () => {
    const old = new SecretBox([key('old', 1)]);
    const rotated = new SecretBox([key('new', 2), key('old', 1)]);
    const sealedOld = old.seal('s', 'c');
    expect(rotated.open(sealedOld, 'c').toString()).toBe('s');
    expect(rotated.isStale(sealedOld)).toBe(true);
    expect(rotated.isStale(rotated.seal('s', 'c'))).toBe(false);
    expect(() => new SecretBox([key('new', 2)]).open(sealedOld, 'c')).toThrow(/"old"/);
  });
});
