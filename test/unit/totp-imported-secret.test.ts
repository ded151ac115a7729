import { describe, expect, test } from '@jest/globals';
import { isUsableTotpSecret, matchTotp, newTotpSecret } from '../../src/factors/totp.js';
import { google2faSecret } from '../helpers/laravel.js';
import { totp } from '../helpers/totp.js';

/**
 * Secrets imported from Econobis are Google2FA's 16 base32 characters (80 bits): their codes are
 * checked like any other (±1 step, no replay), while new secrets stay 160 bits.
 */
describe('an imported 80-bit TOTP secret', () => {
  const secret = google2faSecret();
  const now = 1_800_000_000;
  const step = Math.floor(now / 30);

  test('is usable, and its codes (from the independent RFC 6238 implementation) match, ±1 step', async () => {
    expect(secret).toMatch(/^[A-Z2-7]{16}$/);
    expect(isUsableTotpSecret(secret)).toBe(true);
    for (const offset of [-1, 0, 1]) expect(await matchTotp(secret, totp(secret, offset, now), undefined, now)).toBe(step + offset);
    expect(await matchTotp(secret, totp(secret, 2, now), undefined, now)).toBeUndefined();
  });

  test('a code of an accepted step is refused (replay)', async () => {
    expect(await matchTotp(secret, totp(secret, 0, now), step, now)).toBeUndefined();
    expect(await matchTotp(secret, totp(secret, 1, now), step, now)).toBe(step + 1);
  });

  test.each([
    ['15 characters (75 bits)', 'JBSWY3DPEHPK3PX'],
    ['lowercase', 'jbswy3dpehpk3pxp'],
    ['padding', 'JBSWY3DPEHPK3PXP===='],
    ['digits outside base32', 'JBSWY3DPEHPK3PX1'],
    ['more than 512 bits', 'A'.repeat(104)],
    ['the empty string', ''],
  ])('refuses %s', (_what, candidate) => {
    expect(isUsableTotpSecret(candidate)).toBe(false);
  });

  test('new secrets are still 160 bits', () => {
    expect(newTotpSecret()).toMatch(/^[A-Z2-7]{32}$/);
  });
});
