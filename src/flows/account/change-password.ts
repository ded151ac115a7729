import { verifyPassword } from '../../factors/password.js';
import type { PasswordProblem } from '../../policy/password-rules.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { registerAccountFailure } from '../login/register-failure.js';
import { newPasswordProblem, setNewPassword } from '../password/set-new-password.js';

export type ChangeOutcome = { result: 'changed' } | { result: 'wrong_password' } | { result: 'locked'; seconds: number } | { result: 'rejected'; problem: PasswordProblem };

/** The account page's "Wachtwoord wijzigen": the current password, then the rules; other sessions end. */
export async function changePassword(
  deps: FlowDependencies,
  input: { account: Account; tenant: Tenant; currentPassword: string; newPassword: string; sessionUid: string; ip: string; locale: 'nl' | 'en' },
): Promise<ChangeOutcome> {
  const { account } = input;
  const lockedFor = await deps.lockout.lockedFor(account.id);
  if (lockedFor > 0) return { result: 'locked', seconds: lockedFor };
  if (!(await verifyPassword(account.passwordHash, input.currentPassword))) {
    const { lockedForSeconds } = await registerAccountFailure(deps, account, input.ip, input.locale);
    return lockedForSeconds > 0 ? { result: 'locked', seconds: lockedForSeconds } : { result: 'wrong_password' };
  }
  const problem = await newPasswordProblem(account, input.tenant, input.newPassword);
  if (problem) return { result: 'rejected', problem };
  await setNewPassword(deps, {
    account,
    password: input.newPassword,
    event: 'password.changed',
    actor: `account:${account.id}`,
    ip: input.ip,
    locale: input.locale,
    keepSessionUid: input.sessionUid,
  });
  return { result: 'changed' };
}
