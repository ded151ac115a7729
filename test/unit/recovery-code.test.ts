import { createHash } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import {
  hashRecoveryCode,
  isWellFormedRecoveryCode,
  newRecoveryCode,
  normaliseRecoveryCode,
  recoveryCodeMatches,
} from '../../src/factors/recovery-code.js';

/**
 * The recovery code (docs/rules.md, rule 8 and § Security bar): ≥ 100 bits, shown once, stored
 * only as a hash, single use (the store's job), compared in constant time; typed back in any case,
 * with or without dashes.
 */
const FORMAT = /^[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

describe('newRecoveryCode', () => {
  const codes = Array.from({ length: 1000 }, () => newRecoveryCode());

  test('is 4 groups of 5 base32 characters: 20 × 5 bits = 100 bits', () => {
    for (const code of codes) expect(code).toMatch(FORMAT);
    expect(codes[0]!.replace(/-/g, '')).toHaveLength(20);
    expect(20 * Math.log2(ALPHABET.length)).toBeGreaterThanOrEqual(100);
  });

  test('1000 codes are all different', () => {
    expect(new Set(codes).size).toBe(1000);
    // nor equal after normalisation (a code must not collide with another one typed differently)
    expect(new Set(codes.map(normaliseRecoveryCode)).size).toBe(1000);
  });

  test('every one of the 32 symbols occurs at every one of the 20 positions (the full 5 bits are used)', () => {
    // With uniform symbols, a given symbol is missing at a given position in 1000 codes with
    // probability (31/32)^1000 ≈ 2·10⁻¹⁴; a generator using fewer bits per character fails at once.
    const compact = codes.map((c) => c.replace(/-/g, ''));
    for (let position = 0; position < 20; position += 1) {
      const seen = new Set(compact.map((c) => c[position]));
      expect({ position, symbols: seen.size }).toEqual({ position, symbols: 32 });
    }
  });

  test('symbols are roughly uniform (no symbol takes more than twice its share)', () => {
    const counts = new Map<string, number>();
    for (const char of codes.join('').replace(/-/g, '')) counts.set(char, (counts.get(char) ?? 0) + 1);
    const share = (1000 * 20) / 32; // 625; the standard deviation is about 25
    for (const symbol of ALPHABET) {
      expect(counts.get(symbol)).toBeGreaterThan(share / 2);
      expect(counts.get(symbol)).toBeLessThan(share * 2);
    }
  });

  test('what it generates is well formed and matches its own hash', () => {
    for (const code of codes.slice(0, 50)) {
      expect(isWellFormedRecoveryCode(code)).toBe(true);
      expect(recoveryCodeMatches(code, hashRecoveryCode(code))).toBe(true);
    }
  });
});

describe('typing the code back', () => {
  const code = 'ABCDE-FGH23-JK4LM-N5P67';

  test.each([
    ['as shown', 'ABCDE-FGH23-JK4LM-N5P67'],
    ['lowercase', 'abcde-fgh23-jk4lm-n5p67'],
    ['mixed case', 'aBcDe-FgH23-jK4lM-n5P67'],
    ['without dashes', 'ABCDEFGH23JK4LMN5P67'],
    ['spaces instead of dashes', 'ABCDE FGH23 JK4LM N5P67'],
    ['surrounding whitespace', '  ABCDE-FGH23-JK4LM-N5P67\n'],
    ['tabs and extra dashes', 'ABCDE--FGH23\tJK4LM - N5P67'],
    ['other grouping', 'ABCD-EFGH-23JK-4LMN-5P67'],
  ])('%s (%j) normalises to the code and matches its hash', (_label, typed) => {
    expect(normaliseRecoveryCode(typed)).toBe('ABCDEFGH23JK4LMN5P67');
    expect(isWellFormedRecoveryCode(typed)).toBe(true);
    expect(recoveryCodeMatches(typed, hashRecoveryCode(code))).toBe(true);
    // and the hash does not depend on how the code was typed
    expect(hashRecoveryCode(typed)).toBe(hashRecoveryCode(code));
  });
});

describe('isWellFormedRecoveryCode refuses', () => {
  test.each([
    ['empty', ''],
    ['only separators', ' - - - '],
    ['19 characters', 'ABCDE-FGH23-JK4LM-N5P6'],
    ['21 characters', 'ABCDE-FGH23-JK4LM-N5P67A'],
    ['the digit 0 (not base32)', 'ABCDE-FGH23-JK4LM-N5P60'],
    ['the digit 1', 'ABCDE-FGH23-JK4LM-N5P61'],
    ['the digit 8', 'ABCDE-FGH23-JK4LM-N5P68'],
    ['the digit 9', 'ABCDE-FGH23-JK4LM-N5P69'],
    ['padding', 'ABCDE-FGH23-JK4LM-N5P6='],
    ['punctuation', 'ABCDE.FGH23.JK4LM.N5P67'],
    ['underscore', 'ABCDE_FGH23_JK4LM_N5P67'],
    ['a NUL byte', 'ABCDE-FGH23-JK4LM-N5P6\u0000'],
    ['a NUL byte added', 'ABCDE-FGH23-JK4LM-N5P67\u0000'],
    ['an accented letter', 'ABCDE-FGH23-JK4LM-N5P6É'],
    ['fullwidth letters', 'ＡＢＣＤＥ-FGH23-JK4LM-N5P67'],
    ['Arabic-Indic digits', 'ABCDE-FGH٢٣-JK4LM-N5P67'],
    ['a TOTP code', '123456'],
    ['a UUID', '6f1c2b7e-3d4a-4b8e-9f00-1a2b3c4d5e6f'],
    ['a 1 kB string', 'A'.repeat(1000)],
    ['two codes', 'ABCDE-FGH23-JK4LM-N5P67 ABCDE-FGH23-JK4LM-N5P67'],
  ])('%s', (_label, input) => {
    expect(isWellFormedRecoveryCode(input)).toBe(false);
  });
});

describe('the stored hash', () => {
  const code = newRecoveryCode();
  const stored = hashRecoveryCode(code);

  test('is a SHA-256 hex digest of the normalised code, not the code', () => {
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).toBe(createHash('sha256').update(code.replace(/-/g, '')).digest('hex'));
    for (const form of [code, code.replace(/-/g, ''), code.toLowerCase()]) {
      expect(stored).not.toContain(form);
      expect(stored.toUpperCase()).not.toContain(form.toUpperCase());
    }
  });

  test('is the same for the same code and differs between codes', () => {
    expect(hashRecoveryCode(code)).toBe(stored);
    expect(hashRecoveryCode(newRecoveryCode())).not.toBe(stored);
  });

  test('only the right code matches', () => {
    expect(recoveryCodeMatches(code, stored)).toBe(true);
    expect(recoveryCodeMatches(newRecoveryCode(), stored)).toBe(false);

    // one character changed, at each position
    const compact = code.replace(/-/g, '');
    for (let i = 0; i < compact.length; i += 1) {
      const other = ALPHABET[(ALPHABET.indexOf(compact[i]!) + 1) % 32]!;
      const altered = compact.slice(0, i) + other + compact.slice(i + 1);
      expect(recoveryCodeMatches(altered, stored)).toBe(false);
    }
    // a prefix, the code twice, and the empty string
    expect(recoveryCodeMatches(compact.slice(0, 19), stored)).toBe(false);
    expect(recoveryCodeMatches(compact + compact, stored)).toBe(false);
    expect(recoveryCodeMatches('', stored)).toBe(false);
  });

  test('the hash itself is not accepted as the code', () => {
    expect(recoveryCodeMatches(stored, stored)).toBe(false);
  });

  test('a damaged or empty stored hash never matches and does not throw', () => {
    expect(recoveryCodeMatches(code, '')).toBe(false);
    expect(recoveryCodeMatches(code, stored.slice(0, 63))).toBe(false);
    expect(recoveryCodeMatches(code, stored.slice(0, 62))).toBe(false);
    expect(recoveryCodeMatches(code, `${stored}00`)).toBe(false);
    expect(recoveryCodeMatches(code, 'z'.repeat(64))).toBe(false);
    expect(recoveryCodeMatches(code, stored.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBe(false);
  });
});
