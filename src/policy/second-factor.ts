import type { Pool, TenantPolicy } from './tenant-policy.js';

/**
 * The rules that decide about the second factor (docs/rules.md), as plain functions: login, the
 * account page and the management API all ask here.
 */
export type RequiredBy = 'tenant' | 'account' | 'none';

/** Rule 3 and 5: staff may be required (tenant-wide or per account); portal users never. */
export function twoFactorRequirement(pool: Pool, policy: TenantPolicy, accountFlag: boolean): { required: boolean; requiredBy: RequiredBy } {
  if (pool !== 'staff') return { required: false, requiredBy: 'none' };
  if (policy.require_two_factor_for_all_staff) return { required: true, requiredBy: 'tenant' };
  if (accountFlag) return { required: true, requiredBy: 'account' };
  return { required: false, requiredBy: 'none' };
}

export interface LoginSituation {
  /** a confirmed second factor exists (2FA enabled) */
  enrolled: boolean;
  required: boolean;
  /** this browser is remembered for this account (false when the store could not say) */
  remembered: boolean;
  /** the client asked for acr urn:sleutel:acr:2fa, or max_age forced a fresh authentication */
  freshSecondFactorRequested: boolean;
  /** the client asked for acr urn:sleutel:acr:2fa */
  twoFactorRequested: boolean;
}

export type LoginDecision =
  | { next: 'done'; reason: 'two_factor_not_enabled' | 'browser_remembered' }
  | { next: 'challenge'; reason: 'two_factor_enabled' | 'fresh_code_requested' }
  | { next: 'enroll'; reason: 'two_factor_required' | 'two_factor_requested' };

/** Rule 7 and § What a login proves: after the password, what comes next. */
export function decideAfterPassword(s: LoginSituation): LoginDecision {
  if (!s.enrolled) {
    if (s.required) return { next: 'enroll', reason: 'two_factor_required' };
    if (s.twoFactorRequested) return { next: 'enroll', reason: 'two_factor_requested' };
    return { next: 'done', reason: 'two_factor_not_enabled' };
  }
  if (s.freshSecondFactorRequested) return { next: 'challenge', reason: 'fresh_code_requested' };
  if (s.remembered) return { next: 'done', reason: 'browser_remembered' };
  return { next: 'challenge', reason: 'two_factor_enabled' };
}
