import { describe, expect, test } from '@jest/globals';
import { commonPasswordCheck } from '../../src/factors/common-passwords.js';
import { passwordProblem } from '../../src/policy/password-rules.js';

describe('the list of common passwords', () => {
  test('callers that ask for it at the same moment, before it is loaded, both get the whole list', async () => {
    const [a, b] = await Promise.all([commonPasswordCheck(), commonPasswordCheck()]);
    expect(a('welkom')).toBe(true);
    expect(b('welkom')).toBe(true);
    expect([a('iloveyou'), b('iloveyou'), a('nietgangbaar-7Q'), b('nietgangbaar-7Q')]).toEqual([true, true, false, false]);
  });

  test("refuses zxcvbn's common passwords and the Dutch ones it misses, in any case", async () => {
    const isCommon = await commonPasswordCheck();
    for (const password of ['password', '123456', 'qwerty', 'PASSWORD', 'wachtwoord123', 'Welkom2026', 'zonnepanelen', 'Econobis1']) {
      expect([password, isCommon(password)]).toEqual([password, true]);
    }
    for (const password of ['correct horse battery staple', 'zonnepaneel-op-het-dak-van-de-schuur', 'wachtwoord1234567']) {
      expect([password, isCommon(password)]).toEqual([password, false]);
    }
  });
});

describe('password rules (NIST 800-63B)', () => {
  const rules = { minLength: 8, maxLength: 256, email: 'jan.devries@example.nl', isCommon: (p: string) => p === 'welkom123' };

  test('length counts characters, not UTF-16 units, against the larger of 8 and the tenant minimum', () => {
    expect(passwordProblem('kort', rules)).toBe('too_short');
    expect(passwordProblem('🔑🔑🔑🔑🔑🔑🔑', rules)).toBe('too_short'); // 7 characters, 14 UTF-16 units
    expect(passwordProblem('🔑🔑🔑🔑🔑🔑🔑🔑', rules)).toBeUndefined();
    expect(passwordProblem('eightchr', { ...rules, minLength: 4 })).toBeUndefined();
    expect(passwordProblem('elevenchars', { ...rules, minLength: 12 })).toBe('too_short');
    expect(passwordProblem('x'.repeat(256), rules)).toBeUndefined();
    expect(passwordProblem('x'.repeat(257), rules)).toBe('too_long');
  });

  test('no composition rules; common passwords and the e-mail address (or its local part) refused', () => {
    expect(passwordProblem('alleen kleine letters', rules)).toBeUndefined();
    expect(passwordProblem('welkom123', rules)).toBe('common');
    expect(passwordProblem('JAN.DEVRIES@EXAMPLE.NL', rules)).toBe('contains_email');
    expect(passwordProblem('Jan.DeVries', { ...rules, minLength: 8 })).toBe('contains_email');
    expect(passwordProblem('jan.devries-2026', rules)).toBeUndefined();
  });
});
