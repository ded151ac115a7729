import { describe, expect, test } from '@jest/globals';
import { FAILURE_WINDOW_SECONDS, MAX_CODE_ATTEMPTS_PER_CHALLENGE, lockSecondsAfter } from '../../src/policy/lockout.js';
import { decideAfterPassword, twoFactorRequirement, type LoginDecision, type LoginSituation } from '../../src/policy/second-factor.js';
import { withDefaults, type Pool } from '../../src/policy/tenant-policy.js';

/**
 * The pure rules about the second factor (docs/rules.md: rules 2, 3, 5, 7, 11; § What a login
 * proves, the acr step-up; § Security bar, lockout).
 */

describe('twoFactorRequirement: tenant.require_two_factor_for_all_staff OR account.two_factor_required, staff only', () => {
  // [pool, tenant flag, account flag, required, requiredBy]
  test.each<[Pool, boolean, boolean, boolean, string]>([
    ['staff', false, false, false, 'none'], // rule 2: optional by default
    ['staff', false, true, true, 'account'], // rule 3: a key_user requires it for one user
    ['staff', true, false, true, 'tenant'], // rule 3: a coop_admin requires it for all staff
    ['staff', true, true, true, 'tenant'], // both: the tenant rule is the one that cannot be lifted per account
    ['portal', false, false, false, 'none'], // rule 5: portal users decide for themselves
    ['portal', false, true, false, 'none'],
    ['portal', true, false, false, 'none'],
    ['portal', true, true, false, 'none'],
  ])('%s, tenant flag %s, account flag %s → required %s (by %s)', (pool, tenantFlag, accountFlag, required, requiredBy) => {
    const policy = withDefaults({ require_two_factor_for_all_staff: tenantFlag });
    expect(twoFactorRequirement(pool, policy, accountFlag)).toEqual({ required, requiredBy });
  });

  test('the other policy fields do not influence the requirement', () => {
    const policy = withDefaults({
      require_two_factor_for_all_staff: false,
      remember_two_factor_hours: { staff: 0, portal: 0 },
      forget_two_factor_on_logout: false,
      totp_issuer: { staff: 'X', portal: 'Y' },
    });
    expect(twoFactorRequirement('staff', policy, false)).toEqual({ required: false, requiredBy: 'none' });
    expect(twoFactorRequirement('staff', policy, true)).toEqual({ required: true, requiredBy: 'account' });
  });

  test('an unknown pool is treated like portal (never required), not like staff', () => {
    const policy = withDefaults({ require_two_factor_for_all_staff: true });
    expect(twoFactorRequirement('Staff' as Pool, policy, true)).toEqual({ required: false, requiredBy: 'none' });
  });
});

describe('decideAfterPassword: the full table', () => {
  const T = true;
  const F = false;
  /*
   * Every combination of the five inputs. Rows marked * have twoFactorRequested without
   * freshSecondFactorRequested; the login flow never produces them (chooseSecondStep derives
   * fresh = twoFactorRequested || max_age given), and the function decides on `fresh` alone.
   */
  // [enrolled, required, remembered, twoFactorRequested, freshSecondFactorRequested, next, reason]
  const table: [boolean, boolean, boolean, boolean, boolean, LoginDecision['next'], LoginDecision['reason']][] = [
    // not enrolled, not required: password alone, unless the client asked for 2FA (then enrollment)
    [F, F, F, F, F, 'done', 'two_factor_not_enabled'],
    [F, F, F, F, T, 'done', 'two_factor_not_enabled'], // max_age alone: a fresh password is enough
    [F, F, F, T, F, 'enroll', 'two_factor_requested'], // *
    [F, F, F, T, T, 'enroll', 'two_factor_requested'],
    [F, F, T, F, F, 'done', 'two_factor_not_enabled'],
    [F, F, T, F, T, 'done', 'two_factor_not_enabled'],
    [F, F, T, T, F, 'enroll', 'two_factor_requested'], // *
    [F, F, T, T, T, 'enroll', 'two_factor_requested'],
    // not enrolled, required: always enrollment (rule 7: it cannot be skipped), remembered or not
    [F, T, F, F, F, 'enroll', 'two_factor_required'],
    [F, T, F, F, T, 'enroll', 'two_factor_required'],
    [F, T, F, T, F, 'enroll', 'two_factor_required'], // *
    [F, T, F, T, T, 'enroll', 'two_factor_required'],
    [F, T, T, F, F, 'enroll', 'two_factor_required'],
    [F, T, T, F, T, 'enroll', 'two_factor_required'],
    [F, T, T, T, F, 'enroll', 'two_factor_required'], // *
    [F, T, T, T, T, 'enroll', 'two_factor_required'],
    // enrolled, not required: the code unless remembered; a fresh code when the client asks for one
    [T, F, F, F, F, 'challenge', 'two_factor_enabled'],
    [T, F, F, F, T, 'challenge', 'fresh_code_requested'],
    [T, F, F, T, F, 'challenge', 'two_factor_enabled'], // *
    [T, F, F, T, T, 'challenge', 'fresh_code_requested'],
    [T, F, T, F, F, 'done', 'browser_remembered'], // rule 11
    [T, F, T, F, T, 'challenge', 'fresh_code_requested'], // step-up: a remembrance is not a fresh code
    [T, F, T, T, F, 'done', 'browser_remembered'], // *
    [T, F, T, T, T, 'challenge', 'fresh_code_requested'],
    // enrolled, required: the same (a remembered browser also counts for required accounts)
    [T, T, F, F, F, 'challenge', 'two_factor_enabled'],
    [T, T, F, F, T, 'challenge', 'fresh_code_requested'],
    [T, T, F, T, F, 'challenge', 'two_factor_enabled'], // *
    [T, T, F, T, T, 'challenge', 'fresh_code_requested'],
    [T, T, T, F, F, 'done', 'browser_remembered'],
    [T, T, T, F, T, 'challenge', 'fresh_code_requested'],
    [T, T, T, T, F, 'done', 'browser_remembered'], // *
    [T, T, T, T, T, 'challenge', 'fresh_code_requested'],
  ];

  test('the table covers all 32 combinations exactly once', () => {
    const keys = new Set(table.map((row) => row.slice(0, 5).join()));
    expect(keys.size).toBe(32);
    expect(table).toHaveLength(32);
  });

  test.each(table)(
    'enrolled %s, required %s, remembered %s, 2fa requested %s, fresh requested %s → %s (%s)',
    (enrolled, required, remembered, twoFactorRequested, freshSecondFactorRequested, next, reason) => {
      const situation: LoginSituation = { enrolled, required, remembered, twoFactorRequested, freshSecondFactorRequested };
      expect(decideAfterPassword(situation)).toEqual({ next, reason });
    },
  );

  // The same rules stated as invariants over all combinations, so a wrong row in the table above
  // and a wrong branch in the code would have to agree to go unnoticed.
  const all: LoginSituation[] = [];
  for (let bits = 0; bits < 32; bits += 1) {
    const [enrolled, required, remembered, twoFactorRequested, freshSecondFactorRequested] = [0, 1, 2, 3, 4].map((i) => Boolean(bits & (1 << i))) as [
      boolean,
      boolean,
      boolean,
      boolean,
      boolean,
    ];
    all.push({ enrolled, required, remembered, twoFactorRequested, freshSecondFactorRequested });
  }

  test('a required account without a second factor is never let through (rule 7)', () => {
    for (const s of all.filter((s) => s.required && !s.enrolled)) expect(decideAfterPassword(s)).toEqual({ next: 'enroll', reason: 'two_factor_required' });
  });

  test('an enrolled account is only let through without a code when remembered and no fresh code was asked', () => {
    for (const s of all.filter((s) => s.enrolled)) {
      const decision = decideAfterPassword(s);
      expect(decision.next === 'done').toBe(s.remembered && !s.freshSecondFactorRequested);
      expect(decision.next).not.toBe('enroll');
    }
  });

  test('an enrolled account is never sent to enrollment, a not-enrolled one never to a challenge', () => {
    for (const s of all) {
      const { next } = decideAfterPassword(s);
      if (s.enrolled) expect(next).not.toBe('enroll');
      else expect(next).not.toBe('challenge');
    }
  });

  test('remembered has no effect on an account without a second factor', () => {
    for (const s of all.filter((s) => !s.enrolled)) {
      expect(decideAfterPassword({ ...s, remembered: true })).toEqual(decideAfterPassword({ ...s, remembered: false }));
    }
  });
});

describe('lockSecondsAfter: the 5th failure locks 15 minutes, the 10th and every 5th after it an hour', () => {
  test.each([
    [5, 900],
    [10, 3600],
    [15, 3600],
    [20, 3600],
    [25, 3600],
    [100, 3600],
  ])('failure %d → %d s', (failures, seconds) => {
    expect(lockSecondsAfter(failures)).toBe(seconds);
  });

  test('every other count (0–40, not a multiple of 5 from 5 on) locks nothing', () => {
    for (let failures = 0; failures <= 40; failures += 1) {
      if (failures >= 5 && failures % 5 === 0) continue;
      expect({ failures, seconds: lockSecondsAfter(failures) }).toEqual({ failures, seconds: 0 });
    }
  });

  test('nonsense counts lock nothing rather than throwing', () => {
    for (const failures of [-5, -1, Number.NaN, 4.5]) expect(lockSecondsAfter(failures)).toBe(0);
  });

  test('never a permanent lock: no count locks longer than an hour', () => {
    for (let failures = 0; failures <= 1000; failures += 1) expect(lockSecondsAfter(failures)).toBeLessThanOrEqual(3600);
  });

  test('the failure window outlasts the longest lock, and a challenge allows 5 wrong codes', () => {
    expect(FAILURE_WINDOW_SECONDS).toBeGreaterThanOrEqual(3600);
    expect(MAX_CODE_ATTEMPTS_PER_CHALLENGE).toBe(5);
  });
});
