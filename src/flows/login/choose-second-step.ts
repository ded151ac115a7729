import { decideAfterPassword, twoFactorRequirement, type LoginDecision } from '../../policy/second-factor.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';

/**
 * After the password (or, for a step-up, the session): done, a code, or enrollment. A remembrance
 * that cannot be read (store down) counts as none, so the code is asked: fail closed.
 */
export async function chooseSecondStep(
  deps: Pick<FlowDependencies, 'secondFactors' | 'remembrances'>,
  input: { account: Account; tenant: Tenant; browserToken?: string; twoFactorRequested: boolean; maxAgeGiven: boolean },
): Promise<LoginDecision & { required: boolean }> {
  const { required } = twoFactorRequirement(input.account.pool, input.tenant.policy, input.account.twoFactorRequired);
  const hours = input.tenant.policy.remember_two_factor_hours[input.account.pool];
  // both at once (the remembrance only counts for an enrolled account)
  const [enrolled, rememberedBrowser] = await Promise.all([
    deps.secondFactors.isEnabled(input.account.id),
    deps.remembrances.isRemembered(input.account.id, input.browserToken, hours).catch(() => false),
  ]);
  const remembered = enrolled && rememberedBrowser;
  const decision = decideAfterPassword({
    enrolled,
    required,
    remembered,
    twoFactorRequested: input.twoFactorRequested,
    freshSecondFactorRequested: input.twoFactorRequested || input.maxAgeGiven,
  });
  return { ...decision, required };
}
