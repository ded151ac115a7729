import { twoFactorRequirement, type RequiredBy } from '../../policy/second-factor.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { removeSecondFactor } from '../remove-second-factor.js';
import type { Locale } from '../../locale.js';

/**
 * docs/rules.md, rule 9: disable from the account page — refused while 2FA is required for the
 * account (the reason is returned for the screen); otherwise secret, recovery code and remembered
 * browsers go, and every other session of the account ends.
 */
export async function disableTwoFactor(
  deps: FlowDependencies,
  input: { account: Account; tenant: Tenant; sessionUid: string; ip: string; locale: Locale },
): Promise<{ disabled: true } | { disabled: false; requiredBy: RequiredBy }> {
  const requirement = twoFactorRequirement(input.account.pool, input.tenant.policy, input.account.twoFactorRequired);
  if (requirement.required) return { disabled: false, requiredBy: requirement.requiredBy };
  await removeSecondFactor(deps, {
    account: input.account,
    event: 'two_factor.disabled',
    mail: 'two_factor_disabled',
    actor: `account:${input.account.id}`,
    ip: input.ip,
    locale: input.locale,
    keepSessionUid: input.sessionUid,
    endSessions: true,
  });
  return { disabled: true };
}
