import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';
import type { Locale } from '../../locale.js';

/**
 * A wrong password, code or recovery code for an account: counted toward its lockout (shared by
 * every instance); when this failure locks it, an audit event and a mail to the account holder.
 */
export async function registerAccountFailure(
  deps: Pick<FlowDependencies, 'lockout' | 'audit' | 'mailer' | 'tenants'>,
  account: Account,
  ip: string,
  locale: Locale = 'nl',
): Promise<{ failures: number; lockedForSeconds: number }> {
  const result = await deps.lockout.registerFailure(account.id);
  if (result.lockedForSeconds > 0) {
    await deps.audit.record({
      type: 'account.locked',
      tenantId: account.tenantId,
      accountId: account.id,
      actor: 'system',
      ip,
      details: { failures: result.failures, seconds: result.lockedForSeconds },
    });
    await notify(deps, account, 'account_locked', locale, { minutes: String(Math.round(result.lockedForSeconds / 60)) });
  }
  return result;
}
