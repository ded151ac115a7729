import type { Locale } from '../../locale.js';
import type { PasswordProblem } from '../../policy/password-rules.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { checkPasswordUnderLockout } from '../password/check-password.js';
import { newPasswordProblem, setNewPassword } from '../password/set-new-password.js';

export type ChangeOutcome = { result: 'changed' } | { result: 'wrong_password' } | { result: 'locked'; seconds: number } | { result: 'rejected'; problem: PasswordProblem };

/** The account page's "Wachtwoord wijzigen": the current password, then the rules; other sessions end. */
export async function changePassword(
  deps: FlowDependencies,
  input: { account: Account; tenant: Tenant; currentPassword: string; newPassword: string; sessionUid: string; ip: string; locale: Locale },
): Promise<ChangeOutcome> {
  const { account } = input;
  const check = await checkPasswordUnderLockout(deps, { account, password: input.currentPassword, ip: input.ip, locale: input.locale });
  if (check.result === 'locked') return { result: 'locked', seconds: check.seconds };
  if (check.result === 'wrong') return check.lockedForSeconds > 0 ? { result: 'locked', seconds: check.lockedForSeconds } : { result: 'wrong_password' };
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
