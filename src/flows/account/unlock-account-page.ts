import { verifyPassword } from '../../factors/password.js';
import type { Account } from '../../stores/accounts.js';
import type { AccountPageState } from '../../stores/account-page-state.js';
import type { FlowDependencies } from '../dependencies.js';

export type UnlockOutcome = { result: 'unlocked' } | { result: 'wrong_password' } | { result: 'locked'; seconds: number };

/**
 * docs/rules.md, rules 6 and 9: "Ontgrendel" — the password again before 2FA settings change,
 * valid 10 minutes for this session. Wrong passwords count toward the account's lockout like any
 * other.
 */
export async function unlockAccountPage(
  deps: Pick<FlowDependencies, 'lockout' | 'audit'> & { pageState: AccountPageState },
  input: { account: Account; sessionUid: string; password: string; ip: string },
): Promise<UnlockOutcome> {
  const { account } = input;
  const lockedFor = await deps.lockout.lockedFor(account.id);
  if (lockedFor > 0) return { result: 'locked', seconds: lockedFor };
  if (!(await verifyPassword(account.passwordHash, input.password))) {
    const { lockedForSeconds } = await deps.lockout.registerFailure(account.id);
    await deps.audit.record({ type: 'account_page.unlock_failed', tenantId: account.tenantId, accountId: account.id, actor: `account:${account.id}`, ip: input.ip });
    return lockedForSeconds > 0 ? { result: 'locked', seconds: lockedForSeconds } : { result: 'wrong_password' };
  }
  await deps.pageState.unlock(input.sessionUid, account.id);
  return { result: 'unlocked' };
}
