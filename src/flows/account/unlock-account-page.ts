import type { Locale } from '../../locale.js';
import type { Account } from '../../stores/accounts.js';
import type { AccountPageState } from '../../stores/account-page-state.js';
import type { FlowDependencies } from '../dependencies.js';
import { checkPasswordUnderLockout } from '../password/check-password.js';

export type UnlockOutcome = { result: 'unlocked' } | { result: 'wrong_password' } | { result: 'locked'; seconds: number };

/**
 * docs/rules.md, rules 6 and 9: "Ontgrendel" — the password again before 2FA settings change,
 * valid 10 minutes for this session. Wrong passwords count toward the account's lockout like any
 * other, and a lock they cause is announced like any other (audit event, mail).
 */
export async function unlockAccountPage(
  deps: Pick<FlowDependencies, 'lockout' | 'audit' | 'mailer' | 'tenants'> & { pageState: AccountPageState },
  input: { account: Account; sessionUid: string; password: string; ip: string; locale: Locale },
): Promise<UnlockOutcome> {
  const { account } = input;
  const check = await checkPasswordUnderLockout(deps, { account, password: input.password, ip: input.ip, locale: input.locale });
  if (check.result === 'locked') return { result: 'locked', seconds: check.seconds };
  if (check.result === 'wrong') {
    await deps.audit.record({ type: 'account_page.unlock_failed', tenantId: account.tenantId, accountId: account.id, actor: `account:${account.id}`, ip: input.ip });
    return check.lockedForSeconds > 0 ? { result: 'locked', seconds: check.lockedForSeconds } : { result: 'wrong_password' };
  }
  await deps.pageState.unlock(input.sessionUid, account.id);
  return { result: 'unlocked' };
}
