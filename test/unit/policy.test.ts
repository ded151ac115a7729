import { describe, expect, test } from '@jest/globals';
import { ACR_PASSWORD, ACR_TWO_FACTOR, authenticationLevel } from '../../src/policy/authentication-level.js';
import { DEFAULT_POLICY, totpIssuerLabel, withDefaults } from '../../src/policy/tenant-policy.js';

describe('authentication level (acr, amr)', () => {
  test.each([
    [{ password: true }, ACR_PASSWORD, ['pwd']],
    [{ password: true, secondFactors: ['otp'] as const }, ACR_TWO_FACTOR, ['pwd', 'otp']],
    [{ password: true, secondFactors: ['rec'] as const }, ACR_TWO_FACTOR, ['pwd', 'rec']],
    // a remembered browser satisfies the second factor without a code entered now
    [{ password: true, remembered: true }, ACR_TWO_FACTOR, ['pwd']],
    // a second factor without the password is not two factors
    [{ password: false, secondFactors: ['otp'] as const }, ACR_PASSWORD, ['otp']],
  ])('%j → %s %j', (factors, acr, amr) => {
    expect(authenticationLevel(factors)).toEqual({ acr, amr });
  });
});

describe('tenant policy', () => {
  test('defaults: 2FA optional, remembered 24 h per pool, forgotten on logout', () => {
    expect(withDefaults(undefined)).toEqual(DEFAULT_POLICY);
    expect(DEFAULT_POLICY).toMatchObject({
      require_two_factor_for_all_staff: false,
      remember_two_factor_hours: { staff: 24, portal: 24 },
      forget_two_factor_on_logout: true,
    });
  });

  test('a stored policy keeps what it sets and takes defaults for the rest', () => {
    const policy = withDefaults({ require_two_factor_for_all_staff: true, remember_two_factor_hours: { staff: 0 } as never });
    expect(policy.require_two_factor_for_all_staff).toBe(true);
    expect(policy.remember_two_factor_hours).toEqual({ staff: 0, portal: 24 });
    expect(policy.forget_two_factor_on_logout).toBe(true);
  });

  test('issuer labels for the authenticator app', () => {
    const policy = withDefaults({});
    expect(totpIssuerLabel(policy, 'staff', 'Zon op Zuid')).toBe('Econobis Zon op Zuid');
    expect(totpIssuerLabel(policy, 'portal', 'Zon op Zuid')).toBe('Login Zon op Zuid');
    expect(totpIssuerLabel(withDefaults({ totp_issuer: { portal: 'Mijn Zon' } }), 'portal', 'Zon op Zuid')).toBe('Mijn Zon');
  });
});
