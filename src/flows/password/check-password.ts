import { verifyPassword } from '../../factors/password.js';
import type { Locale } from '../../locale.js';
import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { registerAccountFailure } from '../login/register-failure.js';

export type PasswordCheck =
  | { result: 'valid' }
  /** locked before this attempt (nothing counted); `by` says whose lock */
  | { result: 'locked'; by: 'account' | 'ip'; seconds: number }
  /** counted toward the account's lockout; `lockedForSeconds` > 0 when this very failure locked it */
  | { result: 'wrong'; lockedForSeconds: number };

/**
 * Every password check of a known person — the login, the account page's unlock, the password
 * change — under the account's lockout (docs/rules.md § Security bar): refused while locked (the
 * right password too), and a wrong one counted, so a lock caused anywhere writes the same
 * `account.locked` event and sends the same mail. The lock is read while the hash is verified,
 * so a locked, an unknown (`account` undefined) and a known account cost the same work.
 * `ipLockedFor`: the login's lock on the address, which refuses the attempt the same way.
 */
export async function checkPasswordUnderLockout(
  deps: Pick<FlowDependencies, 'lockout' | 'audit' | 'mailer' | 'tenants'>,
  input: { account: Account | undefined; password: string; ip: string; locale?: Locale; ipLockedFor?: number },
): Promise<PasswordCheck> {
  const { account } = input;
  const [accountLockedFor, valid] = await Promise.all([account ? deps.lockout.lockedFor(account.id) : 0, verifyPassword(account?.passwordHash, input.password)]);
  if (input.ipLockedFor && input.ipLockedFor > 0) return { result: 'locked', by: 'ip', seconds: input.ipLockedFor };
  if (accountLockedFor > 0) return { result: 'locked', by: 'account', seconds: accountLockedFor };
  if (valid) return { result: 'valid' };
  if (!account) return { result: 'wrong', lockedForSeconds: 0 };
  const { lockedForSeconds } = await registerAccountFailure(deps, account, input.ip, input.locale);
  return { result: 'wrong', lockedForSeconds };
}
