import { describe, expect, test } from '@jest/globals';
import {
  hashRecoveryCode,
  isImportedRecoveryCode,
  isWellFormedRecoveryCode,
  newRecoveryCode,
  recoveryCodeMatches,
} from '../../src/factors/recovery-code.js';
import { fortifyRecoveryCode } from '../helpers/laravel.js';

/**
 * Recovery codes imported from Econobis (Fortify: 10 letters or digits, a dash, 10 more) are taken
 * in that shape only, without regard to case like our own; our own codes are made and checked as before.
 */
describe('imported (Fortify) recovery codes', () => {
  const code = 'abcdEFGH12-ijklMNOP34';

  test.each([
    ['as Econobis showed it', 'abcdEFGH12-ijklMNOP34'],
    ['in capitals', 'ABCDEFGH12-IJKLMNOP34'],
    ['in lowercase', 'abcdefgh12-ijklmnop34'],
    ['with surrounding whitespace', '  abcdEFGH12-ijklMNOP34\n'],
  ])('typed %s (%j): well formed and matches the stored hash', (_what, typed) => {
    expect(isImportedRecoveryCode(typed)).toBe(true);
    expect(isWellFormedRecoveryCode(typed)).toBe(true);
    expect(recoveryCodeMatches(typed, hashRecoveryCode(code))).toBe(true);
  });

  test('another code, one character off, does not match', () => {
    expect(recoveryCodeMatches('abcdEFGH12-ijklMNOP35', hashRecoveryCode(code))).toBe(false);
    expect(recoveryCodeMatches('bbcdEFGH12-ijklMNOP34', hashRecoveryCode(code))).toBe(false);
  });

  test('what Fortify generates is accepted', () => {
    for (let i = 0; i < 200; i += 1) {
      const generated = fortifyRecoveryCode();
      expect(isWellFormedRecoveryCode(generated)).toBe(true);
      expect(recoveryCodeMatches(generated.toLowerCase(), hashRecoveryCode(generated))).toBe(true);
    }
  });

  test('case-insensitive, it still carries at least 100 bits', () => {
    // 62 symbols folded to 36: each digit has probability 1/62, each letter 2/62
    const perCharacter = -(10 * (1 / 62) * Math.log2(1 / 62) + 26 * (2 / 62) * Math.log2(2 / 62));
    expect(20 * perCharacter).toBeGreaterThanOrEqual(100);
  });

  test.each([
    ['without the dash, with digits outside base32', 'abcdEFGH10ijklMNOP89'],
    ['9 + 11 characters', 'abcdEFGH1-2ijklMNOP34'],
    ['10 + 11 characters', 'abcdEFGH12-ijklMNOP345'],
    ['two dashes', 'abcdEFGH12--ijklMNOP34'],
    ['a space instead of the dash', 'abcdEFGH12 ijklMNOP34'],
    ['an underscore', 'abcdEFGH12_ijklMNOP34'],
    ['an accented letter', 'abcdEFGH1é-ijklMNOP34'],
    ['fullwidth digits', 'abcdEFGH１２-ijklMNOP34'],
    ['a NUL byte', 'abcdEFGH12-ijklMNOP3\u0000'],
    ['two codes', 'abcdEFGH12-ijklMNOP34 abcdEFGH12-ijklMNOP34'],
  ])('refuses %s', (_what, input) => {
    expect(isImportedRecoveryCode(input)).toBe(false);
    expect(isWellFormedRecoveryCode(input)).toBe(false);
  });

  test('new codes are still 20 base32 characters in groups of five', () => {
    for (let i = 0; i < 200; i += 1) {
      const fresh = newRecoveryCode();
      expect(fresh).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
      expect(isImportedRecoveryCode(fresh)).toBe(false);
    }
  });
});
